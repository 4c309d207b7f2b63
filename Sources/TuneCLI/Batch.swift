import ArgumentParser
import Experiments
import Foundation
import Tuner

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a batch of tunings from a YAML config: models x targets x RAM budgets x strategies x seeds.",
        discussion: """
            Each run writes the usual outputs and log into OUT/runs/ID (what it printed in tune.log there); \
            OUT/manifest.jsonl records every run's state, timing and headline figures as it changes. The \
            config is checked before any run starts (configs/smoke.yaml and configs/overnight.yaml are \
            examples; experiments/README.md lists the keys). Stopped at any moment (Ctrl-C, kill -9) and \
            started again with the same config and --out, it repeats no finished run and resumes each \
            unfinished one from its log. A run that fails is recorded with its error; the others go on. \
            With --slurm the pending runs are submitted as one Slurm job array instead (one task per run, \
            writing the same directories and manifest); --status reports progress either way. \
            `tune report OUT` and `tune plot OUT -o FILE.png` read the results.
            """)

    @Argument(help: ArgumentHelp("The batch config (YAML). Optional with --status or --task, which read OUT/batch.yaml.", valueName: "config"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Batch directory (default: out/batch-NAME, NAME from the config).", valueName: "dir"))
    var out: String?

    @Option(name: .long, help: "Runs at once (each runs its search on one core; builds use more).")
    var jobs = 1

    @Flag(name: .long, help: "Print each run's state and figures from the manifest, and exit.")
    var status = false

    @Flag(name: .long, help: "Submit the pending runs as a Slurm job array (sbatch) instead of running them here.")
    var slurm = false

    @Option(name: .long, help: ArgumentHelp("Slurm partition for --slurm.", valueName: "name"))
    var partition: String?

    @Option(name: .long, help: ArgumentHelp("Slurm time limit per run for --slurm (e.g. 30, 2:00:00, 1-00:00:00).", valueName: "time"))
    var time: String?

    @Option(name: .long, help: ArgumentHelp("Perform the pending run with this index of OUT/slurm/pending.json (what each Slurm array task runs).", valueName: "index"))
    var task: Int?

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if config == nil, out == nil { throw ValidationError("give the batch config (YAML), or --out DIR of a batch with --status or --task") }
        if config == nil, !status, task == nil { throw ValidationError("give the batch config (YAML) to run; only --status and --task read OUT/batch.yaml") }
        if (partition != nil || time != nil), !slurm { throw ValidationError("--partition and --time go with --slurm") }
        if let task, task < 0 { throw ValidationError("--task must be 0 or more, got \(task)") }
    }

    func run() throws {
        let resources = try reporting { try BundledResources.locate().get() }
        // The config given, or the one the batch directory keeps.
        let configPath = config ?? ((out ?? "") as NSString).appendingPathComponent("batch.yaml")
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw CommandError("cannot read the batch config \(configPath): " + (FileManager.default.fileExists(atPath: configPath) ? "not readable" : "no such file"))
        }
        let text = String(decoding: data, as: UTF8.self)
        let parsed = try reporting { try BatchConfig.parse(text, path: configPath, resources: resources) }
        let directory = absolute(out ?? "out/batch-\(parsed.name)")
        guard let executable = Bundle.main.executablePath else { throw CommandError(ExperimentsError.noExecutable) }
        let runner = BatchRunner(config: parsed, directory: directory, executable: executable)
        if status { return printStatus(runner) }
        try reporting { try runner.prepare(configText: text) }
        if let task { return try runTask(task, runner: runner) }
        if slurm { return try submit(runner) }

        Interrupt.install(resumeHint: "runs that finished are kept; the same `tune batch` command finishes the rest")
        print("batch    \(parsed.runs.count) runs of \(configPath) into \(directory), \(jobs) at a time")
        let display = BatchProgressDisplay()
        let outcome = try reporting {
            try runner.runLocally(jobs: jobs, interrupted: { Interrupt.requested }, progress: { display.show($0) })
        }
        display.finish()
        print("batch    \(outcome.done) done now, \(outcome.skipped) finished before, \(outcome.failed.count) failed")
        for failure in outcome.failed { print("failed   \(failure.id): \(failure.error)") }
        print("results  tune report \(directory) ; tune plot \(directory) -o \(directory)/front.png ; manifest \(runner.manifest.path)")
        if outcome.interrupted {
            print("stopped  by Ctrl-C: run the same command again to finish the batch")
            throw ExitCode(130)
        }
        if !outcome.failed.isEmpty { throw ExitCode(1) }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// One line per run: its latest state, time and figures.
    private func printStatus(_ runner: BatchRunner) {
        let (entries, warnings) = runner.manifest.entries()
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        var latest: [String: BatchManifest.Entry] = [:]
        for entry in entries { latest[entry.id] = entry }
        var table = TextTable(["run", "state", "worker", "s", "pick val", "pick test", "float test", "cycles", "RAM B", "error"], numeric: [3, 4, 5, 6, 7, 8])
        var counts: [String: Int] = [:]
        for run in runner.config.runs {
            let entry = latest[run.id]
            var state = entry?.state.rawValue ?? "pending"
            if entry?.state == .started, !DirectoryLock.isHeld(directory: runner.runDirectory(run)) { state = "stopped" }
            counts[state, default: 0] += 1
            let f = entry?.figures ?? [:]
            let percent = { (key: String) in f[key].map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
            let cycles = (f["measured_cycles"] ?? f["pick_cycles"]).map { Format.count(Int($0.rounded())) } ?? "-"
            table.add([run.id, state, entry?.worker ?? "-", entry?.seconds.map { String(format: "%.0f", $0) } ?? "-",
                       percent("pick_val_accuracy"), percent("pick_test_accuracy"), percent("float_test_accuracy"), cycles,
                       (f["measured_ram_bytes"] ?? f["pick_ram_bytes"]).map { "\(Int($0))" } ?? "-", entry?.error ?? ""])
        }
        print(table.render())
        print("batch    \(runner.config.runs.count) runs: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
    }

    /// A Slurm array task: the pending run at `index` of OUT/slurm/pending.json.
    private func runTask(_ index: Int, runner: BatchRunner) throws {
        let pendingPath = (runner.directory as NSString).appendingPathComponent("slurm/pending.json")
        guard let data = FileManager.default.contents(atPath: pendingPath), let ids = try? JSONDecoder().decode([String].self, from: data) else {
            throw CommandError("--task: cannot read the pending runs in \(pendingPath) (written by `tune batch --slurm`)")
        }
        guard ids.indices.contains(index) else { throw CommandError(ExperimentsError.unknownTask(index: index, count: ids.count, path: pendingPath)) }
        guard let run = runner.config.runs.first(where: { $0.id == ids[index] }) else {
            throw CommandError("--task \(index): run \(ids[index]) is not in the batch's config \(runner.directory)/batch.yaml")
        }
        let env = ProcessInfo.processInfo.environment
        let worker = "slurm " + (env["SLURM_ARRAY_JOB_ID"].map { "\($0)_\(env["SLURM_ARRAY_TASK_ID"] ?? "\(index)")" } ?? "task \(index)")
        let entry = try reporting { try runner.runOne(run, worker: worker) }
        print("\(run.id): \(entry.state.rawValue)" + (entry.error.map { ": \($0)" } ?? ""))
        if entry.state == .failed { throw ExitCode(1) }
    }

    private func submit(_ runner: BatchRunner) throws {
        let latest = runner.manifest.latest()
        let pending = runner.config.runs.filter { run in
            if case .finished = runner.need(run, latest: latest[run.id]) { return false }
            return true
        }
        guard !pending.isEmpty else {
            print("batch    every run of \(runner.directory) has finished; `tune batch --status --out \(runner.directory)` lists them")
            return
        }
        let slurmDirectory = (runner.directory as NSString).appendingPathComponent("slurm")
        try reporting {
            do { try FileManager.default.createDirectory(atPath: slurmDirectory, withIntermediateDirectories: true) } catch {
                throw ExperimentsError.cannotWrite(path: slurmDirectory, reason: error.localizedDescription)
            }
            let ids = pending.map(\.id)
            let json = String(decoding: (try? JSONEncoder().encode(ids)) ?? Data("[]".utf8), as: UTF8.self)
            try BatchRunner.write(json + "\n", to: (slurmDirectory as NSString).appendingPathComponent("pending.json"))
        }
        let job = try reporting { try runner.submitToSlurm(count: pending.count, directory: slurmDirectory, partition: partition, time: time) }
        print("batch    \(pending.count) pending runs submitted to Slurm as array job \(job) (tasks 0-\(pending.count - 1)); "
              + "task output in \(slurmDirectory); `tune batch --status --out \(runner.directory)` reports progress")
    }
}

/// Batch progress on stderr: one updating line on a terminal, a line per change otherwise.
final class BatchProgressDisplay: @unchecked Sendable {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var last = ""

    func show(_ p: BatchRunner.Progress) {
        let left = p.secondsLeft.map { $0 >= 90 ? String(format: ", about %.0f min left", $0 / 60) : String(format: ", about %.0f s left", $0) } ?? ""
        let line = "batch    \(p.done)/\(p.total) done, \(p.running.count) running, \(p.failed) failed\(left)"
            + (p.running.isEmpty ? "" : ": " + p.running.prefix(3).joined(separator: ", ") + (p.running.count > 3 ? ", ..." : ""))
        guard line != last else { return }
        last = line
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
