import Foundation

/// An exclusive lock on a directory (`flock` on `.NAME.lock` beside it, so that it outlives the
/// directory being replaced by the run's finished output), held while a `tune` run writes it:
/// a second run on the same --out is refused instead of mixing its files with the first's, and a
/// batch restarted after `kill -9` can tell a run still going from one that died. The kernel drops
/// the lock when its process ends, however it ends.
public final class DirectoryLock: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// The lock file of `directory`: `.NAME.lock` in its parent.
    public static func lockPath(of directory: String) -> String {
        RunDirectory(path: directory).besidePath(suffix: "lock")
    }

    /// Takes the lock on `directory` (its parent created if missing) without waiting.
    public init(directory: String) throws(ExperimentsError) {
        path = Self.lockPath(of: directory)
        let parent = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw .cannotLock(path: path, reason: error.localizedDescription)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotLock(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw .directoryInUse(directory: directory, pid: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")
        }
        descriptor = fd
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    /// Whether some process holds the lock on `directory` now.
    public static func isHeld(directory: String) -> Bool {
        let fd = open(lockPath(of: directory), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }

    deinit { close(descriptor) }
}
