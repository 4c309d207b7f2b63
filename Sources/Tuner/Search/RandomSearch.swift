import FixedPoint
/// Uniform random candidates: the baseline every other strategy must beat.
public struct RandomSearch: SearchStrategy {
    public let name = "random"
    public var evaluations: Int

    public init(evaluations: Int) { self.evaluations = evaluations }

    public mutating func search<E: CandidateEvaluator>(_ space: SearchSpace, _ context: inout SearchContext<E>,
                                                       generator: inout SeededGenerator) {
        for _ in 0..<evaluations where !context.shouldStop {
            _ = context.evaluate(space.random(using: &generator))
        }
    }
}

/// Every candidate, for spaces small enough (at most `limit` candidates); refuses larger ones.
public struct ExhaustiveSearch: SearchStrategy {
    public let name = "exhaustive"
    public var limit: Int

    public init(limit: Int = 4096) { self.limit = limit }

    public static func candidates(_ space: SearchSpace) -> [Candidate] {
        let genes = space.bitChoices.flatMap { bits in space.offsets.map { Gene(bits: bits, offset: $0) } }
        var all: [[Gene]] = [[]]
        for _ in space.variables { all = all.flatMap { prefix in genes.map { prefix + [$0] } } }
        return all.map(Candidate.init)
    }

    public mutating func search<E: CandidateEvaluator>(_ space: SearchSpace, _ context: inout SearchContext<E>,
                                                       generator: inout SeededGenerator) {
        guard space.size <= Double(limit) else { return }
        for candidate in Self.candidates(space) where !context.shouldStop { _ = context.evaluate(candidate) }
    }
}
