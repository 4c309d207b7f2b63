import ModelIR

/// Runs a loop body over the timesteps of a batch of sequences of different lengths.
///
/// At step t only the samples whose sequence is longer than t are computed (gathered into a
/// smaller batch); the others keep their states. Shared by the float and fixed-point evaluators.
struct SequenceRunner {
    let stateNames: [(name: String, next: String, columns: Int)]
    let stepInput: String
    let features: Int

    /// - Parameters:
    ///   - inputs: `[count, maxSteps, features]` row-major.
    ///   - body: computes the step's tensors from `values` (step input and states present).
    /// - Returns: the final value of every state.
    func run(inputs: [Double], count: Int, maxSteps: Int, lengths: [Int]?,
             observer: ((String, Batch) -> Void)?, body: (inout [String: Batch]) -> Void) -> [String: Batch] {
        var states = Dictionary(uniqueKeysWithValues: stateNames.map { ($0.name, Batch(zeros: count, columns: $0.columns)) })
        let lengths = lengths ?? Array(repeating: maxSteps, count: count)
        for t in 0..<maxSteps {
            let active = (0..<count).filter { lengths[$0] > t }
            guard !active.isEmpty else { break }
            var x = [Double]()
            x.reserveCapacity(active.count * features)
            for s in active {
                let start = (s * maxSteps + t) * features
                x += inputs[start..<(start + features)]
            }
            var values: [String: Batch] = [stepInput: Batch(rows: active.count, columns: features, values: x)]
            observer?(stepInput, values[stepInput] ?? Batch(zeros: 0, columns: 0))
            let everyone = active.count == count
            for state in stateNames {
                values[state.name] = everyone ? states[state.name] : states[state.name]?.gathering(active)
            }
            body(&values)
            for state in stateNames {
                guard let next = values[state.next] else { continue }
                if everyone { states[state.name] = next } else { states[state.name]?.scatter(next, to: active) }
            }
        }
        return states
    }
}
