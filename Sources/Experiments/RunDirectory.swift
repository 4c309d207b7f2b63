import CSystem
import Foundation
import Tuner

/// One `tune` run's directory, as a batch, a report or a plot sees it: `run.json` (the options it
/// was started with), `log.jsonl` (the search log, written as it goes) and `summary.json` (written last).
public struct RunDirectory: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    public var logPath: String { (path as NSString).appendingPathComponent("log.jsonl") }
    public var summaryPath: String { (path as NSString).appendingPathComponent("summary.json") }
    public var optionsPath: String { (path as NSString).appendingPathComponent("run.json") }

    /// The search log read back (a torn last line skipped with a warning).
    public func log() throws(TunerError) -> SearchLogFile { try SearchLogFile.read(path: logPath) }

    /// `.NAME.SUFFIX` beside the directory (absolute, so "out" and "./out" share it).
    func besidePath(suffix: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        let standard = (absolute as NSString).standardizingPath
        let name = (standard as NSString).lastPathComponent
        return ((standard as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".\(name).\(suffix)")
    }

    /// Where a run writes until it is complete (`.NAME.partial` beside the directory): the directory
    /// itself only ever holds a complete run's files, or the previous complete output.
    public var staging: RunDirectory { RunDirectory(path: besidePath(suffix: "partial")) }

    /// Whether the path is a directory (false when missing).
    public var exists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Puts the finished staging directory in place of this one in one step (an atomic exchange of
    /// the two, then the old output removed): a reader sees the old output or the new, never a mix.
    public func publish() throws(ExperimentsError) {
        let staged = staging.path
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            if mcutune_exchange_paths(staged, path) != 0 {
                // A file system without the exchange: two renames, the old kept until the new is in place.
                let old = besidePath(suffix: "old")
                try? fm.removeItem(atPath: old)
                guard rename(path, old) == 0, rename(staged, path) == 0 else {
                    throw .cannotWrite(path: path, reason: "cannot move the finished run into place: \(String(cString: strerror(errno)))")
                }
                try? fm.removeItem(atPath: old)
                return
            }
            try? fm.removeItem(atPath: staged)  // now the previous output
        } else {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { try? fm.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            guard rename(staged, path) == 0 else {
                throw .cannotWrite(path: path, reason: "cannot move the finished run into place: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// summary.json as a dictionary, if the run got that far.
    public func summary() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: summaryPath) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
