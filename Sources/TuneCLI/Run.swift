import ArgumentParser
import Devices
import Emit
import Experiments
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Tune a model for a board within RAM and flash budgets (the default command).",
        discussion: """
            Searches per-tensor bit widths (8 or 16) and scales, scoring each candidate with the bit-exact \
            emulator on the validation split and the target's cost model. Prints the Pareto front \
            (accuracy, cycles, RAM, flash) and the pick: the best validation accuracy within the budgets, \
            measured then on the test split. The pick is then built by the board's toolchain (avr-gcc, or \
            arm-none-eabi-gcc) and run on its simulator (simavr, or qemu) over bundled test samples: a \
            front point whose built RAM or flash breaks a budget, or whose build fails, gives way to the \
            next, and so does one whose specialised kernels take more RAM than the same program built with \
            plain C kernels (where another is there); the summary shows the measured cycles, flash and RAM \
            (and that plain C RAM) beside the estimates, and whether \
            every output equals the emulator's. With --deploy sketch, the RAM the Arduino core takes is measured \
            first (a sketch built with arduino-builder and run on simavr) and taken from the budget, and the \
            pick's sketch is built and run too. Writes the pick's C (with model_input.c: raw sensor input and \
            class names, where dataset.json records them), the board's firmware (built), an Arduino sketch and \
            the same as a zipped Arduino library, the search log (JSON Lines, docs/search-log.md) and a summary into --out. \
            The log is written as the search goes, so a run stopped at any moment (Ctrl-C, which exits \
            130 after writing the best so far, or kill -9) leaves every candidate it scored; `tune --resume \
            DIR` continues it with the options it was started with (kept in DIR/run.json), evaluating none \
            of them again, to the same log and pick as a run that was never stopped.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Board to tune for; see 'tune targets'.", valueName: "name"))
    var target = "uno"

    @Option(name: .customLong("budget-ram"), help: ArgumentHelp("RAM budget in bytes (default: the target's RAM).", valueName: "bytes"))
    var budgetRAM: Int?

    @Option(name: .customLong("budget-flash"), help: ArgumentHelp("Flash budget in bytes (default: the target's flash).", valueName: "bytes"))
    var budgetFlash: Int?

    @Option(name: .customLong("reserve-ram"), help: ArgumentHelp("RAM your own application keeps beside the model, taken from the budget (the Arduino core's own RAM is measured with --deploy sketch).", valueName: "bytes"))
    var reserveRAM = 0

    @Option(name: .long, help: ArgumentHelp("""
        What goes on the board: firmware (default: the model alone, in the bare firmware built with the board's toolchain) or \
        sketch (the Arduino sketch, AVR boards: the RAM the Arduino core takes is measured first by building a sketch with \
        arduino-builder and running it on simavr, and taken from the budget; the pick's sketch is then built and run too, and \
        must print the emulator's class for every stored sample).
        """, valueName: "kind"))
    var deploy = "firmware"

    @Option(name: .customLong("max-loss"), help: ArgumentHelp("Largest validation accuracy loss against float, in points (e.g. 1.5).", valueName: "points"))
    var maxLoss: Double?

    @Option(name: .long, help: ArgumentHelp("""
        Which front point to take: accurate (default: of the points whose validation accuracy is not significantly below the best, \
        by a paired McNemar test at 5%, the one that follows the float model most closely on the fidelity samples, then the fewest \
        cycles); fastest (the fewest cycles of the points whose class differs from the float model's on at most --max-loss points \
        of inputs with 95% confidence, measured on the fidelity samples: disagreement bounds the accuracy loss); smallest (likewise, the least RAM); validation (the best validation \
        accuracy, ties by fewer cycles: the rule before fidelity). fastest and smallest need --max-loss.
        """, valueName: "rule"))
    var pick = "accurate"

    @Option(name: .customLong("fidelity-samples"), help: ArgumentHelp("Training inputs added to the validation inputs to measure each candidate's fidelity to the float model (default: as many as validation has, all of them for --pick fastest and smallest; 0: validation alone).", valueName: "n"))
    var fidelitySamples: Int?

    @Option(name: .long, help: ArgumentHelp("Search strategy: \(TuningJob.Strategy.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var strategy = "genetic"

    @Option(name: .long, help: "Seed of every random choice; the same seed gives the same log.")
    var seed: UInt64 = 0

    @Option(name: .customLong("max-evaluations"), help: "Stop after this many distinct candidates.")
    var maxEvaluations = 2000

    @Option(name: .long, help: ArgumentHelp("Directory for the pick's C, sketch, log and summary.", valueName: "dir"))
    var out = "out"

    @Flag(name: .customLong("emit-front"), help: "Also emit the C and config.json of every front point (out/front/N).")
    var emitFront = false

    @Flag(name: .customLong("no-verify"), help: "Take the pick on the cost model's estimates alone: do not build it or run it on the board's simulator (implies --no-profile).")
    var noVerify = false

    @Flag(name: .customLong("no-profile"), help: "Price candidates with the board's calibrated coefficients alone: do not first measure this model's kernels on the board's simulator (a dozen builds, cached under .build/mcutune-profiles).")
    var noProfile = false

    @Flag(name: .customLong("measure-runs"), help: "Measure on the board's simulator, before pricing it, each candidate with a node the kernel profile cannot price from a measurement of its kind: a fused elementwise run (a recurrent cell's gates in one loop) not measured as it is, a kernel variant never measured on that node, or nodes whose bytes the coefficients would put 1% of the program's flash or more away from what was measured (one build and a run of one validation sample per such candidate; minutes more for a recurrent model; the search prices them by a fit otherwise, whose error can reach 10-20% on one run).")
    var measureRuns = false

    @Option(name: .long, help: ArgumentHelp("Continue the stopped run in DIR (its --out) with the options it was started with: the candidates its log holds are not evaluated again. Give no other option.", valueName: "dir"))
    var resume: String?

    func validate() throws {
        if let budgetRAM, budgetRAM <= 0 { throw ValidationError("--budget-ram must be a positive number of bytes, got \(budgetRAM)") }
        if measureRuns && (noProfile || noVerify) {
            throw ValidationError("--measure-runs measures runs beside the kernel profile: it cannot go with \(noProfile ? "--no-profile" : "--no-verify")")
        }
        if let budgetFlash, budgetFlash <= 0 { throw ValidationError("--budget-flash must be a positive number of bytes, got \(budgetFlash)") }
        if reserveRAM < 0 { throw ValidationError("--reserve-ram must be zero or a positive number of bytes, got \(reserveRAM)") }
        if let maxLoss, !(0...100).contains(maxLoss) { throw ValidationError("--max-loss must be between 0 and 100 points, got \(maxLoss)") }
        if TuningJob.Strategy(rawValue: strategy) == nil {
            throw ValidationError("unknown --strategy '\(strategy)'; allowed: \(TuningJob.Strategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !PickRule.names.contains(pick) {
            throw ValidationError("unknown --pick '\(pick)'; allowed: \(PickRule.names.joined(separator: ", "))")
        }
        if PickRule(name: pick, maxLoss: maxLoss.map { $0 / 100 }) == nil {
            throw ValidationError("--pick \(pick) needs --max-loss POINTS (the largest loss against the float model it may take)")
        }
        if let fidelitySamples, fidelitySamples < 0 { throw ValidationError("--fidelity-samples must be 0 or more, got \(fidelitySamples)") }
        if !["firmware", "sketch"].contains(deploy) { throw ValidationError("unknown --deploy '\(deploy)'; allowed: firmware, sketch") }
        if maxEvaluations < 1 { throw ValidationError("--max-evaluations must be at least 1, got \(maxEvaluations)") }
        if out.isEmpty { throw ValidationError("--out must not be empty") }
        if let resume {
            if resume.isEmpty { throw ValidationError("--resume must name the stopped run's directory") }
            let others = CommandLine.arguments.dropFirst().filter { $0 != "run" && $0 != resume && !$0.hasPrefix("--resume") }
            if !others.isEmpty {
                throw ValidationError("--resume takes the run's options from \(resume)/run.json; give no other option (got \(others.joined(separator: " ")))")
            }
        }
    }

    /// The options as arguments that reproduce this run from any directory (paths made absolute):
    /// kept in OUT/run.json for `--resume`.
    var canonicalArguments: [String] {
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") || !FileManager.default.fileExists(atPath: path) ? path : (cwd as NSString).appendingPathComponent(path)
        }
        var a: [String] = []
        if let model = modelOptions.model { a += ["--model", absolute(model)] }
        if let data = modelOptions.data { a += ["--data", absolute(data)] }
        a += ["--target", target]
        if let budgetRAM { a += ["--budget-ram", "\(budgetRAM)"] }
        if let budgetFlash { a += ["--budget-flash", "\(budgetFlash)"] }
        a += ["--reserve-ram", "\(reserveRAM)"]
        if deploy != "firmware" { a += ["--deploy", deploy] }
        if let maxLoss { a += ["--max-loss", "\(maxLoss)"] }
        a += ["--pick", pick]
        if let fidelitySamples { a += ["--fidelity-samples", "\(fidelitySamples)"] }
        a += ["--strategy", strategy, "--seed", "\(seed)", "--max-evaluations", "\(maxEvaluations)"]
        a += ["--out", out.hasPrefix("/") ? out : (cwd as NSString).appendingPathComponent(out)]
        if emitFront { a.append("--emit-front") }
        if noVerify { a.append("--no-verify") }
        if noProfile { a.append("--no-profile") }
        if measureRuns { a.append("--measure-runs") }
        return a
    }

    func run() throws {
        guard let resume else { return try execute(resuming: false) }
        // The stopped run's own options, so it continues exactly as it started.
        let staged = (RunDirectory(path: resume).staging.path as NSString).appendingPathComponent("run.json")
        let path = FileManager.default.fileExists(atPath: staged) ? staged : (resume as NSString).appendingPathComponent("run.json")
        let arguments = try reporting { () throws -> [String] in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandError("cannot resume \(resume): \(path) is missing (it is written when a run starts; was \(resume) a tune run's --out?)")
            }
            guard let options = try? JSONDecoder().decode(RunOptions.self, from: data) else {
                throw CommandError("cannot resume \(resume): \(path) is not the options file a tune run writes")
            }
            return options.arguments
        }
        var command: Run
        do { command = try Run.parse(arguments) } catch {
            throw CommandError("cannot resume \(resume): the options in \(path) do not parse: \(Run.message(for: error))")
        }
        command.resume = nil
        try command.execute(resuming: true)
    }

    private func execute(resuming: Bool) throws {
        let started = Date()
        let (board, modelRAM, flash) = try reporting { () throws -> (Target, Int, Int) in
            let resources = try BundledResources.locate().get()
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            let ram = budgetRAM ?? board.ramBytes, flash = budgetFlash ?? board.flashBytes
            if ram > board.ramBytes {
                throw TunerError.budgetExceedsTarget(option: "--budget-ram", bytes: ram, target: board.name, available: board.ramBytes)
            }
            if flash > board.flashBytes {
                throw TunerError.budgetExceedsTarget(option: "--budget-flash", bytes: flash, target: board.name, available: board.flashBytes)
            }
            guard reserveRAM < ram else {
                throw CommandError("--reserve-ram \(reserveRAM) leaves no RAM for the model within the \(ram) B budget")
            }
            return (board, ram - reserveRAM, flash)
        }
        let budgetRAMTotal = modelRAM + reserveRAM
        let job = try LoadedJob.load(model: modelOptions.model, data: modelOptions.data)
        let graph = job.model.graph
        for warning in WeightRangeCheck.warnings(graph) { print("warning  \(warning)") }
        print("model    \(graph.name) (\(job.onnxReport?.path ?? job.model.directory))")
        print("target   \(board.name): \(board.board), \(board.mcu), \(Format.hertz(board.clockHz)), "
              + "\(Format.bytes(board.ramBytes)) RAM, \(Format.bytes(board.flashBytes)) flash"
              + (board.cost.calibrated ? "" : "; cost model: estimates, not yet calibrated"))
        // The pick is built and run on the board's simulator, so its cycles, RAM and flash are measured.
        let device = try reporting { () throws -> any Device in
            let device = try DeviceCatalog(root: job.resources.root).device(for: board)
            if !noVerify || deploy == "sketch" { try device.checkTools() }
            return device
        }
        // In the Arduino sketch the core takes RAM beside the model: measured, and taken from the budget.
        let sketchDeployment = deploy == "sketch" ? SketchDeployment(device: device, tools: ToolCache(root: job.resources.root)) : nil
        var ram = modelRAM
        if let sketchDeployment {
            let cost = try sketchDeployment.platformCost(job: job)
            print(SketchDeployment.describe(cost))
            guard cost.ramBytes < ram else {
                throw CommandError("the Arduino core takes \(cost.ramBytes) B of RAM, which leaves nothing for the model within the \(modelRAM) B budget")
            }
            ram -= cost.ramBytes
        }
        let reserved = budgetRAMTotal - ram
        print("budgets  RAM \(Format.count(ram)) B" + (reserved > 0 ? " for the model (\(Format.count(reserved)) B reserved)" : "") + ", flash \(Format.count(flash)) B"
              + (maxLoss.map { ", max loss \($0) points" } ?? "") + "; strategy \(strategy), seed \(seed)")
        // Everything is written into a staging directory beside --out and moved into place at the end,
        // so --out holds one complete run's files or the previous output, never a mix.
        let work = RunDirectory(path: out).staging.path
        let verification: TuningJob.Verification = noVerify ? .estimate : .device(device, directory: "\(work)/firmware")
        // The model's own kernels measured first, so the search prices what this board's compiler makes of them.
        let profiling = noVerify || noProfile ? nil : KernelProfiling(device: device, cacheDirectory: KernelProfiling.cacheDirectory(root: job.resources.root))
        // One run per --out at a time; the options first, so a stopped run can be resumed.
        let lock = try reporting { try DirectoryLock(directory: out) }
        defer { withExtendedLifetime(lock) {} }
        try reporting { try prepareStaging(work, resuming: resuming) }
        if !resuming {
            let options = RunOptions(arguments: canonicalArguments)
            try reporting { try OutputWriter.write(options.json, to: "\(work)/run.json") }
        }
        let settings = TuningJob.Settings(
            strategy: TuningJob.Strategy(rawValue: strategy) ?? .genetic, seed: seed,
            budgets: .init(ramBytes: ram, flashBytes: flash, maxLoss: maxLoss.map { $0 / 100 }), maxEvaluations: maxEvaluations,
            verification: verification, profiling: profiling, profileDirectory: "\(work)/profile", fidelitySamples: fidelitySamples,
            pick: PickRule(name: pick, maxLoss: maxLoss.map { $0 / 100 }) ?? .accurate, logPath: "\(work)/log.jsonl", resume: resuming,
            measureRuns: measureRuns)
        fflush(nil)  // the header before any progress on stderr
        Interrupt.install(resumeHint: "`tune --resume \(out)` continues the search from the candidates logged so far")
        let progress = Progress(started: started)
        let result = try reporting {
            try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings)
                .run(interrupted: { Interrupt.requested }, progress: { progress.update($0) },
                     profileProgress: { done, count in progress.note("profiling this model's kernels on the simulator: \(done)/\(count) programs") })
        }
        progress.finish()
        if result.replayed > 0 {
            print("resumed  \(result.replayed) candidates taken from the stopped run's log, \(result.trials.count - result.replayed) evaluated now")
        }
        if let (profile, origin) = result.profile {
            let kernels = Set(profile.nodes.map { "\($0.node) \($0.signature)" }).count
            switch origin {
            case let .cached(path):
                print("profile  \(profile.programs) programs of this model measured on the simulator (\(kernels) node kernels), from \(path)")
            case let .measured(seconds):
                print("profile  \(profile.programs) programs of this model measured on the simulator (\(kernels) node kernels)"
                      + String(format: " in %.1f s; cached", seconds))
            }
        }
        if measureRuns {
            print("runs     \(result.runsMeasured) candidates measured on the simulator during the search (nodes the profile could not price from measurements of their kind)"
                  + (result.runMeasurementFailure.map { "; one failed, priced by the fit: \($0)" } ?? ""))
        }
        print("search   \(result.trials.count) candidates, \(result.front.count) on the front; stopped: \(result.stopped)"
              + (result.interrupted ? " (best so far)" : "") + String(format: ", %.1f s", Date().timeIntervalSince(started)))
        for rejected in result.rejectedAfterBuild {
            print("build    #\(rejected.index) passed over: \(rejected.reason)")
        }
        if !result.front.isEmpty { printFront(result, board: board) }
        guard let pick = result.pick, let program = result.pickProgram else {
            if !result.rejectedAfterBuild.isEmpty {
                throw CommandError("no front point could be built within the budgets (RAM \(ram) B, flash \(flash) B) on \(board.name); see the reasons above and \(work)/log.jsonl")
            }
            if !result.front.isEmpty {
                fflush(nil)  // the front before the error
                throw CommandError("--pick \(pick): \(result.decision); the front is above and in \(work)/log.jsonl")
            }
            // Nothing was even sized: every candidate failed to build; say why, not "0 B".
            if !result.trials.isEmpty, result.trials.allSatisfy({ $0.evaluation.objectives == nil }) {
                let reasons = Set(result.trials.compactMap(\.evaluation.message)).sorted()
                throw CommandError("none of the \(result.trials.count) candidates could be built as a fixed-point program: "
                                   + (reasons.first ?? "no reason given") + (reasons.count > 1 ? " (and \(reasons.count - 1) other reasons; see \(work)/log.jsonl)" : ""))
            }
            throw CommandError(nothingFits(result, ram: ram, flash: flash).description)
        }
        let o = result.trials[pick].evaluation.objectives ?? .init(accuracy: 0, disagreement: 0, cycles: 0, ramBytes: 0, flashBytes: 0)
        // Every accuracy with its samples and 95% interval: one sample of a small split is points.
        let val = { (a: Double) in Format.accuracy(a, samples: result.valSamples) }
        let test = { (a: Double?) in a.map { Format.accuracy($0, samples: result.testSamples ?? 0) } ?? "-" }
        print("pick     #\(pick): val \(val(o.accuracy)) (float \(val(result.floatValAccuracy)))")
        print("         test \(test(result.pickTestAccuracy)) (float \(test(result.floatTestAccuracy)))")
        printDecision(result, pickAccuracy: o.accuracy)
        print("         estimated  \(Format.count(Int(o.cycles.rounded()))) cycles" + Format.milliseconds(o.cycles, clockHz: board.clockHz)
              + ", RAM \(Format.count(o.ramBytes)) B, flash \(Format.count(o.flashBytes)) B (cost model"
              + (board.cost.calibrated ? ", calibrated)" : ", not calibrated)"))
        if let m = result.pickMeasurement {
            print("         measured   \(Format.count(Int(m.meanCycles.rounded()))) cycles" + Format.milliseconds(m.meanCycles, clockHz: board.clockHz)
                  + ", \(m.cycleCount.rawValue); RAM \(Format.count(m.analysedRAM)) B (static \(Format.count(m.build.sizes.staticRAM))"
                  + " + worst-case stack \(m.build.stack.bytes)" + (result.pickPlainCRAM.map { "; with plain C kernels \(Format.count($0)) B" } ?? "")
                  + "), flash \(Format.count(m.firmware.programFlash)) B")
            if m.samples > 0 {
                // The estimate above is for the validation split's mean sequence length; these samples have their own.
                let predicted = m.meanPredictedCycles
                print("         cost model on the same \(m.samples) samples: \(Format.count(Int(predicted.rounded()))) cycles ("
                      + Format.signedPercent(predicted / max(m.meanCycles, 1) - 1) + " against measured)")
            }
            print("         \(m.build.elf.replacingOccurrences(of: work, with: out)): bit-exact \(m.values - m.mismatches)/\(m.values) values on \(m.samples) test samples")
        } else {
            print("         not built or run (--no-verify)")
        }
        // The pick's own sketch, built by the Arduino toolchain and run on the simulator.
        let sketch = try sketchDeployment.map { try $0.measurePick(program, dataset: job.dataset, directory: work) }
        if let sketch { print(SketchDeployment.describe(sketch, out: out, work: work)) }
        let notes = try reporting {
            try OutputWriter(directory: work, dataset: job.dataset, device: device)
                .write(program: program, result: result, ram: ram, flash: flash, sketch: sketch)
        }
        for note in notes { print("note     \(note)") }
        if emitFront {
            for index in result.front {
                let p = try reporting { try FixedProgram(graph: program.graph, config: result.space.config(for: result.trials[index].candidate)) }
                try reporting { try OutputWriter(directory: "\(work)/front/\(index)", dataset: job.dataset, device: device).writeC(program: p) }
                // So that `tune check --config` and `tune measure --config` take the point directly.
                try reporting { try p.config.write(to: "\(work)/front/\(index)/config.json") }
            }
        }
        try reporting { try RunDirectory(path: out).publish() }
        print("wrote    \(out)/model.c, model.h" + (FileManager.default.fileExists(atPath: "\(out)/model_input.c") ? ", model_input.c, model_input.h" : "") + ", firmware/ (\(board.core.rawValue)), sketch/\(ArduinoSketch.sketchName)/" + (sketch == nil ? "" : " (built in sketch-build/)") + ", arduino-library/\(ArduinoLibrary.name).zip, log.jsonl, summary.json"
              + (emitFront ? ", front/" : ""))
        if let sketch, !sketch.classesAgree {
            throw CommandError("the pick's Arduino sketch printed classes \(sketch.printedClasses.map { $0.map(String.init) ?? "-" }) where the emulator gives \(sketch.expectedClasses)")
        }
        if let sketch, sketch.countedRAM > budgetRAMTotal {
            throw CommandError("the pick's Arduino sketch needs \(sketch.countedRAM) B of RAM, over the \(budgetRAMTotal) B budget (the core measured on the all8 program took less beside it); give --reserve-ram \(sketch.countedRAM - budgetRAMTotal) more")
        }
        if let m = result.pickMeasurement, !m.isBitExact {
            throw CommandError("the pick's firmware printed \(m.mismatches) of \(m.values) values that differ from the emulator on \(board.name); first: \(m.firstMismatch ?? "")")
        }
        if result.interrupted {
            print("stopped  by Ctrl-C: the best so far is written; `tune --resume \(out)` continues the search")
            throw ExitCode(130)
        }
    }

    /// A fresh staging directory for a new run; for a resumed one, the stopped run's files (left in the
    /// staging directory by a kill, or in --out by Ctrl-C, which publishes what it has).
    private func prepareStaging(_ work: String, resuming: Bool) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandError("--out \(out) is a file; give a directory (it is created, or replaced when the run completes)")
        }
        let staged = fm.fileExists(atPath: "\(work)/run.json")
        if resuming && staged { return }
        do {
            if fm.fileExists(atPath: work) { try fm.removeItem(atPath: work) }
            if resuming, fm.fileExists(atPath: "\(out)/run.json") {
                try fm.copyItem(atPath: out, toPath: work)
            } else {
                try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
            }
        } catch { throw CommandError("cannot prepare \(work) for the run's files: \(error.localizedDescription)") }
    }

    /// Which measure decided the pick, and a warning when the validation split cannot tell candidates apart.
    private func printDecision(_ result: TuningJob.Result, pickAccuracy: Double) {
        print("decided  \(result.decision)")
        let feasible = result.trials.filter { $0.evaluation.outcome == .ok }.compactMap { $0.evaluation.objectives?.accuracy }
        let tied = feasible.filter { $0 == pickAccuracy }.count
        if result.floatValAccuracy >= 1 {
            print("warning  the float model scores 100% on the \(result.valSamples) validation samples: validation accuracy cannot tell "
                  + "a program that follows it from one that does not; fidelity on \(result.fidelitySamples) samples decides")
        } else if feasible.count >= 4, tied * 2 > feasible.count {
            print("warning  most candidates (\(tied) of \(feasible.count)) tie at the best validation accuracy: the \(result.valSamples) "
                  + "validation samples cannot tell them apart; fidelity on \(result.fidelitySamples) samples decides")
        }
    }

    private func printFront(_ result: TuningJob.Result, board: Target) {
        var table = TextTable(["#", "val acc", "disagree", "logit err", "cycles", "ms", "RAM B", "flash B", "8-bit tensors"], numeric: Set(0...8))
        let front = result.front.sorted {
            (result.trials[$0].evaluation.objectives?.ramBytes ?? 0, $0) < (result.trials[$1].evaluation.objectives?.ramBytes ?? 0, $1)
        }
        for index in front {
            guard let o = result.trials[index].evaluation.objectives else { continue }
            let eight = result.trials[index].candidate.genes.filter { $0.bits == 8 }.count
            table.add(["\(index)", Format.percent(o.accuracy), Format.percent(o.disagreement), String(format: "%.5f", o.logitError), Format.count(Int(o.cycles)),
                       String(format: "%.2f", o.cycles / Double(board.clockHz) * 1000), Format.count(o.ramBytes),
                       Format.count(o.flashBytes), "\(eight)/\(result.space.variables.count)"])
        }
        print("front    (feasible and non-dominated; val accuracy; disagreement with float and logit error on the \(result.fidelitySamples) "
              + "fidelity samples, \(result.fidelitySource); estimated cycles, RAM and flash)")
        print(table.render())
    }

    /// Says what the smallest candidate needed and which tensors dominate it.
    private func nothingFits(_ result: TuningJob.Result, ram: Int, flash: Int) -> TunerError {
        let sized = result.trials.compactMap { trial in trial.evaluation.objectives.map { (trial, $0) } }
        guard let smallest = sized.min(by: { ($0.1.ramBytes, $0.1.flashBytes) < ($1.1.ramBytes, $1.1.flashBytes) }) else {
            return .nothingFits(smallestRAM: 0, budgetRAM: ram, smallestFlash: 0, budgetFlash: flash, largestTensors: [])
        }
        // RAM holds the activations, flash the weights: name the tensors of the budget that breaks.
        let overRAM = smallest.1.ramBytes > ram
        let largest = TuningJob.largestTensors(result.space, config: result.space.config(for: smallest.0.candidate), weights: !overRAM)
        return .nothingFits(smallestRAM: smallest.1.ramBytes, budgetRAM: ram, smallestFlash: smallest.1.flashBytes,
                            budgetFlash: flash, largestTensors: largest)
    }
}
