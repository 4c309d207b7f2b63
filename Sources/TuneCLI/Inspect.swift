import ArgumentParser
import Foundation
import ModelIR
import Tuner

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, shapes, parameters, MACs per inference and float accuracy.",
        discussion: "MODEL is a model directory, its model.json, the name of a bundled model (default: "
            + "\(BundledResources.defaultModelName)), or an ONNX file (*.onnx) with --data DIR; for an ONNX file, how each of its "
            + "nodes was imported (mapped, folded, removed, renamed) is printed first.")

    @Argument(help: ArgumentHelp("Model directory, bundled model name, or ONNX file.", valueName: "model"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Dataset directory (default: the one the model names; required for an ONNX model).",
                                            valueName: "path"))
    var data: String?

    @Flag(name: .long, help: "Also list the primitive ops that recurrent cells are lowered to.")
    var lowered = false

    func run() throws {
        let job = try LoadedJob.load(model: model, data: data)
        let graph = job.model.graph
        let splits = job.dataset.availableSplits.filter { $0 != "train" }
        let baseline = try reporting { try FloatBaseline.measure(job.model, dataset: job.dataset, splits: splits) }

        if let report = job.onnxReport {
            report.lines.forEach { print($0) }
            print("")
        }
        print("\(graph.name)" + (job.model.file?.description.map { ": \($0)" } ?? ""))
        print("model    \(job.onnxReport?.path ?? job.model.directory)")
        print("input    \(graph.input.name): " + (graph.input.isSequence ? "sequence of \(graph.input.shape)" : "\(graph.input.shape)"))
        print("dataset  \(job.dataset.directory) (" + baseline.results.map { "\($0.split) \($0.samples)" }.joined(separator: ", ") + ")")
        print("")
        let layers = graph.layerStatistics()
        var table = TextTable(["node", "op", "output", "params", "MACs"], numeric: [3, 4])
        for layer in layers {
            table.add([layer.node, layer.op, "\(layer.outputShape)", Format.count(layer.parameters),
                       Format.count(layer.macs) + (layer.perStep ? " per step" : "")])
        }
        print(table.render())
        print("")
        let parameters = graph.parameterCount
        print("parameters  \(Format.count(parameters)) (\(Format.bytes(parameters * 4)) as float32)")
        print(macsLine(layers, baseline: baseline))
        print("")
        var accuracy = TextTable(["split", "samples", "float accuracy", "recorded by training", "max |logit - reference|"],
                                 numeric: [1, 2, 3, 4])
        for r in baseline.results {
            accuracy.add([r.split, "\(r.samples)", Format.percent(r.accuracy), r.recordedAccuracy.map(Format.percent) ?? "-",
                          r.maxReferenceDifference.map { String(format: "%.1e", $0) } ?? "-"])
        }
        print(accuracy.render())
        if let script = job.model.file?.training?.script { print("\ntrained by  \(script)") }
        if lowered { printLowered(graph) }
    }

    private func macsLine(_ layers: [LayerStatistics], baseline: FloatBaseline) -> String {
        let fixed = layers.filter { !$0.perStep }.reduce(0) { $0 + $1.macs }
        let perStep = layers.filter(\.perStep).reduce(0) { $0 + $1.macs }
        guard perStep > 0, let steps = (baseline.results.last { $0.split == "test" } ?? baseline.results.last)?.steps else {
            return "MACs        \(Format.count(fixed)) per inference"
        }
        let mean = fixed + Int((Double(perStep) * steps.mean).rounded())
        return "MACs        \(Format.count(mean)) per inference at the mean \(String(format: "%.1f", steps.mean)) steps; "
            + "\(Format.count(fixed + perStep * steps.max)) at the longest, \(steps.max) steps (\(Format.count(perStep)) per step)"
    }

    private func printLowered(_ graph: Graph) {
        guard let lowered = try? Lowering.lower(graph) else { return }
        for node in lowered.nodes {
            guard case let .loop(loop) = node.op else { continue }
            print("\n\(node.name): loop over \(graph.input.name), states " + loop.states.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))
            var table = TextTable(["tensor", "op", "inputs", "weights", "shape"])
            for inner in loop.body {
                table.add([inner.output, inner.op.name, inner.inputs.joined(separator: ", "),
                           inner.weights.keys.sorted().joined(separator: ","), "\(lowered.shapes[inner.output] ?? Shape([]))"])
            }
            print(table.render())
        }
    }
}
