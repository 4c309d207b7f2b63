/// What one candidate scored. Failures are data, not exceptions: every candidate gets a line in the log.
public struct Evaluation: Sendable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// Within every budget and the accuracy-loss limit.
        case ok
        case overBudget = "over_budget"
        case overLoss = "over_loss"
        /// An accumulator would need more than 64 bits: the C could overflow, so it is not built.
        case overflowRisk = "overflow_risk"
        case error
    }

    public struct Objectives: Sendable, Equatable, Codable {
        /// Validation accuracy (maximized).
        public var accuracy: Double
        /// Fidelity, measured without labels on the fidelity samples (validation and training inputs):
        /// the fraction whose class differs from the float model's, and the squared error of the
        /// outputs against the float model's over the float outputs' variance (minimized).
        public var disagreement: Double
        public var logitError: Double
        /// Cycles per inference, peak RAM and flash (minimized).
        public var cycles: Double
        public var ramBytes: Int
        public var flashBytes: Int

        public init(accuracy: Double, disagreement: Double, logitError: Double = 0, cycles: Double, ramBytes: Int, flashBytes: Int) {
            self.accuracy = accuracy
            self.disagreement = disagreement
            self.logitError = logitError
            self.cycles = cycles
            self.ramBytes = ramBytes
            self.flashBytes = flashBytes
        }

        enum CodingKeys: String, CodingKey {
            case accuracy, disagreement, cycles, logitError = "logit_error", ramBytes = "ram_bytes", flashBytes = "flash_bytes"
        }
    }

    public var objectives: Objectives?
    public var outcome: Outcome
    public var message: String?
    /// How far over the budgets (bytes), for constraint domination; 0 when feasible.
    public var violation: Double
    /// Which validation samples it classified correctly (bit i of word i/64), for paired tests
    /// between candidates; empty when it was not run.
    public var correct: [UInt64]

    public init(objectives: Objectives?, outcome: Outcome, message: String? = nil, violation: Double = 0, correct: [UInt64] = []) {
        self.objectives = objectives
        self.outcome = outcome
        self.message = message
        self.violation = violation
        self.correct = correct
    }

    public var isFeasible: Bool { outcome == .ok }
}

/// Scores candidates. The real one runs the emulator and the cost model; tests use fakes with
/// known objectives.
public protocol CandidateEvaluator {
    mutating func evaluate(_ candidate: Candidate) -> Evaluation
    /// Sees every evaluation of the search in order, replayed ones included (for evaluators that learn
    /// from what they have scored, such as racing against the front so far).
    mutating func observe(_ evaluation: Evaluation)
    /// Told of a candidate whose evaluation comes from an earlier run's log instead of `evaluate`
    /// (for evaluators whose state follows what they evaluate).
    mutating func replayed(_ candidate: Candidate)
}

extension CandidateEvaluator {
    public mutating func observe(_ evaluation: Evaluation) {}
    public mutating func replayed(_ candidate: Candidate) {}
}
