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
        /// Fraction of validation samples whose class differs from the float model's.
        public var disagreement: Double
        /// Cycles per inference, peak RAM and flash (minimized).
        public var cycles: Double
        public var ramBytes: Int
        public var flashBytes: Int

        public init(accuracy: Double, disagreement: Double, cycles: Double, ramBytes: Int, flashBytes: Int) {
            self.accuracy = accuracy
            self.disagreement = disagreement
            self.cycles = cycles
            self.ramBytes = ramBytes
            self.flashBytes = flashBytes
        }

        enum CodingKeys: String, CodingKey {
            case accuracy, disagreement, cycles, ramBytes = "ram_bytes", flashBytes = "flash_bytes"
        }
    }

    public var objectives: Objectives?
    public var outcome: Outcome
    public var message: String?
    /// How far over the budgets (bytes), for constraint domination; 0 when feasible.
    public var violation: Double

    public init(objectives: Objectives?, outcome: Outcome, message: String? = nil, violation: Double = 0) {
        self.objectives = objectives
        self.outcome = outcome
        self.message = message
        self.violation = violation
    }

    public var isFeasible: Bool { outcome == .ok }
}

/// Scores candidates. The real one runs the emulator and the cost model; tests use fakes with
/// known objectives.
public protocol CandidateEvaluator {
    mutating func evaluate(_ candidate: Candidate) -> Evaluation
}
