import FixedPoint
import ModelIR

/// Data-driven ranges: runs the float model over a calibration split and records every tensor's
/// largest magnitude (or a percentile of it, to trim outliers).
public enum Calibration {
    public static func profile(_ graph: Graph, on split: DatasetSplit, percentile: Double? = nil) throws(ModelError) -> RangeProfile {
        let evaluator = try FloatEvaluator(graph: graph)
        var collector = RangeProfile.Collector(percentile: percentile)
        _ = evaluator.run(split) { tensor, values in collector.observe(tensor, values.values) }
        return collector.profile(graph: evaluator.graph)
    }
}
