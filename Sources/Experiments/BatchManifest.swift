import Foundation

/// The batch's record (`OUT/manifest.jsonl`): JSON Lines, only ever appended, one line per change of
/// a run's state (`started`, `done`, `failed`, `interrupted`), each written in one `write` under an
/// exclusive `flock`, so local workers and Slurm array tasks can append at once and a kill loses
/// no line that was written. A run's state is its last line's.
public struct BatchManifest: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public enum State: String, Sendable, Codable {
        case started, done, failed, interrupted
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var type = "run"
        public var id: String
        public var state: State
        /// Seconds since 1970 when this line was written.
        public var time: Double
        public var pid: Int32?
        /// Where it ran: "local" or "slurm JOB_TASK".
        public var worker: String?
        public var seconds: Double?
        public var error: String?
        public var exitStatus: Int32?
        /// Headline figures from the run's summary.json, for `--status` and reports.
        public var figures: [String: Double]?

        public init(id: String, state: State, pid: Int32? = nil, worker: String? = nil, seconds: Double? = nil, error: String? = nil,
                    exitStatus: Int32? = nil, figures: [String: Double]? = nil) {
            self.id = id
            self.state = state
            time = Date().timeIntervalSince1970
            self.pid = pid
            self.worker = worker
            self.seconds = seconds
            self.error = error
            self.exitStatus = exitStatus
            self.figures = figures
        }

        enum CodingKeys: String, CodingKey {
            case type, id, state, time, pid, worker, seconds, error, figures
            case exitStatus = "exit_status"
        }
    }

    public func append(_ entry: Entry) throws(ExperimentsError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(entry) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        let line = data + Data("\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Every entry, in order; lines that do not parse (a torn last line) are skipped and reported.
    public func entries() -> (entries: [Entry], warnings: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], []) }
        var entries: [Entry] = [], warnings: [String] = []
        let decoder = JSONDecoder()
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let entry = try? decoder.decode(Entry.self, from: Data(line.utf8)) else {
                warnings.append("\(path):\(number + 1): skipped a line that is not a manifest entry")
                continue
            }
            entries.append(entry)
        }
        return (entries, warnings)
    }

    /// Each run's latest entry.
    public func latest() -> [String: Entry] {
        var latest: [String: Entry] = [:]
        for entry in entries().entries { latest[entry.id] = entry }
        return latest
    }
}
