import ArgumentParser
import Foundation
import ModelIR
import Tuner

/// `--model` and `--data`, shared by the commands that load a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (or its model.json), or the name of a bundled model.",
                                            valueName: "path"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Dataset directory (default: the one the model names).", valueName: "path"))
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

    static func load(model argument: String?, data: String?) throws -> LoadedJob {
        try reporting {
            let resources = try BundledResources.locate().get()
            let model = try ModelLoader.load(resources.resolveModel(argument))
            guard let datasetPath = data ?? model.datasetPath else { throw TunerError.noDataset(model: model.graph.name) }
            let dataset = try Dataset.open(datasetPath)
            try dataset.check(against: model.graph)
            return LoadedJob(resources: resources, model: model, dataset: dataset)
        }
    }
}
