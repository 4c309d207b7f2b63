import ArgumentParser
import Devices
import Foundation
import Hardware
import Tuner

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a board's cost model on its simulator: micro-benchmarks of every kernel kind, a least-squares fit, written to configs/targets/TARGET.json.",
        discussion: """
            Generates benchmark programs (MLPs, CNNs with plain and depthwise convolutions and pooling, \
            FastGRNN, GRU and LSTM cells, ProtoNN, chains of elementwise ops; shapes and per-tensor formats \
            drawn from --seed), builds each twice with the board's toolchain (once marking every node, once \
            as the tuner writes it) and runs both on the board's simulator. Cycles per count of each kernel's \
            work (calls, rows, taps, multiply-accumulates and requantization shifts, by width) are fitted by \
            non-negative least squares on relative errors, and code bytes per kernel likewise against the \
            size tool. The target file gets the coefficients, `calibrated: true` and the provenance \
            (compiler, flags, simulator and versions, date, residuals of the fit).
            """)

    @Option(name: .long, help: ArgumentHelp("Board to calibrate; see 'tune targets'.", valueName: "name"))
    var target: String

    @Option(name: .long, help: "Benchmark programs to measure.")
    var programs = 90

    @Option(name: .long, help: "Seed of the benchmark programs.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Programs built and run at once.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("Write the target file here instead of configs/targets/TARGET.json.", valueName: "file"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Keep the benchmark builds in this directory (default: a temporary one, removed).", valueName: "dir"))
    var keep: String?

    @Option(name: .long, help: ArgumentHelp("Also write every measurement (JSON Lines) here: as soon as all are measured (with the present coefficients' predictions), and again with the fit's.", valueName: "file"))
    var save: String?

    @Option(name: .long, help: ArgumentHelp("Fit again from a file --save wrote, without measuring anything.", valueName: "file"))
    var refit: String?

    func validate() throws {
        if programs < 10 { throw ValidationError("--programs must be at least 10, got \(programs)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    }

    func run() throws {
        let resources = try reporting { try BundledResources.locate().get() }
        let board = try reporting { try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target) }
        let device = try reporting { try DeviceCatalog(root: resources.root).device(for: board) }
        let directory = keep ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-calibrate-\(UUID().uuidString.prefix(8))")
        let started = Date()
        // The provenance is the run that measured: this one, or the one a --refit file came from.
        var run = CalibrationReport.Run(programs: programs, seed: seed)
        let outcome = try reporting { () throws -> Calibrator.Outcome in
            if let refit {
                let (measurements, saved) = try CalibrationReport.read(refit)
                if let saved { run = saved }
                return Calibrator.Outcome(coefficients: try Calibrator.fit(measurements, device: device, count: run.programs, seed: run.seed),
                                          measurements: measurements, failures: [])
            }
            let (measurements, failures) = try Calibrator.measure(device: device, count: programs, seed: seed, jobs: jobs,
                                                                  directory: directory) { done, total in
                FileHandle.standardError.write(Data(String(format: "calibrate %d/%d programs, %.0f s\n", done, total,
                                                           Date().timeIntervalSince(started)).utf8))
            }
            // Saved before the fit (predicted by the board's present coefficients), and again after it:
            // a fit stopped halfway loses no measurement.
            if let save { try CalibrationReport.write(measurements, predictedBy: board.cost, run: run, to: save) }
            return Calibrator.Outcome(coefficients: try Calibrator.fit(measurements, device: device, count: programs, seed: seed),
                                      measurements: measurements, failures: failures)
        }
        if keep == nil { try? FileManager.default.removeItem(atPath: directory) }
        if let save { try reporting { try CalibrationReport.write(outcome, run: run, to: save) } }
        var calibrated = board
        calibrated.cost = outcome.coefficients
        let path = out ?? (resources.targetsDirectory as NSString).appendingPathComponent("\(board.name).json")
        try reporting { try TargetFile.write(calibrated, to: path) }
        let r = outcome.coefficients.provenance?.residuals ?? [:]
        func pct(_ key: String) -> String { r[key].map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        print("target   \(board.name): \(outcome.measurements.count) programs, \(outcome.measurements.reduce(0) { $0 + $1.pieces.count }) measured pieces, "
              + String(format: "%.0f s", Date().timeIntervalSince(started)))
        print("tools    \(outcome.coefficients.provenance.map { "\($0.compiler); \($0.simulator) (\($0.cycleCount))" } ?? "")")
        var table = TextTable(["fitted to", "median |error|", "worst |error|"], numeric: [1, 2])
        table.add(["each node and piece of glue (>= 50 cycles)", pct("piece_median_abs"), pct("piece_worst_abs")])
        table.add(["each API call (whole programs)", pct("call_median_abs"), pct("call_worst_abs")])
        table.add(["each program's code bytes", pct("flash_median_abs"), pct("flash_worst_abs")])
        print(table.render())
        print("stack    \(outcome.coefficients.stackBytes) B: the deepest analysed worst-case stack of the benchmarks (the search's estimate)")
        let inexact = outcome.measurements.filter { !$0.isBitExact }.map(\.name)
        if !inexact.isEmpty { print("warning  not bit-exact on the simulator: \(inexact.joined(separator: ", "))") }
        for failure in outcome.failures { print("skipped  \(failure.name): \(failure.reason)") }
        print("wrote    \(path) (\(outcome.coefficients.cycles.count) cycle and \(outcome.coefficients.codeBytes.count) code coefficients)")
        if !inexact.isEmpty { throw CommandError("\(inexact.count) benchmark programs printed values that differ from the emulator") }
    }
}
