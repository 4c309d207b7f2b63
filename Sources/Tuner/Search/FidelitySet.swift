import Evaluator
import ModelIR

/// The inputs every candidate runs on: the validation split, whose labels give accuracy, followed by
/// unlabelled training inputs. How closely a program follows the float model needs no labels, so it
/// is measured on all of them: on a small or easy validation split, where accuracies tie, fidelity
/// still tells candidates apart.
public struct FidelitySet: Sendable {
    /// Validation first, then the extra inputs.
    public let samples: DatasetSplit
    public let validationCount: Int
    /// The two parts, run separately so that a candidate can stop after the first (racing).
    public let validation: DatasetSplit
    public let extra: DatasetSplit?
    /// Where the samples come from, for the log and the summary ("val 359 + train 359 of 1,079").
    public let source: String
    public let floatClasses: [Int]
    public let floatOutputs: Batch
    /// Σ (float output − its column's mean)², over every sample: the unit of `logitError`.
    public let floatSpread: Double

    /// `validation` followed by the first `extraCount` samples of `extra` (when its samples have the
    /// validation's shape), with the float model's outputs on all of them.
    public init(validation: DatasetSplit, extra: DatasetSplit?, extraCount: Int, graph: Graph) throws {
        var samples = validation
        var extraPart: DatasetSplit?
        var source = "val \(validation.count)"
        if let extra, extraCount > 0, extra.count > 0, extra.sampleShape == validation.sampleShape, extra.maxSteps == validation.maxSteps,
           (extra.lengths == nil) == (validation.lengths == nil) {
            let taken = extra.prefix(extraCount)
            samples = DatasetSplit(name: "fidelity", inputs: validation.inputs + taken.inputs, labels: validation.labels + taken.labels,
                                   lengths: validation.lengths.map { $0 + (taken.lengths ?? []) }, sampleShape: validation.sampleShape,
                                   maxSteps: validation.maxSteps)
            source += " + \(extra.name) \(taken.count) of \(extra.count)"
            extraPart = taken
        }
        self.samples = samples
        self.validation = validation
        self.extra = extraPart
        self.validationCount = validation.count
        self.source = source
        floatOutputs = try FloatEvaluator(graph: graph).run(samples)
        floatClasses = Accuracy.classes(floatOutputs, outputsClassIndex: graph.outputsClassIndex)
        var spread = 0.0
        let (rows, columns) = (floatOutputs.rows, floatOutputs.columns)
        for c in 0..<columns {
            var mean = 0.0
            for r in 0..<rows { mean += floatOutputs.values[r * columns + c] }
            mean /= Double(max(rows, 1))
            for r in 0..<rows { let d = floatOutputs.values[r * columns + c] - mean; spread += d * d }
        }
        floatSpread = spread
    }

    /// How a program's integer `outputs` for samples `first..<first + outputs.rows` of `samples` differ
    /// from the float model's: the samples whose class differs, and the squared error of the outputs
    /// over `floatSpread`. Both only grow as samples are added, so a part's sums bound the whole's from below.
    func differences(outputs: Batch, classes: [Int], first: Int, fracBits: Int, outputsClassIndex: Bool) -> (mismatches: Int, error: Double) {
        var mismatches = 0
        for (i, c) in classes.enumerated() where c != floatClasses[first + i] { mismatches += 1 }
        guard !outputsClassIndex, floatSpread > 0, outputs.columns == floatOutputs.columns else {
            return (mismatches, Double(mismatches) / Double(max(samples.count, 1)))
        }
        let scale = Double(sign: .plus, exponent: -fracBits, significand: 1)
        let offset = first * floatOutputs.columns
        var error = 0.0
        for (k, q) in outputs.values.enumerated() { let d = q * scale - floatOutputs.values[offset + k]; error += d * d }
        return (mismatches, error / floatSpread)
    }
}
