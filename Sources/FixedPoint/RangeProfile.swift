import ModelIR

/// The largest magnitude each tensor takes: weights from their values, activations from running the
/// float model on a calibration split (the validation split, never test).
public struct RangeProfile: Codable, Sendable, Equatable {
    /// Tensor name -> max |v| (or the `percentile`-th percentile of |v| when trimming).
    public var maxAbs: [String: Double]

    public init(maxAbs: [String: Double]) { self.maxAbs = maxAbs }

    /// Collects magnitudes per tensor; feed it every batch the float evaluator computes.
    public struct Collector {
        private var samples: [String: [Double]] = [:]
        private var maxima: [String: Double] = [:]
        /// Keep every |v| (for percentiles) only when trimming.
        let percentile: Double?

        public init(percentile: Double? = nil) { self.percentile = percentile }

        public mutating func observe(_ tensor: String, _ values: [Double]) {
            if percentile != nil { samples[tensor, default: []] += values.map(abs) }
            maxima[tensor] = max(maxima[tensor] ?? 0, values.reduce(0) { max($0, abs($1)) })
        }

        public func profile(graph: Graph) -> RangeProfile {
            var result = maxima
            if let percentile {
                for (tensor, values) in samples where !values.isEmpty {
                    let sorted = values.sorted()
                    result[tensor] = sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * percentile / 100).rounded()))]
                }
            }
            for (name, tensor) in graph.constants { result[name] = tensor.values.reduce(0) { max($0, abs($1)) } }
            return RangeProfile(maxAbs: result)
        }
    }
}
