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
        /// The model's kernels measured on the board before the search (nil: the board's coefficients alone).
        public var profiling: KernelProfiling?
        /// Where the profile's builds go when it is measured.
        public var profileDirectory: String
        /// Measure every candidate's fused runs that the profile has not measured as they are, on the
        /// profile's board, before pricing it (`tune --measure-runs`; needs `profiling`).
        public var measureRuns = false
        /// Training inputs added to the validation split for fidelity (nil: as many as validation has,
        /// or all of them for `fastest` and `smallest`, whose pick rests on a bound of the disagreement).
        public var fidelitySamples: Int?
        public var pick: PickRule
        /// Where the search log is written as the search goes (nil: kept in memory only).
        public var logPath: String?
        /// Continue the search whose log is at `logPath` (`tune --resume`): its candidates are replayed
        /// instead of evaluated again, and the finished log and pick equal an uninterrupted run's.
        public var resume = false
        /// Scale offsets around each tensor's data-driven format, unless a caller says otherwise.
        public static let defaultOffsets = -3...2
        public init(strategy: Strategy, seed: UInt64, budgets: EmulatorCandidateEvaluator.Budgets,
                    maxEvaluations: Int = 2000, offsets: ClosedRange<Int> = Settings.defaultOffsets, verification: Verification = .estimate,
                    profiling: KernelProfiling? = nil, profileDirectory: String? = nil, fidelitySamples: Int? = nil,
                    pick: PickRule = .accurate, logPath: String? = nil, resume: Bool = false, measureRuns: Bool = false) {
            self.measureRuns = measureRuns
            self.logPath = logPath
            self.resume = resume
            self.verification = verification
            self.fidelitySamples = fidelitySamples
            self.pick = pick
            self.profiling = profiling
            self.profileDirectory = profileDirectory
                ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-profile-\(UUID().uuidString.prefix(8))")
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
        /// The pick's RAM built with plain C kernels (static plus the analysed worst-case stack), when it was built.
        public var pickPlainCRAM: Int?
        /// Front points passed over because their build failed or broke a budget.
        public var rejectedAfterBuild: [PickRejection]
        public var floatValAccuracy: Double
        public var floatTestAccuracy: Double?
        /// Samples behind the validation and test accuracies (nil: no test split).
        public var valSamples: Int
        public var testSamples: Int?
        public var interrupted: Bool
        public var log: SearchLog
        /// Candidates taken from the interrupted run's log instead of evaluated (`resume`).
        public var replayed = 0
        /// Wall time of the strategies alone (candidate evaluations), for benchmarks.
        public var searchSeconds = 0.0
        /// How the pick rule chose, in words.
        public var decision: String = ""
        /// Why the search stopped, in words.
        public var stopped: String = ""
        /// The samples fidelity was measured on.
        public var fidelitySamples: Int = 0
        public var fidelitySource: String = ""
        /// The kernel profile the search priced with, and where it came from.
        public var profile: (profile: KernelProfile, origin: KernelProfiling.Origin)?
        /// Candidates whose fused runs were measured during the search (`Settings.measureRuns`), and
        /// the first such measurement that failed.
        public var runsMeasured = 0
        public var runMeasurementFailure: String?
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
                    progress: ((SearchProgress) -> Void)? = nil,
                    profileProgress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        let lowered = try Lowering.lower(model.graph)
        // Before any data is read: if even the smallest program cannot fit, say so at once.
        try Self.checkSmallestFits(lowered, target: target, budgets: settings.budgets)
        let validation = try dataset.load(split: "val")
        // Fidelity is measured on the validation inputs and training inputs (no labels needed): as many
        // again by default; every one of them where the pick rests on a bound of the disagreement.
        let train = dataset.availableSplits.contains("train") ? try dataset.load(split: "train") : nil
        let extra: Int
        switch settings.pick {
        case .fastest, .smallest: extra = settings.fidelitySamples ?? train?.count ?? 0
        case .accurate, .validation: extra = settings.fidelitySamples ?? validation.count
        }
        let fidelity = try FidelitySet(validation: validation, extra: train, extraCount: extra, graph: model.graph)
        // Every split is read and checked before the search, so a bad one is refused now, not after it.
        let test = dataset.availableSplits.contains("test") ? try dataset.load(split: "test") : nil
        try Self.checkFinite(fidelity.floatOutputs, split: fidelity.source, model: model.graph.name)
        let testWithFloat = try test.map { split throws -> (split: DatasetSplit, floatOutputs: Batch) in
            let outputs = try FloatEvaluator(graph: model.graph).run(split)
            try Self.checkFinite(outputs, split: "test", model: model.graph.name)
            return (split, outputs)
        }
        let floatAccuracy = Accuracy.of(classes: Array(fidelity.floatClasses.prefix(validation.count)), labels: validation.labels)
        let space = try Self.space(of: model.graph, lowered: lowered, validation: validation, offsets: settings.offsets)
        let meanSteps = validation.lengths.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) } ?? 1
        let profiled = try settings.profiling?.profile(graph: lowered, space: space, split: validation,
                                                        directory: settings.profileDirectory, progress: profileProgress)
        if settings.profiling != nil { try? FileManager.default.removeItem(atPath: settings.profileDirectory) }
        var evaluator = EmulatorCandidateEvaluator(
            lowered: lowered, space: space, fidelity: fidelity, floatAccuracy: floatAccuracy,
            costModel: CostModel(target: target, meanSteps: meanSteps, profile: profiled?.0), budgets: settings.budgets)
        if settings.measureRuns, let device = settings.profiling?.device, profiled != nil {
            evaluator.runMeasurer = Self.runMeasurer(device: device, validation: validation)
        }
        var context = SearchContext(evaluator: evaluator, maxEvaluations: settings.maxEvaluations, interrupted: interrupted)
        context.onProgress = progress
        // The log is written as the search goes: the header now, each candidate as it is scored.
        let header = SearchLog.Header(
            tool: "mcutune", toolVersion: "0.1.0", model: model.graph.name, target: target.name,
            budgetRAMBytes: settings.budgets.ramBytes, budgetFlashBytes: settings.budgets.flashBytes,
            maxLoss: settings.budgets.maxLoss, strategy: settings.strategy.rawValue, seed: settings.seed,
            variables: space.variables.map(\.tensor), offsets: [space.offsets.lowerBound, space.offsets.upperBound],
            floatValAccuracy: floatAccuracy, costModelCalibrated: target.cost.calibrated, targetClockHz: target.clockHz,
            kernelProfile: profiled.map { .init(key: $0.0.key, programs: $0.0.programs) },
            fidelitySamples: fidelity.samples.count, fidelitySource: fidelity.source, pickRule: settings.pick.name,
            measuredRuns: evaluator.runMeasurer == nil ? nil : true)
        let log: SearchLog
        var resumed: SearchResume?
        if let path = settings.logPath {
            if settings.resume {
                let earlier = try SearchResume(logPath: path, header: header, space: space)
                context.replay = { earlier.evaluation(of: $0) }
                resumed = earlier
            }
            log = try SearchLog(streamingTo: path)
        } else {
            log = SearchLog()
        }
        log.append(header)
        context.onTrial = { index, trial in log.append(Self.candidateLine(index: index, trial: trial, space: space)) }
        var generator = SeededGenerator(seed: settings.seed)
        let maxLoss = settings.budgets.maxLoss ?? 0.01
        let searchStarted = DispatchTime.now().uptimeNanoseconds
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
        let searchSeconds = Double(DispatchTime.now().uptimeNanoseconds - searchStarted) / 1e9
        // Why the search stopped: the user, the evaluation limit, or the strategy's own end.
        let stopped: String
        if interrupted() {
            stopped = "interrupted"
        } else if context.trials.count >= settings.maxEvaluations {
            stopped = "reached --max-evaluations \(settings.maxEvaluations)"
        } else {
            switch settings.strategy {
            case .greedy: stopped = "the greedy stages ended"
            case .genetic: stopped = "the greedy stages and \(GeneticSearch().generations) NSGA-II generations ended"
            case .random: stopped = "the random candidates ended"
            case .exhaustive: stopped = "every candidate of the space was evaluated"
            case .uniform: stopped = "one candidate"
            }
        }
        var result = try finish(context: &context, space: space, floatAccuracy: floatAccuracy, fidelity: fidelity,
                                interrupted: interrupted(), log: log, test: testWithFloat,
                                validation: validation)
        resumed?.finished()
        result.replayed = context.replayed
        result.searchSeconds = searchSeconds
        result.stopped = stopped
        result.fidelitySamples = fidelity.samples.count
        result.fidelitySource = fidelity.source
        // With measured runs, the profile the search ended with: what the candidates were priced by.
        result.profile = profiled.map { (profile: context.evaluator.costModel.profile ?? $0.0, origin: $0.1) }
        result.runsMeasured = context.evaluator.runsMeasured
        result.runMeasurementFailure = context.evaluator.runMeasurementFailure
        result.valSamples = validation.count
        return result
    }

    /// Measures a candidate's nodes on `device` over the first validation sample, all its steps (a
    /// run's cycles per execution hardly move from sample to sample: FastGRNN-JapaneseVowels' cell on
    /// the Uno measured 13,373-13,407 cycles over 1 to 16 samples; but they do from the first steps,
    /// out of a zero state, to the rest: FastGRNN-BasicMotions' cell on the M4 ran about 6% faster in
    /// its first two steps than over whole sequences), each build in a temporary directory of its
    /// own, removed once measured.
    static func runMeasurer(device: any Device, validation: DatasetSplit) -> @Sendable (FixedProgram) throws -> [KernelProfile.Node] {
        let split = validation.prefix(1)
        return { program in
            let build = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-run-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: build) }
            return try KernelProfiler.measureNodes(program, split: split, device: device, directory: build)
        }
    }

    /// The search space of `graph` (lowered to `lowered`): every tensor's formats around the ranges
    /// the float model reaches on `validation`. Kernel profiles are chosen from it, so they and the
    /// search always see the same space.
    static func space(of graph: Graph, lowered: Graph, validation: DatasetSplit, offsets: ClosedRange<Int>) throws -> SearchSpace {
        SearchSpace(graph: lowered, profile: try Calibration.profile(graph, on: validation), offsets: offsets)
    }

    /// How `rule` chose among the front, in words.
    static func decision(_ rule: PickRule, front: [Int], trials: [Evaluation], qualifying: Int, fidelity: FidelitySet) -> String {
        let samples = "\(fidelity.samples.count) fidelity samples (\(fidelity.source))"
        switch rule {
        case .accurate:
            let equivalent = PickRule.equivalent(front, trials).count
            if equivalent <= 1 { return "by validation accuracy: no other front point comes within significance of it" }
            return "by fidelity: \(equivalent) of \(front.count) front points are not significantly below the best validation accuracy "
                + "(paired McNemar test, 5%); the pick is the fastest of those that follow the float model most closely on \(samples)"
        case .validation:
            return "by validation accuracy, ties by fewer cycles (--pick validation)"
        case let .fastest(loss), let .smallest(loss):
            let what = rule.name == "fastest" ? "the fewest cycles" : "the least RAM"
            let bound = String(format: "%.2f%%", loss * 100)
            guard qualifying > 0 else {
                let best = front.compactMap { trials[$0].objectives?.disagreement }.min() ?? 1
                let n = fidelity.samples.count
                return "none qualifies: no front point disagrees with the float model on less than \(bound) of inputs with 95% confidence; "
                    + "the closest disagrees on \(Int((best * Double(n)).rounded())) of \(samples), which bounds it at "
                    + String(format: "%.2f%%", PickRule.disagreementBound(best, samples: n) * 100) + "; raise --max-loss or --fidelity-samples"
            }
            return "\(what) of \(qualifying) front points whose disagreement with the float model, measured on \(samples), is below \(bound) "
                + "with 95% confidence (which bounds their accuracy loss)"
        }
    }

    /// Throws `nothingFits` when the smallest program of `lowered` (every tensor 8-bit, the planned
    /// arena) breaks a budget: sizes follow from the formats' widths alone, so no data is needed.
    static func checkSmallestFits(_ lowered: Graph, target: Target, budgets: EmulatorCandidateEvaluator.Budgets) throws {
        let space = SearchSpace(graph: lowered, profile: RangeProfile(maxAbs: [:]))
        let config = space.config(for: space.uniform(bits: 8))
        // A graph the fixed-point core cannot take is reported by the search itself, candidate by candidate.
        guard let smallest = try? FixedProgram(graph: lowered, config: config) else { return }
        let cost = CostModel(target: target, meanSteps: 1).estimate(smallest)
        guard cost.ramBytes > budgets.ramBytes || cost.flashBytes > budgets.flashBytes else { return }
        // Name what breaks the budget: activations for RAM, weights for flash.
        let overRAM = cost.ramBytes > budgets.ramBytes
        throw TunerError.nothingFits(smallestRAM: cost.ramBytes, budgetRAM: budgets.ramBytes, smallestFlash: cost.flashBytes,
                                     budgetFlash: budgets.flashBytes, largestTensors: largestTensors(space, config: config, weights: !overRAM))
    }

    /// The three tensors that take the most bytes under `config`, as "name (N B)"; only weights or
    /// only the others when `weights` says which.
    public static func largestTensors(_ space: SearchSpace, config: QuantConfig, weights: Bool? = nil) -> [String] {
        let sizes = space.variables.filter { weights == nil || $0.isWeight == weights }
            .map { v in (v.tensor, v.elements * (config.formats[v.tensor]?.bits ?? 16) / 8) }
        return sizes.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(3).map { "\($0.0) (\($0.1) B)" }
    }

    /// A float model whose outputs overflow on the data is no baseline: refuse it, naming the split.
    static func checkFinite(_ outputs: Batch, split: String, model: String) throws {
        guard let bad = outputs.values.firstIndex(where: { !$0.isFinite }) else { return }
        throw TunerError.nonFiniteFloat(model: model, split: split, sample: bad / max(outputs.columns, 1), value: outputs.values[bad])
    }

    /// A trial as its log line: formats per variable in the header's order.
    static func candidateLine(index: Int, trial: SearchContext<EmulatorCandidateEvaluator>.Trial, space: SearchSpace) -> SearchLog.CandidateLine {
        let config = space.config(for: trial.candidate)
        return SearchLog.CandidateLine(index: index, strategy: trial.strategy, formats: SearchResume.formats(config, space: space),
                                       fingerprint: config.fingerprint, outcome: trial.evaluation.outcome, message: trial.evaluation.message,
                                       objectives: trial.evaluation.objectives)
    }

    private func finish(context: inout SearchContext<EmulatorCandidateEvaluator>, space: SearchSpace, floatAccuracy: Double,
                        fidelity: FidelitySet, interrupted: Bool, log: SearchLog, test: (split: DatasetSplit, floatOutputs: Batch)?,
                        validation: DatasetSplit) throws -> Result {
        let front = context.front
        context.restoreCorrectness(of: front)
        let trials = context.trials
        let profile = context.evaluator.costModel.profile
        let preference = settings.pick.preference(front, trials.map(\.evaluation), fidelitySamples: fidelity.samples.count)
        let decision = Self.decision(settings.pick, front: front, trials: trials.map(\.evaluation), qualifying: preference.count,
                                     fidelity: fidelity)
        let hasTest = test != nil
        let samples = test?.split ?? validation
        var pick: Int?, pickProgram: FixedProgram?, measurement: FirmwareMeasurement?, plainCRAM: Int?
        var rejected: [PickRejection] = []
        switch settings.verification {
        case .estimate:
            if let first = preference.first {
                pick = first
                pickProgram = try context.evaluator.program(for: trials[first].candidate)
            }
        case let .device(device, directory):
            let verification = PickVerification(device: device, directory: directory, ramBudget: settings.budgets.ramBytes,
                                                flashBudget: settings.budgets.flashBytes, profile: profile)
            if let found = try verification.pick(from: preference, program: { try context.evaluator.program(for: trials[$0].candidate) },
                                                 samples: samples, rejected: &rejected) {
                (pick, pickProgram, measurement, plainCRAM) = (found.index, found.program, found.measurement, found.plainRAM)
            }
        }
        var pickTest: Double?, floatTest: Double?
        if let floatOutputs = test?.floatOutputs {
            floatTest = Accuracy.of(floatOutputs, labels: samples.labels, outputsClassIndex: model.graph.outputsClassIndex)
            if let pickProgram {
                pickTest = Accuracy.of(FixedEmulator(program: pickProgram).run(samples), labels: samples.labels,
                                       outputsClassIndex: model.graph.outputsClassIndex)
            }
        }
        // Reference points for plots and reports: uniform programs at the data-driven scales.
        var baselines: [String: SearchLog.Summary.Baseline] = [:]
        for bits in [16, 8] {
            let e = context.evaluator.evaluate(space.uniform(bits: bits))
            baselines["all\(bits)"] = .init(outcome: e.outcome, objectives: e.objectives)
        }
        log.append(SearchLog.Summary(evaluations: trials.count, interrupted: interrupted, front: front, pick: pick,
                                     pickTestAccuracy: pickTest, floatTestAccuracy: floatTest,
                                     pickMeasured: measurement.map { MeasuredPick($0, plainCRAM: plainCRAM) }, rejectedAfterBuild: rejected,
                                     baselines: baselines))
        return Result(space: space, trials: trials, front: front, pick: pick, pickProgram: pickProgram, pickTestAccuracy: pickTest,
                      pickMeasurement: measurement, pickPlainCRAM: plainCRAM, rejectedAfterBuild: rejected,
                      floatValAccuracy: floatAccuracy, floatTestAccuracy: floatTest, valSamples: 0, testSamples: hasTest ? samples.count : nil,
                      interrupted: interrupted, log: log, decision: decision, profile: nil)
    }
}
