import ArgumentParser
import Devices
import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark candidate evaluations per second: emulator BLAS path, scalar path, and compiled C, on each model's validation split.",
        discussion: "Build in release mode for meaningful numbers: ./tune bench (or swift run -c release tune bench).")

    @Argument(help: ArgumentHelp("Models to measure (default: every bundled model).", valueName: "model"))
    var models: [String] = []

    @Option(name: .long, help: ArgumentHelp("Config file or preset to evaluate.", valueName: "config"))
    var config = "datadriven"

    @Option(name: .long, help: "Seconds to spend on each measurement.")
    var seconds = 1.0

    @Flag(name: .long, help: "Compare the search strategies instead: front hypervolume, best test accuracy within the RAM budget, evaluations and time.")
    var strategies = false

    @Flag(name: .long, help: "Print each model's arena under every planner (naive, greedy by size, first fit, exact) and the liveness lower bound instead.")
    var memory = false

    @Flag(name: .long, help: "Tune each model for --target within --budget-ram, build the pick with the board's toolchain, run it on the board's simulator, and set the measured outputs, RAM and cycles beside the predictions instead.")
    var device = false

    @Flag(name: .customLong("cost-model"), help: "Check the cost model against --target's simulator instead: for each model, the tuner's front and random other candidates from its log (--candidates in all) are built and run, and the predicted cycles and flash set beside the measured ones (median and worst error, Spearman rank correlation, how many of the pairs of candidates whose measured cycles lie more than 1% apart it orders as the board does, and how many candidates the kernel profile measured every node of at its own signature).")
    var costModel = false

    @Flag(name: .long, help: "Compare each model's float C with the tuner's fixed-point pick on --target instead: both built with the board's toolchain (soft float, or the FPU where the board has one) and run on its simulator; cycles, speedup, flash, RAM and test accuracy side by side.")
    var float = false

    @Flag(name: .long, help: "Measure the specialised kernels instead: each model under all8 and under the tuner's pick (genetic, --budget-ram on --target, with the kernel profile and checked on the board as tune checks it), built with the plain C of every kernel and with the specialised kernels and run on the board's simulator in this process; MACs, cycles, cycles per MAC, speedup, RAM (static + worst-case stack) and flash before and after, and every row whose RAM grew, by part.")
    var kernels = false

    @Flag(name: .customLong("no-profile"), help: "For --cost-model, --device, --kernels and --picks: price with the board's calibrated coefficients alone, without first measuring each model's kernels (what `tune --no-profile` searches with).")
    var noProfile = false

    @Flag(name: .customLong("measure-runs"), help: "For --cost-model: search as `tune --measure-runs` does, each candidate the kernel profile cannot price from measurements of its kind (fused runs, kernel variants, unmeasured bytes) measured on the simulator before it is priced.")
    var measureRuns = false

    @Flag(name: .long, help: "Compare the pick rules instead: each model searched with --seeds seeds (genetic, --budget-ram on --target), the pick of each rule (validation: the best validation accuracy; accurate: the default, with fidelity) taken from the same search; mean, lowest and highest test accuracy, and the worst against float.")
    var picks = false

    @Option(name: .long, help: "Seeds for --picks (from --seed on).")
    var seeds = 5

    @Option(name: .long, help: "Candidates per model for --cost-model.")
    var candidates = 30

    @Option(name: .long, help: ArgumentHelp("Keep every --cost-model build here, each candidate's config.json with it, and rows.jsonl (predicted and measured cycles and flash).", valueName: "dir"))
    var keep: String?

    @Option(name: .long, help: "Builds run at once for --cost-model.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("Target for --strategies, --device, --cost-model, --float and --kernels.", valueName: "name"))
    var target = "uno"

    @Option(name: .customLong("budget-ram"), help: ArgumentHelp("RAM budget for --strategies, --device, --float and --kernels (at most the board's RAM).", valueName: "bytes"))
    var budgetRAM = 2048

    @Option(name: .long, help: "Seed for --strategies, --device, --cost-model, --float and --kernels (and the first of --picks).")
    var seed: UInt64 = 0

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600], got \(seconds)") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        guard budgetRAM > 0 else { throw ValidationError("--budget-ram must be a positive number of bytes, got \(budgetRAM)") }
        if measureRuns && (!costModel || noProfile) {
            throw ValidationError("--measure-runs goes with --cost-model and the kernel profile (no --no-profile)")
        }
    }

    func run() throws {
        let resources = try reporting { try BundledResources.locate().get() }
        let names = models.isEmpty ? resources.bundledModels : models
        if strategies { return try compareStrategies(names, resources: resources) }
        if memory { return try comparePlanners(names) }
        if device { return try measureOnDevice(names, resources: resources) }
        if costModel { return try validateCostModel(names, resources: resources) }
        if float { return try compareWithFloat(names, resources: resources) }
        if picks { return try comparePickRules(names, resources: resources) }
        if kernels { return try compareKernels(names, resources: resources) }
        var table = TextTable(["model", "val", "BLAS/s", "scalar/s", "C run/s", "C build+run/s", "BLAS:scalar", "BLAS:C run", "BLAS:C build+run",
                               "fidelity set", "BLAS/s on it", "val:fidelity", "search/s val", "search/s fidelity", "val:fidelity search"],
                              numeric: Set(1...14))
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-\(UUID().uuidString.prefix(8))")
            let (row, fidelityCount, fidelityRate, searchRates) = try reporting { () throws -> (EvaluationBenchmark.Row, Int, Double, [Double]) in
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let quant = try ConfigSource.resolve(config, model: job.model, dataset: job.dataset)
                let program = try FixedProgram(graph: job.model.graph, config: quant)
                let validation = try job.dataset.load(split: "val")
                let row = try EvaluationBenchmark.measure(program: program, split: validation, seconds: seconds, directory: directory)
                // What the search runs each candidate on: validation and as many training inputs again.
                let train = job.dataset.availableSplits.contains("train") ? try job.dataset.load(split: "train") : nil
                let fidelity = try FidelitySet(validation: validation, extra: train, extraCount: validation.count, graph: job.model.graph)
                let emulator = FixedEmulator(program: program)
                let fidelityRate = EvaluationBenchmark.rate(seconds: seconds) { _ = emulator.run(fidelity.samples) }
                // The rate the search reaches: the same genetic search (Uno, 2,048 B, seed 0, 300 candidates) scoring
                // validation alone, then the fidelity set with racing (a candidate a front point dominates whatever the
                // training inputs give is not run on them).
                let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: "uno")
                let searchRates = try [0, validation.count].map { extra -> Double in
                    let settings = TuningJob.Settings(strategy: .genetic, seed: 0, budgets: .init(ramBytes: 2048, flashBytes: board.flashBytes, maxLoss: nil),
                                                      maxEvaluations: 300, fidelitySamples: extra)
                    let result = try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run()
                    return Double(result.trials.count) / max(result.searchSeconds, 1e-9)
                }
                return (row, fidelity.samples.count, fidelityRate, searchRates)
            }
            try? FileManager.default.removeItem(atPath: directory)
            func f(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }
            let rates: [String] = [f(row.blasPerSecond), f(row.scalarPerSecond), f(row.cRunPerSecond), f(row.cBuildAndRunPerSecond)]
            let ratios: [String] = [f(row.blasPerSecond / row.scalarPerSecond) + "x", f(row.blasPerSecond / row.cRunPerSecond) + "x",
                                    f(row.blasPerSecond / row.cBuildAndRunPerSecond) + "x"]
            let withFidelity: [String] = ["\(fidelityCount)", f(fidelityRate), f(row.blasPerSecond / fidelityRate) + "x",
                                          f(searchRates[0]), f(searchRates[1]), f(searchRates[0] / searchRates[1]) + "x"]
            table.add([row.model, "\(row.samples)"] + rates + ratios + withFidelity)
        }
        print(table.render())
    }

    private func compareStrategies(_ names: [String], resources: BundledResources) throws {
        let board = try reporting { try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target) }
        var table = TextTable(["model", "method", "hypervolume", "test acc of pick", "pick RAM B", "evaluations", "seconds"],
                              numeric: [2, 3, 4, 5, 6])
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let rows = try reporting {
                try StrategyBenchmark.run(model: job.model, dataset: job.dataset, target: board, ramBudget: budgetRAM,
                                          seed: seed, maxEvaluations: 2000)
            }
            for row in rows {
                table.add([row.model, row.method, String(format: "%.4f", row.hypervolume),
                           row.pickTestAccuracy.map(Format.percent) ?? "none fits", row.pickRAMBytes.map { "\($0)" } ?? "-",
                           "\(row.evaluations)", String(format: "%.1f", row.seconds)])
            }
        }
        print("target \(board.name), RAM budget \(budgetRAM) B; hypervolume of (validation error, RAM) against the budget, larger is better")
        print(table.render())
    }

    private func comparePlanners(_ names: [String]) throws {
        var table = TextTable(["model", "config", "naive", "bound, no in-place", "greedy by size", "first fit", "exact", "lower bound"],
                              numeric: [2, 3, 4, 5, 6, 7])
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let (arena, separate) = try reporting { () throws -> (ArenaPlan, ArenaPlan) in
                let quant = try ConfigSource.resolve(config, model: job.model, dataset: job.dataset)
                let program = try FixedProgram(graph: job.model.graph, config: quant)
                return (ArenaPlan(program: program), ArenaPlan(program: program, inPlace: false))
            }
            let bytes = arena.plans.dropFirst().map { "\($0.bytes)" }
            table.add([job.model.graph.name, config, "\(separate.plans.first?.bytes ?? 0)", "\(separate.lowerBound)"] + bytes + ["\(arena.lowerBound)"])
        }
        print("arena bytes (activations only): naive gives every tensor its own buffer; the liveness bound without and with")
        print("elementwise ops in place; then each planner with ops in place (the emitter uses the smallest)")
        print(table.render())
    }
}
