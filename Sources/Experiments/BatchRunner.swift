import Foundation
import Tuner

/// Runs a batch: each run is a `tune run` child process writing into OUT/runs/ID (what it prints in
/// OUT/runs/ID.log), at most `jobs` at once, each change of state appended to the manifest.
///
/// Restarted on the same OUT after any stop (Ctrl-C, `kill -9`, a reboot), it repeats no run the
/// manifest or the run's own files show finished, resumes each unfinished one from its log
/// (`tune --resume`), and waits for runs a killed batch left running (their directory's lock is
/// held) instead of starting them twice. A run that fails is recorded with its error and the batch
/// goes on.
public final class BatchRunner: @unchecked Sendable {
    public let config: BatchConfig
    public let directory: String
    public let executable: String
    public let manifest: BatchManifest

    public struct Progress: Sendable {
        public var total: Int
        public var done: Int
        public var failed: Int
        public var running: [String]
        /// Estimated seconds until every run has ended, once one has finished in this batch.
        public var secondsLeft: Double?
    }

    public struct Outcome: Sendable {
        public var done: Int
        public var failed: [(id: String, error: String)]
        public var skipped: Int
        public var interrupted: Bool
    }

    public init(config: BatchConfig, directory: String, executable: String) {
        self.config = config
        self.directory = directory
        self.executable = executable
        manifest = BatchManifest(path: (directory as NSString).appendingPathComponent("manifest.jsonl"))
    }

    public var runsDirectory: String { (directory as NSString).appendingPathComponent("runs") }
    public func runDirectory(_ run: BatchRun) -> String { (runsDirectory as NSString).appendingPathComponent(run.id) }
    /// What the run printed, every start appended: runs/ID.log (beside its directory, which is replaced
    /// as a whole when the run completes).
    public func outputPath(_ run: BatchRun) -> String { (runsDirectory as NSString).appendingPathComponent("\(run.id).log") }

    /// Creates OUT (or checks it holds this same config), keeps the config in OUT/batch.yaml and the
    /// peers in OUT/peers.json.
    public func prepare(configText: String) throws(ExperimentsError) {
        let kept = (directory as NSString).appendingPathComponent("batch.yaml")
        if let existing = FileManager.default.contents(atPath: kept) {
            guard String(decoding: existing, as: UTF8.self) == configText else { throw .otherConfig(directory: directory, kept: kept) }
        } else {
            do { try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true) } catch {
                throw .cannotWrite(path: runsDirectory, reason: error.localizedDescription)
            }
            try Self.write(configText, to: kept)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let peers = (try? encoder.encode(config.peers)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        try Self.write(peers + "\n", to: (directory as NSString).appendingPathComponent("peers.json"))
    }

    /// What each run needs now, from the manifest and the runs' own files.
    public enum Need: Equatable, Sendable {
        case finished(BatchManifest.State)
        /// A run a killed batch left going: wait for it, then look again.
        case stillRunning
        case start
    }

    public func need(_ run: BatchRun, latest: BatchManifest.Entry?) -> Need {
        if let latest, latest.state == .done || latest.state == .failed { return .finished(latest.state) }
        let dir = runDirectory(run)
        if DirectoryLock.isHeld(directory: dir) { return .stillRunning }
        return completed(run) ? .finished(.done) : .start
    }

    /// Whether the run's files show it finished (its log's summary is not an interrupted one, and
    /// summary.json is of that same search), though the manifest may not say so yet.
    func completed(_ run: BatchRun) -> Bool {
        let dir = RunDirectory(path: runDirectory(run))
        guard let log = try? dir.log(), let summary = log.summary, !summary.interrupted,
              let json = dir.summary(), json["evaluations"] as? Int == summary.evaluations else { return false }
        return true
    }

    /// Headline figures of a finished run, from its summary.json.
    func figures(_ run: BatchRun) -> [String: Double]? {
        guard let json = RunDirectory(path: runDirectory(run)).summary() else { return nil }
        var figures: [String: Double] = [:]
        for key in ["float_val_accuracy", "float_test_accuracy", "pick_val_accuracy", "pick_test_accuracy", "pick_cycles", "measured_cycles",
                    "pick_ram_bytes", "measured_ram_bytes", "pick_flash_bytes", "measured_flash_bytes", "evaluations", "front_size"] {
            if let value = json[key] as? Double { figures[key] = value } else if let value = json[key] as? Int { figures[key] = Double(value) }
        }
        return figures
    }

    /// Runs every pending run, `jobs` at a time, until all have ended or `interrupted()` (then the
    /// running ones are asked to stop, write what they have, and are recorded as interrupted).
    public func runLocally(jobs: Int, interrupted: () -> Bool, progress: (Progress) -> Void) throws(ExperimentsError) -> Outcome {
        let runs = config.runs
        let latest = manifest.latest()
        var queue: [BatchRun] = []
        var outcome = Outcome(done: 0, failed: [], skipped: 0, interrupted: false)
        var waiting: [BatchRun] = []  // left running by a killed batch
        for run in runs {
            switch need(run, latest: latest[run.id]) {
            case let .finished(state):
                outcome.skipped += 1
                if latest[run.id]?.state != state {  // finished while no batch watched: record it now
                    try manifest.append(.init(id: run.id, state: .done, worker: "local", figures: figures(run)))
                }
            case .stillRunning: waiting.append(run)
            case .start: queue.append(run)
            }
        }
        var running: [(run: BatchRun, process: Process, started: Date)] = []
        var durations: [Double] = []
        let total = runs.count
        var lastReport = Date.distantPast
        func report(force: Bool = false) {
            guard force || Date().timeIntervalSince(lastReport) >= 1 else { return }
            lastReport = Date()
            let states = manifest.latest().values.map(\.state)
            let done = states.filter { $0 == .done }.count, failed = states.filter { $0 == .failed }.count
            let remaining = queue.count + running.count + waiting.count
            let left = durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count) * Double(remaining) / Double(max(1, min(jobs, remaining)))
            progress(Progress(total: total, done: done, failed: failed, running: running.map(\.run.id) + waiting.map(\.id), secondsLeft: left))
        }
        report(force: true)
        var stopping = false
        while !queue.isEmpty || !running.isEmpty || !waiting.isEmpty {
            if interrupted(), !stopping {
                stopping = true
                outcome.interrupted = true
                queue.removeAll()
                for child in running { kill(child.process.processIdentifier, SIGINT) }
                waiting.removeAll()  // left by a killed batch: not ours to stop
            }
            // Runs a killed batch left going count against --jobs until their lock is dropped.
            waiting.removeAll { run in
                guard !DirectoryLock.isHeld(directory: runDirectory(run)) else { return false }
                if completed(run) {
                    try? manifest.append(.init(id: run.id, state: .done, worker: "local", figures: figures(run)))
                    outcome.done += 1
                } else if !stopping {
                    queue.insert(run, at: 0)
                }
                return true
            }
            var still: [(run: BatchRun, process: Process, started: Date)] = []
            for child in running {
                if child.process.isRunning { still.append(child); continue }
                let seconds = Date().timeIntervalSince(child.started)
                let status = child.process.terminationStatus
                let entry = try finish(child.run, status: status, signalled: child.process.terminationReason == .uncaughtSignal,
                                       seconds: seconds, worker: "local")
                switch entry.state {
                case .done:
                    outcome.done += 1
                    durations.append(seconds)
                case .failed: outcome.failed.append((child.run.id, entry.error ?? "exit status \(status)"))
                case .interrupted, .started: break
                }
            }
            var changed = still.count != running.count
            running = still
            while !stopping, running.count + waiting.count < jobs, !queue.isEmpty {
                let run = queue.removeFirst()
                let process = try start(run)
                running.append((run, process, Date()))
                try manifest.append(.init(id: run.id, state: .started, pid: process.processIdentifier, worker: "local"))
                changed = true
            }
            report(force: changed)
            if !running.isEmpty || !waiting.isEmpty { usleep(100_000) }
        }
        report(force: true)
        return outcome
    }

    /// Performs one run in this process's place (a Slurm array task): start or resume it, wait, record.
    public func runOne(_ run: BatchRun, worker: String) throws(ExperimentsError) -> BatchManifest.Entry {
        if case let .finished(state) = need(run, latest: manifest.latest()[run.id]) {
            return BatchManifest.Entry(id: run.id, state: state, worker: worker)
        }
        let started = Date()
        let process = try start(run)
        try manifest.append(.init(id: run.id, state: .started, pid: process.processIdentifier, worker: worker))
        process.waitUntilExit()
        return try finish(run, status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                          seconds: Date().timeIntervalSince(started), worker: worker)
    }

    /// Starts `tune run` for `run` (resumed when an earlier start left its options behind).
    func start(_ run: BatchRun) throws(ExperimentsError) -> Process {
        let dir = runDirectory(run)
        do { try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: runsDirectory, reason: error.localizedDescription)
        }
        // Started before (its options are kept, in the staging directory while unfinished): resume it.
        let resume = [RunDirectory(path: dir).staging.optionsPath, RunDirectory(path: dir).optionsPath].contains { FileManager.default.fileExists(atPath: $0) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = resume ? ["run", "--resume", dir] : run.arguments(directory: dir)
        let logPath = outputPath(run)
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let output = FileHandle(forWritingAtPath: logPath) else { throw .cannotWrite(path: logPath, reason: "cannot open it") }
        output.seekToEndOfFile()
        output.write(Data("$ tune \(process.arguments?.joined(separator: " ") ?? "")\n".utf8))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw .cannotWrite(path: executable, reason: "cannot start it: \(error.localizedDescription)") }
        try? output.close()
        return process
    }

    /// Records how a run's process ended: stopped by a signal or by Ctrl-C (130) it is interrupted,
    /// and a restarted batch resumes it.
    func finish(_ run: BatchRun, status: Int32, signalled: Bool, seconds: Double, worker: String) throws(ExperimentsError) -> BatchManifest.Entry {
        let entry: BatchManifest.Entry
        if status == 0 && !signalled {
            entry = .init(id: run.id, state: .done, worker: worker, seconds: seconds, exitStatus: 0, figures: figures(run))
        } else if signalled || status == 130 {
            entry = .init(id: run.id, state: .interrupted, worker: worker, seconds: seconds, exitStatus: status)
        } else {
            entry = .init(id: run.id, state: .failed, worker: worker, seconds: seconds, error: lastError(run), exitStatus: status)
        }
        try manifest.append(entry)
        return entry
    }

    /// The run's last `Error:` line (what `tune` printed), or a pointer to its output.
    func lastError(_ run: BatchRun) -> String {
        let path = outputPath(run)
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let line = text.split(separator: "\n").last { $0.hasPrefix("Error: ") }
        return line.map { String($0.dropFirst("Error: ".count)) } ?? "it stopped without an error message; see \(path)"
    }

    public static func write(_ text: String, to path: String) throws(ExperimentsError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}

extension BatchRunner {
    /// Submits `count` pending runs (OUT/slurm/pending.json) as one Slurm job array: task i runs
    /// `tune batch OUT/batch.yaml --out OUT --task i`, which performs and records run i like a local worker.
    public func submitToSlurm(count: Int, directory slurmDirectory: String, partition: String?, time: String?) throws(ExperimentsError) -> String {
        let kept = (directory as NSString).appendingPathComponent("batch.yaml")
        let array = try SlurmArray(
            jobName: "mcutune-\(config.name)".map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.reduce(into: "") { $0.append($1) },
            workingDirectory: FileManager.default.currentDirectoryPath,
            tasks: .template([executable, "batch", kept, "--out", directory, "--task", SlurmArray.taskIDPlaceholder], count: count),
            outputDirectory: slurmDirectory, partition: partition, timeLimit: time)
        return try array.submit(scriptPath: (slurmDirectory as NSString).appendingPathComponent("array.sbatch"))
    }
}
