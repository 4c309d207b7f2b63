import Foundation
import Testing
import TestSupport
@testable import Tuner
import Hardware
import ModelIR

/// The real job on the default model: reproducible logs and a front within the budgets.
@Suite struct TuningJobTests {
    func job(seed: UInt64, strategy: TuningJob.Strategy = .genetic, ram: Int = 2048) throws -> TuningJob {
        let model = try ModelLoader.load(Repository.path("models/fastgrnn-japanesevowels"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        return TuningJob(model: model, dataset: dataset, target: target, settings: .init(
            strategy: strategy, seed: seed, budgets: .init(ramBytes: ram, flashBytes: 32768, maxLoss: nil), maxEvaluations: 80))
    }

    @Test func theSameSeedGivesAByteIdenticalLog() throws {
        let a = try job(seed: 7).run().log.text
        let b = try job(seed: 7).run().log.text
        #expect(a == b)
        #expect(a.split(separator: "\n").count == 80 + 2)
        let c = try job(seed: 8, strategy: .random).run().log.text
        #expect(c != a)
    }

    @Test func theFrontIsFeasibleAndThePickIsItsMostAccuratePoint() throws {
        let result = try job(seed: 1).run()
        let pick = try #require(result.pick)
        #expect(result.front.contains(pick))
        for i in result.front {
            let o = try #require(result.trials[i].evaluation.objectives)
            #expect(result.trials[i].evaluation.isFeasible && o.ramBytes <= 2048 && o.flashBytes <= 32768)
            #expect(o.accuracy <= result.trials[pick].evaluation.objectives?.accuracy ?? 0)
        }
        #expect(result.pickTestAccuracy != nil)
        // Every log line is one JSON object.
        for line in result.log.text.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any])
        }
    }

    @Test func aBudgetNothingFitsLeavesAnEmptyFront() throws {
        let result = try job(seed: 1, strategy: .greedy, ram: 100).run()
        #expect(result.front.isEmpty && result.pick == nil)
        #expect(result.trials.allSatisfy { $0.evaluation.outcome != .ok })
    }
}
