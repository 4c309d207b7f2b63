import Devices
import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The main job: search the fixed-point configs of a model for a target within budgets, and
/// report the Pareto front and the pick (the best validation accuracy within the budgets, ties
/// broken by fewer cycles), whose accuracy is then measured on the test split the search never saw.
public struct TuningJob {
    public enum Strategy: Hashable, Sendable {
        case greedy, genetic, random, exhaustive
        /// One candidate: every tensor at `bits` and its data-driven scale (a baseline).
        case uniform(bits: Int)

        /// The strategies a user can name.
        public static let allCases: [Strategy] = [.greedy, .genetic, .random, .exhaustive]

        public init?(rawValue: String) {
            guard let match = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
            self = match
        }

        public var rawValue: String {
            switch self {
            case .greedy: "greedy"
            case .genetic: "genetic"
            case .random: "random"
            case .exhaustive: "exhaustive"
            case let .uniform(bits): "uniform\(bits)"
            }
        }
    }

    /// How the pick is checked before it is taken.
    public enum Verification: Sendable {
        /// The cost model's estimate alone.
        case estimate
        /// Build each front point in preference order with the board's toolchain into `directory`,
        /// take the first whose built RAM and flash fit, and run it on the board's simulator.
        case device(any Device, directory: String)
    }

    public struct Settings: Sendable {
        public var strategy: Strategy
        public var seed: UInt64
        public var budgets: EmulatorCandidateEvaluator.Budgets
        public var maxEvaluations: Int
        public var offsets: ClosedRange<Int>
        public var verification: Verification
        public init(strategy: Strategy, seed: UInt64, budgets: EmulatorCandidateEvaluator.Budgets,
                    maxEvaluations: Int = 2000, offsets: ClosedRange<Int> = -3...2, verification: Verification = .estimate) {
            self.verification = verification
            self.strategy = strategy
            self.seed = seed
            self.budgets = budgets
            self.maxEvaluations = maxEvaluations
            self.offsets = offsets
        }
    }

    public struct Result {
        public var space: SearchSpace
        public var trials: [SearchContext<EmulatorCandidateEvaluator>.Trial]
        public var front: [Int]
        public var pick: Int?
        public var pickProgram: FixedProgram?
        public var pickTestAccuracy: Double?
        /// The pick built and run on the board's simulator, when the settings ask for it.
        public var pickMeasurement: FirmwareMeasurement?
        /// Front points passed over because their build failed or broke a budget.
        public var rejectedAfterBuild: [PickRejection]
        public var floatValAccuracy: Double
        public var floatTestAccuracy: Double?
        public var interrupted: Bool
        public var log: SearchLog
    }

    let model: LoadedModel
    let dataset: Dataset
    let target: Target
    let settings: Settings

    public init(model: LoadedModel, dataset: Dataset, target: Target, settings: Settings) {
        self.model = model
        self.dataset = dataset
        self.target = target
        self.settings = settings
    }

    public func run(interrupted: @escaping @Sendable () -> Bool = { false },
                    progress: ((SearchProgress) -> Void)? = nil) throws -> Result {
        let lowered = try Lowering.lower(model.graph)
        let validation = try dataset.load(split: "val")
        let profile = try Calibration.profile(model.graph, on: validation)
        let floatOutputs = try FloatEvaluator(graph: model.graph).run(validation)
        let floatClasses = Accuracy.classes(floatOutputs, outputsClassIndex: model.graph.outputsClassIndex)
        let floatAccuracy = Accuracy.of(floatOutputs, labels: validation.labels, outputsClassIndex: model.graph.outputsClassIndex)
        let space = SearchSpace(graph: lowered, profile: profile, offsets: settings.offsets)
        let meanSteps = validation.lengths.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) } ?? 1
        let evaluator = EmulatorCandidateEvaluator(
            lowered: lowered, space: space, validation: validation, floatClasses: floatClasses, floatAccuracy: floatAccuracy,
            costModel: CostModel(target: target, meanSteps: meanSteps), budgets: settings.budgets)
        var context = SearchContext(evaluator: evaluator, maxEvaluations: settings.maxEvaluations, interrupted: interrupted)
        context.onProgress = progress
        var generator = SeededGenerator(seed: settings.seed)
        let maxLoss = settings.budgets.maxLoss ?? 0.01
        switch settings.strategy {
        case .greedy:
            var greedy = GreedySearch(maxLoss: maxLoss)
            context.currentStrategy = greedy.name
            greedy.search(space, &context, generator: &generator)
        case .genetic:
            var greedy = GreedySearch(maxLoss: maxLoss)
            context.currentStrategy = greedy.name
            greedy.search(space, &context, generator: &generator)
            var genetic = GeneticSearch(seeds: greedy.result.map { [$0] } ?? [])
            context.currentStrategy = genetic.name
            genetic.search(space, &context, generator: &generator)
        case .random:
            var random = RandomSearch(evaluations: 300)
            context.currentStrategy = random.name
            random.search(space, &context, generator: &generator)
        case let .uniform(bits):
            context.currentStrategy = settings.strategy.rawValue
            _ = context.evaluate(space.uniform(bits: bits))
        case .exhaustive:
            var exhaustive = ExhaustiveSearch()
            guard space.size <= Double(exhaustive.limit) else {
                throw TunerError.spaceTooLarge(candidates: space.size, limit: exhaustive.limit)
            }
            context.currentStrategy = exhaustive.name
            exhaustive.search(space, &context, generator: &generator)
        }
        return try finish(context: context, space: space, floatAccuracy: floatAccuracy, interrupted: interrupted())
    }

    private func finish(context: SearchContext<EmulatorCandidateEvaluator>, space: SearchSpace, floatAccuracy: Double,
                        interrupted: Bool) throws -> Result {
        let trials = context.trials
        let front = context.front
        // Preference: best validation accuracy, then fewer cycles, then less RAM.
        let preference = front.sorted { a, b in
            let x = trials[a].evaluation.objectives ?? Pareto.zero, y = trials[b].evaluation.objectives ?? Pareto.zero
            return (-x.accuracy, x.cycles, x.ramBytes, a) < (-y.accuracy, y.cycles, y.ramBytes, b)
        }
        let hasTest = dataset.availableSplits.contains("test")
        let samples = try dataset.load(split: hasTest ? "test" : "val")
        var pick: Int?, pickProgram: FixedProgram?, measurement: FirmwareMeasurement?
        var rejected: [PickRejection] = []
        switch settings.verification {
        case .estimate:
            if let first = preference.first {
                pick = first
                pickProgram = try context.evaluator.program(for: trials[first].candidate)
            }
        case let .device(device, directory):
            let verification = PickVerification(device: device, directory: directory, ramBudget: settings.budgets.ramBytes,
                                                flashBudget: settings.budgets.flashBytes)
            if let found = try verification.pick(from: preference, program: { try context.evaluator.program(for: trials[$0].candidate) },
                                                 samples: samples, rejected: &rejected) {
                (pick, pickProgram, measurement) = (found.index, found.program, found.measurement)
            }
        }
        var pickTest: Double?, floatTest: Double?
        if hasTest {
            let floatOutputs = try FloatEvaluator(graph: model.graph).run(samples)
            floatTest = Accuracy.of(floatOutputs, labels: samples.labels, outputsClassIndex: model.graph.outputsClassIndex)
            if let pickProgram {
                pickTest = Accuracy.of(FixedEmulator(program: pickProgram).run(samples), labels: samples.labels,
                                       outputsClassIndex: model.graph.outputsClassIndex)
            }
        }
        var log = SearchLog()
        log.append(SearchLog.Header(
            tool: "mcutune", toolVersion: "0.1.0", model: model.graph.name, target: target.name,
            budgetRAMBytes: settings.budgets.ramBytes, budgetFlashBytes: settings.budgets.flashBytes,
            maxLoss: settings.budgets.maxLoss, strategy: settings.strategy.rawValue, seed: settings.seed,
            variables: space.variables.map(\.tensor), offsets: [space.offsets.lowerBound, space.offsets.upperBound],
            floatValAccuracy: floatAccuracy, costModelCalibrated: target.cost.calibrated))
        for (i, trial) in trials.enumerated() {
            let config = space.config(for: trial.candidate)
            let formats = space.variables.map { v in [config.formats[v.tensor]?.bits ?? 0, config.formats[v.tensor]?.fracBits ?? 0] }
            log.append(SearchLog.CandidateLine(index: i, strategy: trial.strategy, formats: formats, fingerprint: config.fingerprint,
                                               outcome: trial.evaluation.outcome, message: trial.evaluation.message,
                                               objectives: trial.evaluation.objectives))
        }
        log.append(SearchLog.Summary(evaluations: trials.count, interrupted: interrupted, front: front, pick: pick,
                                     pickTestAccuracy: pickTest, floatTestAccuracy: floatTest,
                                     pickMeasured: measurement.map(MeasuredPick.init), rejectedAfterBuild: rejected))
        return Result(space: space, trials: trials, front: front, pick: pick, pickProgram: pickProgram, pickTestAccuracy: pickTest,
                      pickMeasurement: measurement, rejectedAfterBuild: rejected,
                      floatValAccuracy: floatAccuracy, floatTestAccuracy: floatTest, interrupted: interrupted, log: log)
    }
}
