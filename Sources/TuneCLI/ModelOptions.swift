import ArgumentParser
import Foundation
import ModelIR
import ONNXImport
import Tuner

/// `--model` and `--data`, shared by the commands that load a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (or its model.json), the name of a bundled model, or an ONNX "
                                            + "file (*.onnx, imported on the way in; needs --data).", valueName: "path"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Dataset directory (default: the one the model names; required for an ONNX model).",
                                            valueName: "path"))
    var data: String?

    func validate() throws {
        if let model, model.isEmpty { throw ValidationError("--model must not be empty") }
        if let data, data.isEmpty { throw ValidationError("--data must not be empty") }
    }
}

/// A model and its dataset, loaded and checked against each other.
struct LoadedJob {
    var resources: BundledResources
    var model: LoadedModel
    var dataset: Dataset
    /// How the model was imported, when `--model` named an ONNX file.
    var onnxReport: ONNXImportReport?

    /// Loads `argument` (a model directory, its model.json, a bundled model's name or an `.onnx`
    /// file) and the dataset `data`, or the one the model names.
    static func load(model argument: String?, data: String?) throws -> LoadedJob {
        try reporting {
            let resources = try BundledResources.locate().get()
            let path = resources.resolveModel(argument)
            let model: LoadedModel
            var report: ONNXImportReport?
            if ONNXImporter.isONNXPath(path) {
                // An ONNX file names no dataset: ask for one before the import does any work.
                guard data != nil else {
                    throw CommandError("\(path) is an ONNX model, which names no dataset; pass its dataset directory with --data DIR")
                }
                let imported = try ONNXImporter.importModel(at: path)
                let directory = (path as NSString).deletingLastPathComponent
                model = LoadedModel(graph: imported.graph, file: nil, directory: directory.isEmpty ? "." : directory)
                report = imported.report
            } else {
                model = try ModelLoader.load(path)
            }
            guard let datasetPath = data ?? model.datasetPath else { throw TunerError.noDataset(model: model.graph.name) }
            let dataset = try Dataset.open(datasetPath)
            try dataset.check(against: model.graph)
            return LoadedJob(resources: resources, model: model, dataset: dataset, onnxReport: report)
        }
    }
}
