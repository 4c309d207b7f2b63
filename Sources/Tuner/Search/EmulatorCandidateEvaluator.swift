import Emit
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
    /// The model prices with; a search that measures runs (`runMeasurer`) adds to its profile.
    public private(set) var costModel: CostModel
    let budgets: Budgets
    /// Measures a program's nodes on the board (`tune --measure-runs`): asked for every candidate
    /// with a fused run the profile has not measured as it is, before the candidate is priced, so
    /// that run is priced at what the board did. Nil: runs are priced by the profile's fit.
    public var runMeasurer: (@Sendable (FixedProgram) throws -> [KernelProfile.Node])?
    /// Candidates whose runs were measured, and the first measurement that failed (the run is then
    /// priced by the fit, and the search goes on).
    public private(set) var runsMeasured = 0
    public private(set) var runMeasurementFailure: String?
    /// The front so far of the candidates scored on every fidelity input (`observe`).
    private var archive: [Evaluation.Objectives] = []

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
        let emulator = FixedEmulator(program: program)
        let fracBits = program.outputFormat.fracBits, classIndex = graph.outputsClassIndex
        // The validation inputs first: accuracy (sample by sample, for paired tests) and the first part of fidelity.
        let outputs = emulator.run(fidelity.validation)
        let classes = Accuracy.classes(outputs, outputsClassIndex: classIndex)
        let v = fidelity.validationCount
        var correct = [UInt64](repeating: 0, count: (v + 63) / 64)
        var right = 0
        for i in 0..<v where classes[i] == fidelity.validation.labels[i] {
            correct[i / 64] |= 1 << UInt64(i % 64)
            right += 1
        }
        let accuracy = Double(right) / Double(max(v, 1))
        var (mismatches, logitError) = fidelity.differences(outputs: outputs, classes: classes, first: 0, fracBits: fracBits,
                                                            outputsClassIndex: classIndex)
        // A measured-runs search asks for the fused runs twice (whether to measure, then the price):
        // found once here, two lifetime passes each.
        let fusion = runMeasurer == nil ? nil : ElementwiseFusion.groups(program)
        measureRuns(of: program, fusion: fusion)
        let cost = costModel.estimate(program, fusion: fusion)
        func objectives() -> Evaluation.Objectives {
            Evaluation.Objectives(accuracy: accuracy, disagreement: Double(mismatches) / Double(max(fidelity.samples.count, 1)),
                                  logitError: logitError, cycles: cost.cycles, ramBytes: cost.ramBytes, flashBytes: cost.flashBytes)
        }
        let overBudget = cost.ramBytes > budgets.ramBytes || cost.flashBytes > budgets.flashBytes
        let overLoss = budgets.maxLoss.map { accuracy < floatAccuracy - $0 - 1e-12 } ?? false
        // The other inputs only where they can matter (racing): a candidate outside the budgets or the
        // loss limit can be on no front, and one that a front point dominates even with no more error
        // than it has so far (its partial sums bound the totals from below) can be on none either.
        var partial: String?
        if let extra = fidelity.extra {
            if overBudget || overLoss {
                partial = "fidelity on the validation inputs only"
            } else if archive.contains(where: { Pareto.dominates($0, objectives()) }) {
                partial = "fidelity on the validation inputs only: raced out, a front point dominates it whatever the other inputs give"
            } else {
                let rest = emulator.run(extra)
                let restClasses = Accuracy.classes(rest, outputsClassIndex: classIndex)
                let more = fidelity.differences(outputs: rest, classes: restClasses, first: v, fracBits: fracBits, outputsClassIndex: classIndex)
                mismatches += more.mismatches
                logitError += more.error
            }
        }
        let found = objectives()
        let budgets = self.budgets
        func violation(_ outcome: Evaluation.Outcome) -> Double {
            Self.violation(outcome: outcome, objectives: found, ramBudget: budgets.ramBytes, flashBudget: budgets.flashBytes)
        }
        func note(_ message: String?) -> String? {
            guard let partial else { return message }
            return message.map { "\($0); \(partial)" } ?? partial
        }
        if overBudget {
            return Evaluation(objectives: found, outcome: .overBudget, message:
                note("RAM \(cost.ramBytes) of \(budgets.ramBytes) B, flash \(cost.flashBytes) of \(budgets.flashBytes) B"),
                violation: violation(.overBudget), correct: correct)
        }
        if overLoss, let maxLoss = budgets.maxLoss {
            return Evaluation(objectives: found, outcome: .overLoss, message:
                note("accuracy \(accuracy) is more than \(maxLoss) below the float model's \(floatAccuracy)"), violation: violation(.overLoss),
                correct: correct)
        }
        return Evaluation(objectives: found, outcome: .ok, message: note(nil), correct: correct)
    }

    /// Measures `program`'s nodes where the profile lacks them (`runMeasurer`,
    /// `CostModel.needsMeasurement`) and adds them to it.
    mutating func measureRuns(of program: FixedProgram, fusion: [ElementwiseFusion.Group]? = nil) {
        guard let runMeasurer, let profile = costModel.profile, costModel.needsMeasurement(program, fusion: fusion) else { return }
        do {
            let nodes = try runMeasurer(program)
            costModel = CostModel(target: costModel.target, meanSteps: costModel.meanSteps, profile: profile.adding(nodes))
            runsMeasured += 1
        } catch {
            if runMeasurementFailure == nil { runMeasurementFailure = "\(error)" }
        }
    }

    /// A candidate taken from an earlier run's log (`tune --resume`): its runs are measured again as
    /// they were the first time, so the search after it prices as the uninterrupted one did.
    public mutating func replayed(_ candidate: Candidate) {
        guard runMeasurer != nil, let program = try? self.program(for: candidate) else { return }
        measureRuns(of: program)
    }

    /// Keeps the front of the fully scored feasible candidates, which racing compares against. Called
    /// for every evaluation in search order, replayed ones included, so a resumed search races alike.
    public mutating func observe(_ evaluation: Evaluation) {
        guard evaluation.isFeasible, evaluation.message == nil, let o = evaluation.objectives,
              !archive.contains(where: { Pareto.dominates($0, o) || $0 == o }) else { return }
        archive.removeAll { Pareto.dominates(o, $0) }
        archive.append(o)
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
