/// Quantized test samples for a firmware: per sample its timesteps' inputs, concatenated.
public struct FirmwareSamples: Sendable, Equatable {
    public var inputs: [[Int64]]
    /// Timesteps of each sample (1 for feed-forward models).
    public var steps: [Int]
    public var labels: [Int]

    public init(inputs: [[Int64]], steps: [Int], labels: [Int]) {
        self.inputs = inputs
        self.steps = steps
        self.labels = labels
    }

    public var count: Int { inputs.count }

    /// Flash the samples take in the firmware: the values and, per sample, its step count.
    public func flashBytes(inputBits: Int) -> Int { inputs.reduce(0) { $0 + $1.count } * inputBits / 8 + 2 * count }

    public func prefix(_ n: Int) -> FirmwareSamples {
        FirmwareSamples(inputs: Array(inputs.prefix(n)), steps: Array(steps.prefix(n)), labels: Array(labels.prefix(n)))
    }

    /// How many leading samples fit in `bytes` of flash (at least one).
    public func fitting(bytes: Int, inputBits: Int) -> Int {
        var used = 0, n = 0
        for sample in inputs {
            used += sample.count * inputBits / 8 + 2
            if used > bytes { break }
            n += 1
        }
        return max(n, 1)
    }

    /// Marked regions per sample: one inference for a feed-forward model; for a sequence, the reset,
    /// each step and the result are marked apart, so copying the input between steps is not counted.
    public func regions(recurrent: Bool) -> [Int] { steps.map { recurrent ? $0 + 2 : 1 } }
}
