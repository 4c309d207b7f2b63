import Foundation
import Hardware
import Tuner

/// The runs that `tune report` and `tune plot` were given, read from any mix of run directories
/// (with `log.jsonl`), search logs, and batch directories (`manifest.jsonl`, `runs/<id>/log.jsonl`,
/// and maybe `peers.json`). A run is shown for whatever its log holds: a torn last line, a missing
/// summary or an unknown board becomes a warning, never a failure.
public struct RunCollection: Sendable {
    public var runs: [RunRecord] = []
    public var peers: [PeerResult] = []
    /// What was skipped or is incomplete, each naming its file.
    public var warnings: [String] = []
    /// Whether a batch directory was among the inputs.
    public var hasBatch = false

    public init(runs: [RunRecord] = [], peers: [PeerResult] = [], warnings: [String] = [], hasBatch: Bool = false) {
        self.runs = runs
        self.peers = peers
        self.warnings = warnings
        self.hasBatch = hasBatch
    }

    /// The clock of a board named in a log, for logs that do not carry `target_clock_hz`.
    public typealias ClockLookup = @Sendable (String) -> Int?

    /// Clocks from the bundled board descriptions (configs/targets), or none if they cannot be found.
    public static func bundledClocks() -> ClockLookup {
        let catalog = try? TargetCatalog.load(directory: BundledResources.locate().get().targetsDirectory)
        return { name in try? catalog?.target(named: name).clockHz }
    }

    /// Reads every path in order. Throws for a path that does not exist or is not a run, log or batch.
    public static func load(_ paths: [String], clock: ClockLookup = bundledClocks()) throws(ExperimentsError) -> RunCollection {
        var collection = RunCollection()
        for path in paths {
            var isDirectory: ObjCBool = false
            // A run that has not completed yet is still in its staging directory beside the path.
            let staged = RunDirectory(path: path).staging
            if !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: staged.logPath) {
                collection.add(try loadRunDirectory(staged.path, id: path, clock: clock))
                continue
            }
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .cannotRead(path: path, reason: "no such file or directory")
            }
            if !isDirectory.boolValue {
                collection.add(try loadLog(path, id: path, clock: clock))
            } else if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("log.jsonl")) {
                collection.add(try loadRunDirectory(path, id: path, clock: clock))
            } else if isBatch(path) {
                try collection.addBatch(path, clock: clock)
            } else {
                throw .notARun(path: path)
            }
            if isDirectory.boolValue {
                collection.peers += try PeerResult.load(path: (path as NSString).appendingPathComponent("peers.json"))
            }
        }
        return collection
    }

    private mutating func add(_ run: RunRecord) {
        warnings += run.warnings
        if run.logPath != nil && !run.isFinished && run.manifestState != "failed" {
            warnings.append("\(run.logPath ?? run.id): no summary line: an unfinished run (\(run.candidates.count) candidates so far)")
        }
        runs.append(run)
    }

    static func isBatch(_ path: String) -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        return fm.fileExists(atPath: (path as NSString).appendingPathComponent("manifest.jsonl"))
            || fm.fileExists(atPath: (path as NSString).appendingPathComponent("runs"), isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func loadRunDirectory(_ path: String, id: String, clock: ClockLookup) throws(ExperimentsError) -> RunRecord {
        let directory = RunDirectory(path: path)
        var run = try loadLog(directory.logPath, id: id, clock: clock)
        run.summaryFile = directory.summary().map(RunRecord.SummaryFile.init)
        return run
    }

    /// One search log. Throws when it cannot be read, or holds neither a header nor a candidate.
    static func loadLog(_ path: String, id: String, clock: ClockLookup) throws(ExperimentsError) -> RunRecord {
        guard let data = FileManager.default.contents(atPath: path) else { throw .cannotRead(path: path, reason: "not readable") }
        let text = String(decoding: data, as: UTF8.self)
        let log = SearchLogFile.parse(text, path: path)
        // A header an older (or newer) tool wrote may not decode; its fields are read one by one instead.
        let raw = log.header == nil ? rawHeader(text) : nil
        guard log.header != nil || raw != nil || !log.candidates.isEmpty else { throw .notARun(path: path) }
        var run = RunRecord(id: id)
        run.logPath = path
        run.candidates = log.candidates
        run.summary = log.summary
        if let h = log.header {
            run.model = h.model
            run.target = h.target
            run.strategy = h.strategy
            run.seed = h.seed
            run.budgetRAMBytes = h.budgetRAMBytes
            run.budgetFlashBytes = h.budgetFlashBytes
            run.floatValAccuracy = h.floatValAccuracy
            run.clockHz = h.targetClockHz
        } else if let raw {
            run.model = raw["model"] as? String
            run.target = raw["target"] as? String
            run.strategy = raw["strategy"] as? String
            run.seed = (raw["seed"] as? NSNumber)?.uint64Value
            run.budgetRAMBytes = (raw["budget_ram_bytes"] as? NSNumber)?.intValue
            run.budgetFlashBytes = (raw["budget_flash_bytes"] as? NSNumber)?.intValue
            run.floatValAccuracy = (raw["float_val_accuracy"] as? NSNumber)?.doubleValue
            run.clockHz = (raw["target_clock_hz"] as? NSNumber)?.intValue
        }
        if run.clockHz == nil, let target = run.target { run.clockHz = clock(target) }
        // A log from another version of the tool can have every line skipped: a few name the lines, one counts the rest.
        var warnings = Array(log.warnings.prefix(5))
        if log.warnings.count > 5 { warnings.append("\(path): \(log.warnings.count - 5) more lines skipped") }
        if run.clockHz == nil {
            warnings.append("\(path): the clock of target '\(run.target ?? "?")' is in neither the log nor configs/targets: its cycles are not shown as milliseconds")
        }
        run.warnings = warnings
        return run
    }

    private static func rawHeader(_ text: String) -> [String: Any]? {
        for line in text.split(separator: "\n") where line.contains("\"header\"") {
            if let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], object["type"] as? String == "header" {
                return object
            }
        }
        return nil
    }
}

// MARK: Batch directories

extension RunCollection {
    /// A batch's runs: every `runs/<id>/log.jsonl`, in id order, with the manifest's latest state and
    /// wall time for each; then the manifest's runs that have no log yet (pending, or failed early).
    mutating func addBatch(_ path: String, clock: ClockLookup) throws(ExperimentsError) {
        hasBatch = true
        let manifest = ManifestStates.read((path as NSString).appendingPathComponent("manifest.jsonl"))
        let runsDirectory = (path as NSString).appendingPathComponent("runs")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        // A run's directory appears when it completes; until then its files are in .ID.partial.
        let staged = Set(entries.filter { $0.hasPrefix(".") && $0.hasSuffix(".partial") }.map { String($0.dropFirst().dropLast(".partial".count)) })
        let ids = Set(entries.filter { !$0.hasPrefix(".") }).union(staged).sorted()
        var seen = Set<String>()
        for id in ids {
            var directory = (runsDirectory as NSString).appendingPathComponent(id)
            let finished = RunDirectory(path: directory)
            let finishedLog = (try? finished.log())?.summary
            if staged.contains(id), finishedLog == nil || finishedLog?.interrupted == true {
                directory = finished.staging.path  // being resumed, or stopped mid-search
            }
            guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("log.jsonl")) else { continue }
            var run = try Self.loadRunDirectory(directory, id: id, clock: clock)
            run.manifestState = manifest.states[id]?.state
            run.seconds = manifest.states[id]?.seconds
            seen.insert(id)
            if let entry = manifest.states[id], entry.state == "failed" {
                warnings.append("\(path): run \(id) failed" + ((entry.fields["error"] as? String).map { ": \($0)" } ?? ""))
            }
            add(run)
        }
        for id in manifest.order where !seen.contains(id) {
            guard let entry = manifest.states[id] else { continue }
            // What the run was comes from the options it was started with, if it got that far.
            var run = Self.fromOptions((runsDirectory as NSString).appendingPathComponent("\(id)/run.json"), id: id)
            run.manifestState = entry.state
            run.seconds = entry.seconds
            run.model = run.model ?? entry.fields["model"] as? String
            run.target = run.target ?? entry.fields["target"] as? String
            run.strategy = run.strategy ?? entry.fields["strategy"] as? String
            run.seed = run.seed ?? (entry.fields["seed"] as? NSNumber)?.uint64Value
            if entry.state == "failed" {
                warnings.append("\(path): run \(id) failed before writing a log" + ((entry.fields["error"] as? String).map { ": \($0)" } ?? ""))
            }
            runs.append(run)
        }
        if seen.isEmpty && manifest.order.isEmpty { warnings.append("\(path): a batch directory without runs yet") }
    }
}

extension RunCollection {
    /// A run known only by its `run.json` (the `tune` options it was started with): model, target,
    /// strategy, seed and RAM budget, as far as they are there.
    static func fromOptions(_ path: String, id: String) -> RunRecord {
        var run = RunRecord(id: id)
        guard let data = FileManager.default.contents(atPath: path),
              let arguments = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["arguments"] as? [String] else { return run }
        func value(_ option: String) -> String? {
            arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        run.model = value("--model").map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        run.target = value("--target")
        run.strategy = value("--strategy")
        run.seed = value("--seed").flatMap { UInt64($0) }
        run.budgetRAMBytes = value("--budget-ram").flatMap { Int($0) }
        return run
    }
}

/// The latest state of each run in a batch's `manifest.jsonl` (JSON Lines of
/// `{"type": "run", "id": ..., "state": "started|done|failed|interrupted", ...}`, `BatchManifest`);
/// only `type`, `id`, `state`, `error` and, on `done` lines, `seconds` are relied on, so that a
/// report reads a manifest of any version. Unreadable lines are passed over.
struct ManifestStates {
    struct Entry {
        var state: String
        var seconds: Double?
        /// The run's fields as its lines gave them, the later over the earlier.
        var fields: [String: Any]
    }

    var states: [String: Entry] = [:]
    /// Ids in order of first appearance.
    var order: [String] = []

    static func read(_ path: String) -> ManifestStates {
        var manifest = ManifestStates()
        guard let data = FileManager.default.contents(atPath: path) else { return manifest }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  object["type"] as? String == "run", let id = object["id"] as? String else { continue }
            var entry = manifest.states[id] ?? Entry(state: "pending", seconds: nil, fields: [:])
            if manifest.states[id] == nil { manifest.order.append(id) }
            entry.fields.merge(object) { _, new in new }
            if let state = object["state"] as? String { entry.state = state }
            if entry.state == "done", let seconds = (object["seconds"] as? NSNumber)?.doubleValue { entry.seconds = seconds }
            manifest.states[id] = entry
        }
        return manifest
    }
}
