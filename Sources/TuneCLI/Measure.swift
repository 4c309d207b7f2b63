import ArgumentParser
import Emit
import FixedPoint
import Foundation
import Hardware
import Tuner

struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a model and config for an AVR board with avr-gcc, run it on simavr, and compare outputs, cycles, flash and RAM with the predictions.",
        discussion: """
            The firmware (the same main.c the tuner writes) runs test samples stored in flash and prints \
            every output; each must equal the emulator's. RAM is measured as avr-size's static RAM plus \
            the deepest stack seen on the simulator, and set beside the worst case analysed from \
            -fstack-usage and the call graph (what the tuner budgets) and the cost model's estimate. \
            Exits non-zero on any output mismatch. CONFIG is a config file (JSON, e.g. out/config.json) \
            or a preset: \(Presets.names.joined(separator: ", ")).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("A config file or a preset (\(Presets.names.joined(separator: ", "))).", valueName: "config"))
    var config = "datadriven"

    @Option(name: .long, help: ArgumentHelp("AVR board; see 'tune targets'.", valueName: "name"))
    var target = "uno"

    @Option(name: .long, help: "Most test samples to run (as many as fit in flash).")
    var samples = 32

    @Option(name: .long, help: ArgumentHelp("Directory for the sources and firmware.elf (default: a new temporary one).", valueName: "dir"))
    var out: String?

    func validate() throws {
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    func run() throws {
        let job = try LoadedJob.load(model: modelOptions.model, data: modelOptions.data)
        let directory = out ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-measure-\(UUID().uuidString.prefix(8))")
        let (m, program, board) = try reporting { () throws -> (AVRMeasurement, FixedProgram, Target) in
            let board = try TargetCatalog.load(directory: job.resources.targetsDirectory).target(named: target)
            guard board.core == .avr else {
                let avr = try TargetCatalog.load(directory: job.resources.targetsDirectory).targets.filter { $0.core == .avr }.map(\.name)
                throw CommandError("--target \(target) is a \(board.core.rawValue) board; measure runs AVR boards on simavr: \(avr.joined(separator: ", "))")
            }
            let quant = try ConfigSource.resolve(config, model: job.model, dataset: job.dataset)
            let program = try FixedProgram(graph: job.model.graph, config: quant)
            let test = try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val")
            let m = try AVRMeasurement.run(program: program, target: board, split: test, maxSamples: samples,
                                           directory: directory, resources: job.resources)
            return (m, program, board)
        }
        print("model    \(job.model.graph.name), config \(config) (\(program.config.fingerprint))")
        print("target   \(board.name): \(board.mcu) at \(Format.hertz(board.clockHz)); avr-gcc -O2, simavr; \(m.build.elf)")
        print("outputs  bit-exact on the AVR: \(m.values - m.mismatches)/\(m.values) values of \(m.samples) test samples")
        let mean = m.meanCycles, predicted = m.meanPredictedCycles
        print("cycles   measured \(Format.count(Int(mean.rounded()))) per inference (\(Format.count(m.cycles.min() ?? 0))-\(Format.count(m.cycles.max() ?? 0)))"
              + String(format: ", %.2f ms; cost model %@ (%@)", mean / Double(board.clockHz) * 1000,
                       Format.count(Int(predicted.rounded())), Format.signedPercent(predicted / max(mean, 1) - 1)))
        let sampleBytes = m.build.samples.flashBytes(inputBits: program.inputFormat.bits)
        print("flash    \(Format.count(m.build.sizes.flash)) B (avr-size), of which \(Format.count(sampleBytes)) B test samples; "
              + "cost model \(Format.count(m.prediction.flashBytes)) B for the model")
        let s = m.build.sizes
        print("RAM      static \(Format.count(s.staticRAM)) B (avr-size: .data \(s.data) + .bss \(s.bss)); cost model \(Format.count(m.prediction.staticBytes)) B")
        print("         stack measured on simavr \(m.run.peakStackBytes) B (\(m.run.ramend - m.run.minSPRegion) B inside inferences); "
              + "analysed worst case \(m.build.stack.bytes) B: \(m.build.stack.path.joined(separator: " > "))")
        print("         total: measured \(Format.count(m.measuredRAM)) B, analysed \(Format.count(m.analysedRAM)) B ("
              + Format.signedPercent(Double(m.analysedRAM) / Double(max(m.measuredRAM, 1)) - 1) + "), cost model \(Format.count(m.prediction.ramBytes)) B ("
              + Format.signedPercent(Double(m.prediction.ramBytes) / Double(max(m.measuredRAM, 1)) - 1) + ")")
        if let first = m.firstMismatch {
            throw CommandError("\(m.mismatches) of \(m.values) values differ between the emulator and the AVR; first: \(first)")
        }
    }
}
