import FixedPoint

/// What strategies evaluate through: memoizes candidates, records every new evaluation in order
/// (the log), and tells strategies when to stop (an evaluation limit, or Ctrl-C).
public struct SearchContext<Evaluator: CandidateEvaluator> {
    public struct Trial: Sendable {
        public var candidate: Candidate
        public var evaluation: Evaluation
        public var strategy: String
    }

    public private(set) var trials: [Trial] = []
    private var memo: [Candidate: Int] = [:]
    var evaluator: Evaluator
    public let maxEvaluations: Int
    let interrupted: @Sendable () -> Bool
    /// Called after each new evaluation (progress display).
    public var onProgress: ((SearchProgress) -> Void)?
    /// Called with each new trial and its index, before the strategy sees it (the log, as it goes).
    public var onTrial: ((Int, Trial) -> Void)?
    /// Evaluations from an earlier, interrupted run of the same search (`tune --resume`): a candidate
    /// found here is taken as it was scored instead of being evaluated again.
    public var replay: ((Candidate) -> Evaluation?)?
    /// How many trials came from `replay`.
    public private(set) var replayed = 0
    public var currentStrategy = ""
    private var bestFeasibleAccuracy: Double?
    private var feasible = 0

    public init(evaluator: Evaluator, maxEvaluations: Int, interrupted: @escaping @Sendable () -> Bool = { false }) {
        self.evaluator = evaluator
        self.maxEvaluations = maxEvaluations
        self.interrupted = interrupted
    }

    public var shouldStop: Bool { trials.count >= maxEvaluations || interrupted() }

    /// The evaluation of `candidate`, computed once. Past the evaluation limit (or after Ctrl-C)
    /// new candidates are not evaluated: they come back infeasible and are not recorded.
    public mutating func evaluate(_ candidate: Candidate) -> Evaluation {
        if let index = memo[candidate] { return trials[index].evaluation }
        if shouldStop {
            return Evaluation(objectives: nil, outcome: .error, message: "not evaluated: the search was stopped", violation: .infinity)
        }
        let evaluation: Evaluation
        if let earlier = replay?(candidate) {
            evaluation = earlier
            evaluator.replayed(candidate)
            replayed += 1
        } else {
            evaluation = evaluator.evaluate(candidate)
        }
        evaluator.observe(evaluation)
        memo[candidate] = trials.count
        trials.append(Trial(candidate: candidate, evaluation: evaluation, strategy: currentStrategy))
        onTrial?(trials.count - 1, trials[trials.count - 1])
        if evaluation.isFeasible, let accuracy = evaluation.objectives?.accuracy {
            feasible += 1
            bestFeasibleAccuracy = max(bestFeasibleAccuracy ?? 0, accuracy)
        }
        onProgress?(SearchProgress(evaluations: trials.count, feasible: feasible, bestFeasibleAccuracy: bestFeasibleAccuracy,
                                   strategy: currentStrategy))
        return evaluation
    }

    public func hasEvaluated(_ candidate: Candidate) -> Bool { memo[candidate] != nil }

    /// A replayed evaluation carries no per-sample correctness (the log does not keep it); paired
    /// tests need it for these trials, so it is computed again (evaluations are deterministic).
    public mutating func restoreCorrectness(of indices: [Int]) {
        for i in indices where trials[i].evaluation.correct.isEmpty && trials[i].evaluation.objectives != nil {
            trials[i].evaluation.correct = evaluator.evaluate(trials[i].candidate).correct
        }
    }

    /// Indices of trials on the Pareto front of the feasible ones.
    public var front: [Int] { Pareto.front(trials.map(\.evaluation)) }
}

/// Where a search stands, for a progress display.
public struct SearchProgress: Sendable {
    public var evaluations: Int
    public var feasible: Int
    public var bestFeasibleAccuracy: Double?
    public var strategy: String
}

/// A way to explore the space (TVM's and OpenTuner's "search strategy" role).
public protocol SearchStrategy {
    var name: String { get }
    mutating func search<E: CandidateEvaluator>(_ space: SearchSpace, _ context: inout SearchContext<E>,
                                                generator: inout SeededGenerator)
}
