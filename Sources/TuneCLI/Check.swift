import ArgumentParser
import Devices
import Evaluator
import FixedPoint
import Foundation
import ModelIR
import Tuner

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Emit the C for a model and config, compile it (host cc, UBSan), run a split through it and compare every output with the emulator.",
        discussion: """
            CONFIG is a config file (JSON) or a preset: \(Presets.names.joined(separator: ", ")). Presets take \
            data-driven scales from the validation split: all16 and all8 put every tensor at 16 or 8 bits, \
            datadriven puts weights at 8 and activations at 16. Exits non-zero on any mismatch.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("A config file or a preset (\(Presets.names.joined(separator: ", "))).", valueName: "config"))
    var config = "datadriven"

    @Option(name: .long, help: "The split to run (val or test).")
    var split = "test"

    @Option(name: .long, help: ArgumentHelp("Directory for model.h, model.c and the harness (default: a new temporary one).", valueName: "dir"))
    var out: String?

    func validate() throws {
        guard ["val", "test", "train"].contains(split) else { throw ValidationError("--split must be val or test, got '\(split)'") }
    }

    func run() throws {
        let job = try LoadedJob.load(model: modelOptions.model, data: modelOptions.data)
        let directory = out ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-check-\(UUID().uuidString.prefix(8))")
        let (report, program, floatAccuracy) = try reporting { () throws -> (BitExactCheck.Report, FixedProgram, Double) in
            let quant = try ConfigSource.resolve(config, model: job.model, dataset: job.dataset)
            let program = try FixedProgram(graph: job.model.graph, config: quant)
            let data = try job.dataset.load(split: split)
            let floatOutputs = try FloatEvaluator(graph: job.model.graph).run(data)
            let floatAccuracy = Accuracy.of(floatOutputs, labels: data.labels, outputsClassIndex: job.model.graph.outputsClassIndex)
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw DeviceError.cannotWrite(path: directory, reason: error.localizedDescription)
            }
            return (try BitExactCheck.run(program: program, split: data, directory: directory), program, floatAccuracy)
        }
        print("model      \(job.model.graph.name), config \(config) (\(program.config.fingerprint))")
        print("C          \(report.directory)/model.c: arena \(report.arenaBytes) B (lower bound \(report.arenaLowerBound) B), weights and tables \(Format.bytes(report.constantBytes))")
        print("bit-exact: \(report.exactSamples)/\(report.samples)")
        print("accuracy   \(split): float \(Format.percent(floatAccuracy)), emulator \(Format.percent(report.emulatorAccuracy)), C \(Format.percent(report.cAccuracy))")
        if let first = report.firstMismatch {
            throw CommandError("\(report.mismatches) of \(report.values) values differ between the emulator and the C; first: \(first)")
        }
    }
}
