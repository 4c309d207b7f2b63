import Foundation

/// One split of a dataset, held in memory: inputs, labels and (for sequences) lengths.
public struct DatasetSplit: Sendable {
    public var name: String
    /// Row-major `[count, ...sampleShape]`, or `[count, maxSteps, ...stepShape]` for sequences.
    public var inputs: [Double]
    public var labels: [Int]
    /// Steps of each sequence (nil for non-sequence data).
    public var lengths: [Int]?
    public var sampleShape: Shape
    public var maxSteps: Int

    public var count: Int { labels.count }

    public init(name: String, inputs: [Double], labels: [Int], lengths: [Int]?, sampleShape: Shape, maxSteps: Int) {
        self.name = name
        self.inputs = inputs
        self.labels = labels
        self.lengths = lengths
        self.sampleShape = sampleShape
        self.maxSteps = maxSteps
    }

    /// The first `n` samples (all of them if there are fewer).
    public func prefix(_ n: Int) -> DatasetSplit {
        let kept = max(0, min(n, count))
        let perSample = inputs.count / max(count, 1)
        return DatasetSplit(name: name, inputs: Array(inputs[0..<(kept * perSample)]), labels: Array(labels[0..<kept]),
                            lengths: lengths.map { Array($0[0..<kept]) }, sampleShape: sampleShape, maxSteps: maxSteps)
    }
}

/// A dataset directory (docs/model-format.md): `dataset.json` and `SPLIT_x/y/lengths.npy`.
public struct Dataset: Sendable {
    public struct Description: Codable, Sendable {
        public var format: String
        public var version: Int
        public var name: String
        public var source: String?
        public var script: String?
        public var sample_shape: [Int]
        public var sequence: Bool?
        public var classes: Int
        public var splits: [String: Int]?
        /// Sequences: where the zero steps of a shorter sample are, `end` (the default) or `start`
        /// (as Keras and many PyTorch pipelines pad); `load` puts every sample's steps first.
        public var padding: String?
        /// Class names, index = class.
        public var labels: [String]?
        /// What was done to the raw values (already applied to every stored `x`).
        public var normalisation: Normalisation.Record?
    }

    /// The values `padding` may take.
    public static let paddings = ["end", "start"]

    public var directory: String
    public var description: Description
    /// The checked `normalisation` record, nil when `dataset.json` has none.
    public var normalisation: Normalisation?

    /// Channels of a sample: the last dimension of `sample_shape` (what normalisation is per).
    public var channels: Int { description.sample_shape.last ?? 1 }
    /// Class names, when `dataset.json` has one per class.
    public var labels: [String]? { description.labels.flatMap { $0.count == classes ? $0 : nil } }

    public var isSequence: Bool { description.sequence ?? false }
    public var classes: Int { description.classes }

    public static func open(_ directory: String) throws(ModelError) -> Dataset {
        let jsonPath = (directory as NSString).appendingPathComponent("dataset.json")
        guard FileManager.default.fileExists(atPath: jsonPath) else {
            throw .fileNotFound(path: jsonPath, what: "dataset description")
        }
        guard let data = FileManager.default.contents(atPath: jsonPath) else {
            throw .unreadable(path: jsonPath, reason: "permission denied or not a file")
        }
        let description: Description
        do { description = try JSONDecoder().decode(Description.self, from: data) } catch let error as DecodingError {
            throw .malformedJSON(path: jsonPath, reason: ModelFile.describe(error, data: data, decoding: Description.self))
        } catch { throw .malformedJSON(path: jsonPath, reason: "\(error)") }
        guard description.format == "mcutune-dataset", description.version == 1 else {
            throw .unsupportedFormat(path: jsonPath, found: "format '\(description.format)' version \(description.version)",
                                     expected: "\"mcutune-dataset\" version 1")
        }
        guard description.classes >= 1 else {
            throw .datasetMismatch(path: jsonPath, reason: "classes must be at least 1")
        }
        if let padding = description.padding, !paddings.contains(padding) {
            throw .datasetMismatch(path: jsonPath, reason: "padding '\(padding)' is not a side; allowed: \(paddings.joined(separator: ", "))")
        }
        if let labels = description.labels, labels.count != description.classes {
            throw .datasetMismatch(path: jsonPath, reason: "labels has \(labels.count) names; the dataset has \(description.classes) classes (one name per class)")
        }
        let channels = description.sample_shape.last ?? 1
        let normalisation = try description.normalisation.map { record throws(ModelError) in
            try Normalisation(record, channels: channels, path: jsonPath)
        }
        return Dataset(directory: directory, description: description, normalisation: normalisation)
    }

    /// Splits present on disk, in the order train, val, test.
    public var availableSplits: [String] {
        ["train", "val", "test"].filter { FileManager.default.fileExists(atPath: path($0, "x")) }
    }

    private func path(_ split: String, _ part: String) -> String {
        (directory as NSString).appendingPathComponent("\(split)_\(part).npy")
    }

    public func load(split: String) throws(ModelError) -> DatasetSplit {
        let xPath = path(split, "x"), yPath = path(split, "y")
        guard FileManager.default.fileExists(atPath: xPath) else {
            throw .fileNotFound(path: xPath, what: "split '\(split)' (available: \(availableSplits.joined(separator: ", ")))")
        }
        let x = try NumpyArray.read(contentsOf: xPath)
        let y = try NumpyArray.read(contentsOf: yPath)
        let sample = description.sample_shape
        guard y.shape.count == 1, !x.shape.isEmpty, x.shape[0] == y.shape[0] else {
            throw .datasetMismatch(path: yPath, reason: "labels have shape \(y.shape), inputs \(x.shape): expected [N] and [N, ...]")
        }
        let count = y.shape[0]
        guard count > 0 else {
            throw .datasetMismatch(path: xPath, reason: "split '\(split)' has 0 samples; a split needs at least one (remove its files to leave it out)")
        }
        if let bad = x.values.firstIndex(where: { !$0.isFinite }) {
            throw .datasetMismatch(path: xPath, reason: "input value \(x.values[bad]) at flat index \(bad) (sample \(bad / max(1, x.values.count / count))); inputs must be finite numbers")
        }
        if let bad = y.values.firstIndex(where: { $0 < 0 || $0 >= Double(description.classes) || $0.rounded() != $0 }) {
            throw .datasetMismatch(path: yPath, reason:
                "label \(y.values[bad]) at index \(bad) is not a class in 0..<\(description.classes)")
        }
        var lengths: [Int]? = nil
        var maxSteps = 1
        if isSequence {
            guard x.shape.count == sample.count + 2, Array(x.shape.dropFirst(2)) == sample, x.shape[1] >= 1 else {
                throw .datasetMismatch(path: xPath, reason: "inputs have shape \(x.shape); expected [N, steps] + \(sample)")
            }
            maxSteps = x.shape[1]
            let lengthPath = path(split, "lengths")
            if FileManager.default.fileExists(atPath: lengthPath) {
                let l = try NumpyArray.read(contentsOf: lengthPath)
                guard l.shape == [count] else {
                    throw .datasetMismatch(path: lengthPath, reason: "lengths have shape \(l.shape); expected [\(count)], one per sample")
                }
                if let bad = l.values.firstIndex(where: { !($0 >= 1 && $0 <= Double(maxSteps)) || $0.rounded() != $0 }) {
                    throw .datasetMismatch(path: lengthPath, reason: "length \(l.values[bad]) at index \(bad) is not a whole number of steps in 1...\(maxSteps)")
                }
                lengths = l.values.map { Int($0) }
            } else {
                // No lengths file: every sequence runs all its steps.
                lengths = Array(repeating: maxSteps, count: count)
            }
        } else {
            guard Array(x.shape.dropFirst()) == sample else {
                throw .datasetMismatch(path: xPath, reason: "inputs have shape \(x.shape); expected [N] + \(sample)")
            }
        }
        var inputs = x.values
        if description.padding == "start", let lengths {
            inputs = Self.movingStepsFirst(inputs, lengths: lengths, maxSteps: maxSteps, stepSize: sample.reduce(1, *))
        }
        return DatasetSplit(name: split, inputs: inputs, labels: y.values.map { Int($0) }, lengths: lengths,
                            sampleShape: Shape(sample), maxSteps: maxSteps)
    }

    /// Sequences padded at the start as the tool runs them: each sample's `length` steps first, its
    /// padding after (the recurrence then starts from its state at the sample's first real step).
    static func movingStepsFirst(_ values: [Double], lengths: [Int], maxSteps: Int, stepSize: Int) -> [Double] {
        var moved = [Double](repeating: 0, count: values.count)
        let sampleSize = maxSteps * stepSize
        for (n, length) in lengths.enumerated() {
            let from = n * sampleSize + (maxSteps - length) * stepSize, to = n * sampleSize
            moved[to..<(to + length * stepSize)] = values[from..<(from + length * stepSize)]
        }
        return moved
    }

    /// Checks that this dataset feeds `graph`: same sample shape and sequence kind, and a class per output.
    public func check(against graph: Graph) throws(ModelError) {
        let jsonPath = (directory as NSString).appendingPathComponent("dataset.json")
        guard Shape(description.sample_shape) == graph.input.shape, isSequence == graph.input.isSequence else {
            throw .datasetMismatch(path: jsonPath, reason:
                "samples are \(Shape(description.sample_shape))\(isSequence ? " sequences" : ""), but model '\(graph.name)' takes \(graph.input.shape)\(graph.input.isSequence ? " sequences" : "")")
        }
        if !graph.outputsClassIndex, graph.outputShape.elementCount != description.classes {
            throw .datasetMismatch(path: jsonPath, reason:
                "\(description.classes) classes, but model '\(graph.name)' has \(graph.outputShape.elementCount) outputs")
        }
    }
}
