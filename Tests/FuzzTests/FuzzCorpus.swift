import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import TestSupport

/// The seed inputs the fuzzer mutates: for every bundled model, a case directory's files held in
/// memory, by path relative to the case root:
///
///     model/model.json, model/weights/*.npy, model/reference/{val,test}_logits.npy
///     data/dataset.json, data/{val,test}_{x,y,lengths}.npy     (the first few samples of each split)
///     targets/NAME.json                                          (one bundled board)
///     config.json                                                (the datadriven preset, as `tune` writes it)
///
/// The model's `dataset` points at `../data`, and its reference logits are cut to the same samples,
/// so an unmutated seed runs the whole pipeline cleanly.
struct FuzzSeed: Sendable {
    var model: String
    var target: String
    var files: [String: Data]
    /// The JSON files parsed once (the target alone has thousands of keys).
    var documents: [String: JSONValue]
    /// The dataset's classes and the longest sequence, for mutations that aim just past them.
    var classes: Int
    var maxSteps: Int
    var isSequence: Bool
}

enum FuzzCorpus {
    static let valSamples = 6
    static let testSamples = 4

    /// One seed per bundled model, each with a bundled target (in turn).
    static func seeds() throws -> [FuzzSeed] {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Repository.path("configs/targets"))
            .filter { $0.hasSuffix(".json") }.sorted()
        return try Repository.models.enumerated().map { i, name in
            try seed(model: name, target: targets[i % targets.count])
        }
    }

    static func seed(model name: String, target: String) throws -> FuzzSeed {
        let modelDir = Repository.path("models/\(name)")
        let loaded = try ModelLoader.load(modelDir)
        guard let dataDir = loaded.datasetPath else { throw FuzzSetupError("\(name) names no dataset") }
        var files: [String: Data] = [:]

        // The model: model.json pointing at ../data, its weights as they are, its reference logits cut.
        guard var json = JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: "\(modelDir)/model.json"))) else {
            throw FuzzSetupError("\(name)/model.json does not parse")
        }
        json.set([.key("dataset")], to: .string("../data"))
        files["model/model.json"] = json.data
        for (_, relative) in (loaded.file?.constants ?? [:]) {
            files["model/\(relative)"] = try Data(contentsOf: URL(fileURLWithPath: "\(modelDir)/\(relative)"))
        }
        let counts = ["val": valSamples, "test": testSamples]
        for (split, relative) in loaded.file?.training?.reference_logits ?? [:] {
            guard let n = counts[split] else { continue }
            files["model/\(relative)"] = try prefix(of: "\(modelDir)/\(relative)", rows: n)
        }

        // The data: the first samples of val and test, and a dataset.json that lists just those.
        let dataset = try Dataset.open(dataDir)
        for (split, n) in counts {
            for part in ["x", "y", "lengths"] where FileManager.default.fileExists(atPath: "\(dataDir)/\(split)_\(part).npy") {
                files["data/\(split)_\(part).npy"] = try prefix(of: "\(dataDir)/\(split)_\(part).npy", rows: n)
            }
        }
        guard var description = JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: "\(dataDir)/dataset.json"))) else {
            throw FuzzSetupError("\(dataDir)/dataset.json does not parse")
        }
        description.set([.key("splits")], to: .object([("test", .int(testSamples)), ("val", .int(valSamples))]))
        files["data/dataset.json"] = description.data

        files["targets/\(target)"] = try Data(contentsOf: URL(fileURLWithPath: Repository.path("configs/targets/\(target)")))

        // The config `tune` would write for the datadriven preset.
        let val = try dataset.load(split: "val").prefix(valSamples)
        let profile = try Calibration.profile(loaded.graph, on: val)
        let config = try Presets.config("datadriven", graph: try Lowering.lower(loaded.graph), profile: profile)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        files["config.json"] = try encoder.encode(config)

        var documents: [String: JSONValue] = [:]
        for (path, data) in files where path.hasSuffix(".json") { documents[path] = JSONValue.parse(data) }
        return FuzzSeed(model: name, target: target, files: files, documents: documents, classes: dataset.classes,
                        maxSteps: val.maxSteps, isSequence: dataset.isSequence)
    }

    /// The first `rows` rows of a `.npy` file, in its own dtype.
    static func prefix(of path: String, rows: Int) throws -> Data {
        let array = try NumpyArray.read(contentsOf: path)
        let n = min(rows, array.shape.first ?? 0)
        let rowLength = array.shape.dropFirst().reduce(1, *)
        return NumpyArray(shape: [n] + array.shape.dropFirst(), dtype: array.dtype, values: Array(array.values.prefix(n * rowLength))).encoded()
    }
}

struct FuzzSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
