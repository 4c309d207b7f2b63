import Foundation
import Testing
import TestSupport
@testable import Tuner
import Hardware
import ModelIR

/// The pick rules: the paired test behind `accurate`, the bound behind `fastest`, and the tie case
/// that motivated them: a validation split the float model gets all right.
@Suite struct PickRuleTests {
    @Test func theMcNemarTailIsTheBinomialOne() {
        // 5 discordant samples all one way: 1/32.
        #expect(abs(PickRule.mcnemarPValue(5, 0) - 1.0 / 32) < 1e-12)
        // 8 of 10 one way: (45 + 10 + 1) / 1024.
        #expect(abs(PickRule.mcnemarPValue(8, 2) - 56.0 / 1024) < 1e-12)
        #expect(PickRule.mcnemarPValue(0, 7) == 1)
        // A large split stays finite and small where it should.
        #expect(PickRule.mcnemarPValue(60, 20) < 1e-5)
    }

    static func evaluation(accuracy: Double, disagreement: Double, logitError: Double, cycles: Double, correct: [UInt64]) -> Evaluation {
        Evaluation(objectives: .init(accuracy: accuracy, disagreement: disagreement, logitError: logitError, cycles: cycles,
                                     ramBytes: 100, flashBytes: 100), outcome: .ok, correct: correct)
    }

    @Test func accurateTakesTheFastestOfTheFaithfulAmongTheEquallyAccurate() {
        // 64 validation samples. #0 gets all right; #1 misses 2 (not significant); #2 misses 8 (significant).
        let all = UInt64.max
        let evaluations = [
            Self.evaluation(accuracy: 1, disagreement: 0.02, logitError: 0.01, cycles: 900, correct: [all]),
            Self.evaluation(accuracy: 62.0 / 64, disagreement: 0, logitError: 0.0002, cycles: 800, correct: [all >> 2]),
            Self.evaluation(accuracy: 56.0 / 64, disagreement: 0, logitError: 0.0001, cycles: 100, correct: [all >> 8]),
            Self.evaluation(accuracy: 62.0 / 64, disagreement: 0, logitError: 0.0009, cycles: 500, correct: [all >> 2]),
        ]
        // #3's logit error is within the tolerance of #1's, and it is faster.
        #expect(PickRule.accurate.preference([0, 1, 2, 3], evaluations, fidelitySamples: 1000) == [3, 1, 0, 2])
        // The old rule: the best validation accuracy.
        #expect(PickRule.validation.preference([0, 1, 2, 3], evaluations, fidelitySamples: 1000).first == 0)
        // fastest: only points whose disagreement is within the bound at 95% on 1,000 samples, fewest cycles first;
        // on 20 samples even no disagreement at all bounds nothing below 1%.
        #expect(PickRule.fastest(maxLoss: 0.01).preference([0, 1, 2, 3], evaluations, fidelitySamples: 20).isEmpty)
        #expect(PickRule.fastest(maxLoss: 0.01).preference([0, 1, 2, 3], evaluations, fidelitySamples: 1000) == [2, 3, 1])
        #expect(PickRule.fastest(maxLoss: 0.03).preference([0, 1, 2, 3], evaluations, fidelitySamples: 1000) == [2, 3, 1, 0])
    }

    /// A user with only train and test files carves validation from the training data, which the
    /// model has learnt: the float model scores 100% on it and most candidates tie. The pick must
    /// still hold on test, seed after seed.
    @Test func aValidationSplitTheModelHasLearntStillGivesAPickThatHoldsOnTest() throws {
        let model = try ModelLoader.load(Repository.path("models/fastgrnn-basicmotions"))
        let data = try copyDirectory(try #require(model.datasetPath), label: "val-from-train")
        // val := the first 10 training samples; train := the other 20.
        for part in ["x", "y", "lengths"] {
            let train = try NumpyArray.read(contentsOf: "\(data)/train_\(part).npy")
            let per = train.values.count / train.shape[0]
            let head = NumpyArray(shape: [10] + train.shape.dropFirst(), dtype: train.dtype, values: Array(train.values[0..<(10 * per)]))
            let tail = NumpyArray(shape: [train.shape[0] - 10] + train.shape.dropFirst(), dtype: train.dtype, values: Array(train.values[(10 * per)...]))
            try head.write(to: "\(data)/val_\(part).npy")
            try tail.write(to: "\(data)/train_\(part).npy")
        }
        let dataset = try Dataset.open(data)
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        for seed: UInt64 in 0..<5 {
            let result = try TuningJob(model: model, dataset: dataset, target: target, settings: .init(
                strategy: .genetic, seed: seed, budgets: .init(ramBytes: 2048, flashBytes: 32768, maxLoss: nil), maxEvaluations: 300)).run()
            #expect(result.floatValAccuracy == 1)
            let test = try #require(result.pickTestAccuracy), float = try #require(result.floatTestAccuracy)
            #expect(test >= float - 0.01, "seed \(seed): pick \(test) on test, float \(float)")
        }
    }
}
