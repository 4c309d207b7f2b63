import ArgumentParser
import Devices
import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a model and config for a board with its toolchain, run it on the board's simulator, and compare outputs, cycles, flash and RAM with the predictions.",
        discussion: """
            AVR boards are built with avr-gcc and run on simavr, which counts every cycle; Cortex-M boards \
            are built with arm-none-eabi-gcc and run on qemu, whose instructions are counted exactly and \
            timed by the core's technical reference manual ("instruction-timed" cycles). The firmware \
            (the same main.c the tuner writes) runs test samples stored in flash and prints every output; \
            each must equal the emulator's. RAM is the size tool's static RAM plus the deepest stack seen \
            on the simulator, set beside the worst case analysed from -fstack-usage and the call graph \
            (what the tuner budgets) and the cost model's estimate. Exits non-zero on any output \
            mismatch. CONFIG is a config file (JSON, e.g. out/config.json) or a preset: \
            \(Presets.names.joined(separator: ", ")).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("A config file or a preset (\(Presets.names.joined(separator: ", "))).", valueName: "config"))
    var config = "datadriven"

    @Option(name: .long, help: ArgumentHelp("Board; see 'tune targets'.", valueName: "name"))
    var target = "uno"

    @Option(name: .long, help: "Most test samples to run (as many as fit in flash).")
    var samples = 32

    @Option(name: .long, help: ArgumentHelp("Directory for the sources and firmware.elf (default: a new temporary one).", valueName: "dir"))
    var out: String?

    @Flag(name: .customLong("per-node"), help: "Also build a variant that marks every node and print each node's measured cycles beside the cost model's (where the time goes), how the model priced it, and its function's bytes in the firmware beside the model's; then the code bytes by part (node functions, routines, the rest) beside the firmware's, and whether `tune --measure-runs` would measure this program.")
    var perNode = false

    @Flag(name: .customLong("no-profile"), help: "Predict with the board's calibrated coefficients alone, not corrected by this model's kernel profile (the one `tune` measures before a search, cached under .build/mcutune-profiles).")
    var noProfile = false

    func validate() throws {
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    func run() throws {
        let job = try LoadedJob.load(model: modelOptions.model, data: modelOptions.data)
        let directory = out ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-measure-\(UUID().uuidString.prefix(8))")
        var profile: KernelProfile?
        let (m, program, device, test) = try reporting { () throws -> (FirmwareMeasurement, FixedProgram, any Device, DatasetSplit) in
            let board = try TargetCatalog.load(directory: job.resources.targetsDirectory).target(named: target)
            let device = try DeviceCatalog(root: job.resources.root).device(for: board)
            let quant = try ConfigSource.resolve(config, model: job.model, dataset: job.dataset)
            let program = try FixedProgram(graph: job.model.graph, config: quant)
            let test = try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val")
            if !noProfile {
                let profiling = KernelProfiling(device: device, cacheDirectory: KernelProfiling.cacheDirectory(root: job.resources.root))
                profile = try profiling.profile(model: job.model, dataset: job.dataset, directory: "\(directory)/profile")?.0
            }
            let m = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: samples, directory: directory,
                                                profile: profile)
            return (m, program, device, test)
        }
        let board = device.target
        let tools = (try? device.toolchainDescription()).map { "\($0.compiler); \($0.simulator)" } ?? ""
        print("model    \(job.model.graph.name), config \(config) (\(program.config.fingerprint))")
        print("target   \(board.name): \(board.mcu) (\(board.core.rawValue)) at \(Format.hertz(board.clockHz)); \(tools)")
        print("firmware \(m.build.elf)")
        print("outputs  bit-exact on \(board.name): \(m.values - m.mismatches)/\(m.values) values of \(m.samples) test samples"
              + (m.samples < min(samples, test.count) ? " (only \(m.samples) of the \(min(samples, test.count)) asked for fit in flash beside the program)" : ""))
        let mean = m.meanCycles, predicted = m.meanPredictedCycles
        print("cycles   measured \(Format.count(Int(mean.rounded()))) per inference, \(m.cycleCount.rawValue) (\(Format.count(m.cycles.min() ?? 0))-\(Format.count(m.cycles.max() ?? 0)))"
              + String(format: ", %.2f ms; cost model %@ (%@)", mean / Double(board.clockHz) * 1000,
                       Format.count(Int(predicted.rounded())), Format.signedPercent(predicted / max(mean, 1) - 1))
              + (profile == nil ? "" : ", with this model's kernel profile"))
        print("flash    \(Format.count(m.firmware.programFlash)) B for the program (size tool: \(Format.count(m.build.sizes.flash)) B with "
              + "\(Format.count(m.firmware.sampleBytes)) B of test samples); cost model \(Format.count(m.prediction.flashBytes)) B ("
              + Format.signedPercent(Double(m.prediction.flashBytes) / Double(max(m.firmware.programFlash, 1)) - 1) + ")")
        let s = m.build.sizes
        print("RAM      static \(Format.count(s.staticRAM)) B (size tool: .data \(s.data) + .bss \(s.bss)); cost model \(Format.count(m.prediction.staticBytes)) B")
        print("         stack measured on the simulator \(m.run.peakStackBytes) B (\(m.run.peakStackInRegionsBytes) B inside inferences); "
              + "analysed worst case \(m.build.stack.bytes) B: \(m.build.stack.path.joined(separator: " > "))")
        print("         total: measured \(Format.count(m.measuredRAM)) B, analysed \(Format.count(m.analysedRAM)) B ("
              + Format.signedPercent(Double(m.analysedRAM) / Double(max(m.measuredRAM, 1)) - 1) + "), cost model \(Format.count(m.prediction.ramBytes)) B ("
              + Format.signedPercent(Double(m.prediction.ramBytes) / Double(max(m.measuredRAM, 1)) - 1) + ")")
        if perNode {
            try printPieces(program: program, device: device, split: test.prefix(min(samples, 4)), directory: directory, profile: profile,
                            symbols: m.build.symbolBytes)
            if let profile { printCodeParts(program: program, board: board, profile: profile, build: m.build, programFlash: m.firmware.programFlash) }
        }
        if let first = m.firstMismatch {
            throw CommandError("\(m.mismatches) of \(m.values) values differ between the emulator and \(board.name); first: \(first)")
        }
    }

    /// The cost model's code bytes by where they come from beside the firmware's: the nodes'
    /// functions, the routines reached from `main` through them or not (library, helpers, the
    /// harness's own), and the
    /// rest (the glue at its price plus the profile's intercept) with the constants taken off.
    private func printCodeParts(program: FixedProgram, board: Target, profile: KernelProfile, build: FirmwareBuild, programFlash: Int) {
        let model = CostModel(target: board, meanSteps: 1, profile: profile)
        guard let parts = model.codeParts(program) else { return }
        let functions = CEmitter.nodeFunctionNames(of: program)
        let measuredNodes = Set(functions.values).reduce(0) { $0 + (build.symbolBytes[$1] ?? 0) }
        let reached = build.callGraph.reachable(from: "main").subtracting(functions.values)
        let measuredRoutines = Dictionary(uniqueKeysWithValues: reached.map { ($0, build.symbolBytes[$0] ?? 0) })
        let constants = CostModel.constantBytes(program, dsp: board.core.hasDSP)
        let (pricedNodes, pricedRoutines) = (parts.nodes.values.reduce(0, +), parts.routines.values.reduce(0, +))
        let rest = programFlash - constants - measuredNodes - measuredRoutines.values.reduce(0, +)
        let differing = Set(parts.routines.keys).union(measuredRoutines.keys).sorted().compactMap { name -> String? in
            let (p, m) = (parts.routines[name], measuredRoutines[name])
            return p == m ? nil : "\(name) \(p.map(String.init) ?? "-")/\(m.map(String.init) ?? "-")"
        }
        print("code (cost model / firmware, bytes): node functions \(Format.count(Int(pricedNodes.rounded())))/\(Format.count(measuredNodes)); "
              + "routines \(Format.count(pricedRoutines))/\(Format.count(measuredRoutines.values.reduce(0, +)))"
              + (differing.isEmpty ? "" : " (\(differing.joined(separator: ", ")))")
              + "; the rest \(Format.count(Int((parts.glue + parts.intercept).rounded())))/\(Format.count(rest)) "
              + String(format: "(glue priced %.0f, intercept %.0f); constants %@ as the emitter writes them; ", parts.glue, parts.intercept,
                       Format.count(constants))
              + "nodes' bytes the coefficients put away from what was measured: \(Format.count(Int(parts.unmeasured.rounded()))) "
              + (model.needsMeasurement(program) ? "(tune --measure-runs would measure this program)" : "(tune --measure-runs would not measure this program)"))
    }

    /// Each node and piece of API glue, measured in a build that marks them, beside the cost model;
    /// and each node's function in the measured firmware (`symbols`), beside what the model says.
    private func printPieces(program: FixedProgram, device: any Device, split: DatasetSplit, directory: String, profile: KernelProfile?,
                             symbols: [String: Int]) throws {
        let pieces = try reporting { try ProgramMeasurement.measurePieces(program, split: split, device: device, directory: "\(directory)/per-node") }
        let total = pieces.reduce(0) { $0 + $1.cycles }
        let functions = CEmitter.nodeFunctionNames(of: program)
        let codes = CostFeatures.nodeCode(program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr)
        var table = TextTable(["piece", "kernel", "measured", "cost model", "error", "share", "priced by", "code B", "code model"],
                              numeric: [2, 3, 4, 5, 7, 8])
        for piece in pieces {
            let price = device.target.cost.price(piece.features, in: \.cycles)
            let found = profile?.lookup(node: piece.label, counts: piece.features, priced: price)
            let predicted = found?.cycles ?? price
            // The kernel variant (a fused chain lists its terms under one variant), else the glue's terms.
            let kernel = CostFeatures.variant(piece.features).map { String($0.dropLast(".call".count)) }
                ?? piece.features.keys.filter { $0.hasSuffix(".mac") || $0.hasSuffix(".elem") }.sorted().joined(separator: " ")
            // A node computed in another's loop (a fused chain) has no code of its own.
            let empty = piece.cycles < 0.5 && predicted < 0.5
            // Its function's bytes in the firmware measured above, and as the cost model prices them.
            var code = ["", ""]
            if let terms = codes[piece.label] {
                let priced = device.target.cost.price(terms, in: \.codeBytes)
                let modelled = profile?.code(node: piece.label, counts: piece.features, priced: priced, cycles: predicted) ?? priced
                code = [functions[piece.label].flatMap { symbols[$0] }.map(Format.count) ?? "-", Format.count(Int(modelled.rounded()))]
            }
            table.add([piece.label, kernel, Format.count(Int(piece.cycles.rounded())), Format.count(Int(predicted.rounded())),
                       empty ? "-" : Format.signedPercent(predicted / max(piece.cycles, 1) - 1), Format.percent(piece.cycles / max(total, 1)),
                       empty ? "-" : found?.basis.rawValue ?? "coefficients"] + code)
        }
        print("per node (a build that marks every node, \(split.count) samples; cycles per execution, marks taken off; "
              + "code: bytes of the node's function in the firmware above):")
        print(table.render())
    }
}
