import Evaluator
import Foundation
import ModelIR

/// The float model's accuracy on each split, next to what its training script recorded.
public struct FloatBaseline: Sendable {
    public struct SplitResult: Sendable {
        public var split: String
        public var samples: Int
        public var accuracy: Double
        /// What the training script measured on this split, if it recorded it.
        public var recordedAccuracy: Double?
        /// Largest |logit − reference logit| over the split, when reference logits are stored.
        public var maxReferenceDifference: Double?
        /// Sequence lengths (min, mean, max), for sequence data.
        public var steps: (min: Int, mean: Double, max: Int)?
    }

    public var results: [SplitResult]

    /// Runs `splits` of `dataset` through the float evaluator.
    public static func measure(_ model: LoadedModel, dataset: Dataset, splits: [String]) throws(ModelError) -> FloatBaseline {
        try dataset.check(against: model.graph)
        let evaluator = try FloatEvaluator(graph: model.graph)
        var results: [SplitResult] = []
        for split in splits {
            let data = try dataset.load(split: split)
            let outputs = evaluator.run(data)
            let accuracy = Accuracy.of(outputs, labels: data.labels, outputsClassIndex: model.graph.outputsClassIndex)
            let training = model.file?.training
            let recorded = split == "test" ? training?.float_test_accuracy : split == "val" ? training?.float_val_accuracy : nil
            var difference: Double?
            if let path = model.referenceLogitsPath(split: split) {
                let reference = try NumpyArray.read(contentsOf: path)
                // A model ending in ArgMax gives classes; an exporter may have recorded the logits before
                // it: compare their argmax (the format allows both).
                if model.graph.outputsClassIndex, outputs.columns == 1, reference.shape.count == 2, reference.shape[0] == outputs.rows,
                   reference.shape[1] > 1 {
                    let columns = reference.shape[1]
                    difference = (0..<outputs.rows).map { r -> Double in
                        let row = reference.values[(r * columns)..<((r + 1) * columns)]
                        let best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }.map { $0 - r * columns } ?? 0
                        return abs(Double(best) - outputs.values[r])
                    }.max() ?? 0
                } else {
                    guard reference.shape == [outputs.rows, outputs.columns] else {
                        throw .datasetMismatch(path: path, reason:
                            "reference logits have shape \(reference.shape); the model gives [\(outputs.rows), \(outputs.columns)] on split '\(split)'")
                    }
                    difference = zip(reference.values, outputs.values).map { abs($0 - $1) }.max() ?? 0
                }
            }
            var steps: (Int, Double, Int)?
            if let lengths = data.lengths, let lo = lengths.min(), let hi = lengths.max() {
                steps = (lo, Double(lengths.reduce(0, +)) / Double(lengths.count), hi)
            }
            results.append(SplitResult(split: split, samples: data.count, accuracy: accuracy, recordedAccuracy: recorded,
                                       maxReferenceDifference: difference, steps: steps))
        }
        return FloatBaseline(results: results)
    }
}
