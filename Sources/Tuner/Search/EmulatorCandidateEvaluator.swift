import Evaluator
import FixedPoint
import Hardware
import ModelIR

/// Scores a candidate for real: builds its fixed-point program, runs the fidelity set (validation and
/// training inputs) through the emulator (BLAS path), and prices it with the cost model against the budgets.
public struct EmulatorCandidateEvaluator: CandidateEvaluator {
    public struct Budgets: Sendable {
        public var ramBytes: Int
        public var flashBytes: Int
        /// Largest accuracy loss against the float model on validation (a fraction), if any.
        public var maxLoss: Double?
        public init(ramBytes: Int, flashBytes: Int, maxLoss: Double?) {
            self.ramBytes = ramBytes
            self.flashBytes = flashBytes
            self.maxLoss = maxLoss
        }
    }

    let graph: Graph
    let space: SearchSpace
    let fidelity: FidelitySet
    let floatAccuracy: Double
    let costModel: CostModel
    let budgets: Budgets

    /// Scores candidates on `fidelity`: accuracy on its validation samples, fidelity on all of them.
    public init(lowered graph: Graph, space: SearchSpace, fidelity: FidelitySet, floatAccuracy: Double, costModel: CostModel,
                budgets: Budgets) {
        self.graph = graph
        self.space = space
        self.fidelity = fidelity
        self.floatAccuracy = floatAccuracy
        self.costModel = costModel
        self.budgets = budgets
    }

    public func program(for candidate: Candidate) throws(FixedPointError) -> FixedProgram {
        try FixedProgram(graph: graph, config: space.config(for: candidate))
    }

    public mutating func evaluate(_ candidate: Candidate) -> Evaluation {
        let program: FixedProgram
        do { program = try self.program(for: candidate) } catch {
            if case .unsupported = error { return Evaluation(objectives: nil, outcome: .overflowRisk, message: error.description, violation: .infinity) }
            return Evaluation(objectives: nil, outcome: .error, message: error.description, violation: .infinity)
        }
        let outputs = FixedEmulator(program: program).run(fidelity.samples)
        let classes = Accuracy.classes(outputs, outputsClassIndex: graph.outputsClassIndex)
        // Accuracy on the validation samples (the first ones), kept sample by sample for paired tests.
        let v = fidelity.validationCount
        var correct = [UInt64](repeating: 0, count: (v + 63) / 64)
        var right = 0
        for i in 0..<v where classes[i] == fidelity.samples.labels[i] {
            correct[i / 64] |= 1 << UInt64(i % 64)
            right += 1
        }
        let accuracy = Double(right) / Double(max(v, 1))
        let (disagreement, logitError) = fidelity.fidelity(outputs: outputs, classes: classes, fracBits: program.outputFormat.fracBits,
                                                           outputsClassIndex: graph.outputsClassIndex)
        let cost = costModel.estimate(program)
        let objectives = Evaluation.Objectives(accuracy: accuracy, disagreement: disagreement, logitError: logitError, cycles: cost.cycles,
                                               ramBytes: cost.ramBytes, flashBytes: cost.flashBytes)
        let budgets = self.budgets
        func violation(_ outcome: Evaluation.Outcome) -> Double {
            Self.violation(outcome: outcome, objectives: objectives, ramBudget: budgets.ramBytes, flashBudget: budgets.flashBytes)
        }
        if cost.ramBytes > budgets.ramBytes || cost.flashBytes > budgets.flashBytes {
            return Evaluation(objectives: objectives, outcome: .overBudget, message:
                "RAM \(cost.ramBytes) of \(budgets.ramBytes) B, flash \(cost.flashBytes) of \(budgets.flashBytes) B", violation: violation(.overBudget),
                correct: correct)
        }
        if let maxLoss = budgets.maxLoss, accuracy < floatAccuracy - maxLoss - 1e-12 {
            return Evaluation(objectives: objectives, outcome: .overLoss, message:
                "accuracy \(accuracy) is more than \(maxLoss) below the float model's \(floatAccuracy)", violation: violation(.overLoss),
                correct: correct)
        }
        return Evaluation(objectives: objectives, outcome: .ok, correct: correct)
    }

    /// How far an evaluation is from feasible, for constraint domination: bytes over the budgets, a
    /// half for a loss over the limit, infinite when nothing was built. It follows from the outcome and
    /// objectives alone, so a resumed search derives it from the log.
    public static func violation(outcome: Evaluation.Outcome, objectives: Evaluation.Objectives?, ramBudget: Int, flashBudget: Int) -> Double {
        switch outcome {
        case .ok: 0
        case .overBudget:
            Double(max(0, (objectives?.ramBytes ?? 0) - ramBudget) + max(0, (objectives?.flashBytes ?? 0) - flashBudget))
        case .overLoss: 0.5
        case .overflowRisk, .error: .infinity
        }
    }
}
