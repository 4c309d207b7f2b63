import Evaluator
import FixedPoint
import Foundation
import ModelIR

/// A config named on the command line: a preset (data-driven scales from the validation split) or a file.
public enum ConfigSource {
    public static func resolve(_ argument: String, model: LoadedModel, dataset: Dataset) throws -> QuantConfig {
        if Presets.names.contains(argument) || !argument.contains("/") && !argument.hasSuffix(".json") {
            let calibration = try dataset.load(split: dataset.availableSplits.contains("val") ? "val" : "test")
            let profile = try Calibration.profile(model.graph, on: calibration)
            return try Presets.config(argument, graph: try Lowering.lower(model.graph), profile: profile)
        }
        return try QuantConfig.load(argument)
    }
}
