import Evaluator
import FixedPoint
import Hardware
import ModelIR

/// Scores a candidate for real: builds its fixed-point program, runs the validation split through the
/// emulator (BLAS path), and prices it with the cost model against the budgets.
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
    let split: DatasetSplit
    let floatClasses: [Int]
    let floatAccuracy: Double
    let costModel: CostModel
    let budgets: Budgets

    public init(lowered graph: Graph, space: SearchSpace, validation split: DatasetSplit, floatClasses: [Int],
                floatAccuracy: Double, costModel: CostModel, budgets: Budgets) {
        self.graph = graph
        self.space = space
        self.split = split
        self.floatClasses = floatClasses
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
        let outputs = FixedEmulator(program: program).run(split)
        let classes = Accuracy.classes(outputs, outputsClassIndex: graph.outputsClassIndex)
        let n = Double(max(split.count, 1))
        let accuracy = Double(zip(classes, split.labels).filter { $0 == $1 }.count) / n
        let disagreement = Double(zip(classes, floatClasses).filter { $0 != $1 }.count) / n
        let cost = costModel.estimate(program)
        let objectives = Evaluation.Objectives(accuracy: accuracy, disagreement: disagreement, cycles: cost.cycles,
                                               ramBytes: cost.ramBytes, flashBytes: cost.flashBytes)
        let over = max(0, cost.ramBytes - budgets.ramBytes) + max(0, cost.flashBytes - budgets.flashBytes)
        if over > 0 {
            return Evaluation(objectives: objectives, outcome: .overBudget, message:
                "RAM \(cost.ramBytes) of \(budgets.ramBytes) B, flash \(cost.flashBytes) of \(budgets.flashBytes) B", violation: Double(over))
        }
        if let maxLoss = budgets.maxLoss, accuracy < floatAccuracy - maxLoss - 1e-12 {
            return Evaluation(objectives: objectives, outcome: .overLoss, message:
                "accuracy \(accuracy) is more than \(maxLoss) below the float model's \(floatAccuracy)", violation: 0.5)
        }
        return Evaluation(objectives: objectives, outcome: .ok)
    }
}
