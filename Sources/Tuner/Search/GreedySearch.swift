import FixedPoint
/// Shiftry's staged greedy search (Jain et al., "Shiftry", OOPSLA 2020, section 5), extended to scales:
///
/// 1. Start from the data-driven config at 16 bits.
/// 2. Tune scales: for each tensor, try each offset at 16 bits and keep the best accuracy.
/// 3. Profile demotions: for each tensor, try 8 bits at each offset; note the best accuracy and
///    the bytes it saves.
/// 4. Demote tensors in order of accuracy lost per byte saved, keeping each demotion while the
///    accuracy stays within `maxLoss` of the 16-bit accuracy.
///
/// Every config it visits is evaluated, so its trials also trace a front from 16 to 8 bits.
public struct GreedySearch: SearchStrategy {
    public let name = "greedy"
    /// Largest accuracy loss (a fraction, e.g. 0.01) a demotion may cost against the 16-bit start.
    public var maxLoss: Double

    public init(maxLoss: Double) { self.maxLoss = maxLoss }

    /// The best candidate found (highest accuracy among feasible, then fewest bytes).
    public private(set) var result: Candidate?

    public mutating func search<E: CandidateEvaluator>(_ space: SearchSpace, _ context: inout SearchContext<E>,
                                                       generator: inout SeededGenerator) {
        var current = space.uniform(bits: 16)
        var currentAccuracy = context.evaluate(current).objectives?.accuracy ?? 0
        // Stage 2: scales at 16 bits, one tensor at a time.
        for v in space.variables.indices where !context.shouldStop {
            for offset in space.offsets where offset != current.genes[v].offset && !context.shouldStop {
                var trial = current
                trial.genes[v] = Gene(bits: 16, offset: offset)
                if let accuracy = context.evaluate(trial).objectives?.accuracy, accuracy > currentAccuracy {
                    current = trial
                    currentAccuracy = accuracy
                }
            }
        }
        let reference = currentAccuracy
        // Stage 3: what 8 bits costs each tensor, at its best offset.
        var demotions: [(variable: Int, gene: Gene, costPerByte: Double)] = []
        for v in space.variables.indices where !context.shouldStop {
            var best: (Gene, Double)?
            for offset in space.offsets where !context.shouldStop {
                var trial = current
                trial.genes[v] = Gene(bits: 8, offset: offset)
                if let accuracy = context.evaluate(trial).objectives?.accuracy, best.map({ accuracy > $0.1 }) ?? true {
                    best = (trial.genes[v], accuracy)
                }
            }
            if let (gene, accuracy) = best {
                let bytes = Double(space.variables[v].elements)
                demotions.append((v, gene, max(0, reference - accuracy) / bytes))
            }
        }
        // Stage 4: demote the cheapest first while the loss allows.
        for demotion in demotions.sorted(by: { ($0.costPerByte, $0.variable) < ($1.costPerByte, $1.variable) }) where !context.shouldStop {
            var trial = current
            trial.genes[demotion.variable] = demotion.gene
            let evaluation = context.evaluate(trial)
            if let accuracy = evaluation.objectives?.accuracy, accuracy >= reference - maxLoss - 1e-12 {
                current = trial
            }
        }
        result = current
    }
}
