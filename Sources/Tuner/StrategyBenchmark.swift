import Dispatch
import Evaluator
import FixedPoint
import Hardware
import ModelIR

/// Compares the strategies, and the uniform 16- and 8-bit configs, on one model and target: the
/// hypervolume of each front in (validation error, RAM) against the RAM budget, the test accuracy of
/// each pick within the budgets, evaluations and wall time.
public enum StrategyBenchmark {
    public struct Row: Sendable {
        public var model: String
        public var method: String
        public var hypervolume: Double
        public var pickTestAccuracy: Double?
        public var pickRAMBytes: Int?
        public var evaluations: Int
        public var seconds: Double
    }

    public static func run(model: LoadedModel, dataset: Dataset, target: Target, ramBudget: Int, seed: UInt64,
                           maxEvaluations: Int) throws -> [Row] {
        var rows: [Row] = []
        let budgets = EmulatorCandidateEvaluator.Budgets(ramBytes: ramBudget, flashBytes: target.flashBytes, maxLoss: nil)
        for strategy in [TuningJob.Strategy.greedy, .genetic, .random] {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try TuningJob(model: model, dataset: dataset, target: target,
                                       settings: .init(strategy: strategy, seed: seed, budgets: budgets, maxEvaluations: maxEvaluations)).run()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let front = result.front.compactMap { result.trials[$0].evaluation.objectives }
            rows.append(Row(model: model.graph.name, method: strategy.rawValue,
                            hypervolume: Pareto.hypervolume(front, ramReference: Double(ramBudget)),
                            pickTestAccuracy: result.pickTestAccuracy,
                            pickRAMBytes: result.pick.flatMap { result.trials[$0].evaluation.objectives?.ramBytes },
                            evaluations: result.trials.count, seconds: seconds))
        }
        // The uniform configs: one candidate each, through the same evaluator.
        for bits in [16, 8] {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try TuningJob(model: model, dataset: dataset, target: target,
                                       settings: .init(strategy: .uniform(bits: bits), seed: seed, budgets: budgets, maxEvaluations: 1)).run()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let front = result.front.compactMap { result.trials[$0].evaluation.objectives }
            rows.append(Row(model: model.graph.name, method: "uniform \(bits)-bit",
                            hypervolume: Pareto.hypervolume(front, ramReference: Double(ramBudget)),
                            pickTestAccuracy: result.pickTestAccuracy,
                            pickRAMBytes: result.pick.flatMap { result.trials[$0].evaluation.objectives?.ramBytes },
                            evaluations: result.trials.count, seconds: seconds))
        }
        return rows
    }
}
