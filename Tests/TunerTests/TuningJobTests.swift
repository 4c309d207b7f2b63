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

    /// A model whose smallest program cannot fit is refused before a single sample is read: here its
    /// validation split is gone, and the refusal still names the budget and the largest tensors.
    @Test func aModelThatCannotFitIsRefusedBeforeTheSearch() throws {
        let model = try ModelLoader.load(Repository.path("models/lenet-digits"))
        let data = try copyDirectory(try #require(model.datasetPath), label: "no-val")
        try FileManager.default.removeItem(atPath: "\(data)/val_x.npy")
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let job = TuningJob(model: model, dataset: try Dataset.open(data), target: target, settings: .init(
            strategy: .genetic, seed: 0, budgets: .init(ramBytes: 256, flashBytes: 32768, maxLoss: nil)))
        do {
            _ = try job.run()
            Issue.record("a 256 B budget was accepted for LeNet")
        } catch let error as TunerError {
            guard case let .nothingFits(ram, budget, _, _, tensors) = error else { Issue.record("\(error)"); return }
            #expect(budget == 256 && ram > 256)
            #expect(tensors.count == 3 && tensors.allSatisfy { $0.hasSuffix(" B)") })
        }
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

    @Test func aBudgetNothingFitsIsRefusedWithWhatTheSmallestNeeds() throws {
        do {
            _ = try job(seed: 1, strategy: .greedy, ram: 100).run()
            Issue.record("a 100 B budget was accepted")
        } catch let TunerError.nothingFits(ram, budget, _, _, tensors) {
            #expect(budget == 100 && ram > 100 && !tensors.isEmpty)
            // RAM is what breaks, so the tensors named are activations and states, not weights in flash.
            #expect(!tensors.contains { ["rnn.U", "rnn.W", "fc.W"].contains(String($0.prefix { $0 != " " })) })
        }
    }
}
