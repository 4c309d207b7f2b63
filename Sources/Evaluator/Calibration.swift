import FixedPoint
import ModelIR

/// Data-driven ranges: runs the float model over a calibration split and records every tensor's
/// largest magnitude (or a percentile of it, to trim outliers).
public enum Calibration {
    public static func profile(_ graph: Graph, on split: DatasetSplit, percentile: Double? = nil) throws(ModelError) -> RangeProfile {
        let evaluator = try FloatEvaluator(graph: graph)
        var collector = RangeProfile.Collector(percentile: percentile)
        _ = evaluator.run(split) { tensor, values in collector.observe(tensor, values.values) }
        var profile = collector.profile(graph: evaluator.graph)
        // A state takes every value its next value takes (it starts at zero, which any format holds),
        // and the sequence input is seen only through each loop's step input.
        for node in evaluator.graph.nodes {
            guard case let .loop(loop) = node.op else { continue }
            let input = evaluator.graph.input.name
            profile.maxAbs[input] = max(profile.maxAbs[input] ?? 0, profile.maxAbs[loop.stepInput] ?? 0)
            for state in loop.states {
                profile.maxAbs[state.name] = max(profile.maxAbs[state.name] ?? 0, profile.maxAbs[state.next] ?? 0)
            }
        }
        return profile
    }
}
