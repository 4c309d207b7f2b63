import Devices
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

extension Bench {
    /// `tune bench --picks`: each model searched with `--seeds` seeds; the pick of each rule taken
    /// from the same search, and its test accuracy against float's: how far a rule's pick falls on
    /// unseen data, and how much it moves from seed to seed.
    func comparePickRules(_ names: [String], resources: BundledResources) throws {
        let (board, device) = try reporting { () throws -> (Target, any Device) in
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            return (board, try DeviceCatalog(root: resources.root).device(for: board))
        }
        // Priced as `tune` prices: with each model's kernel profile (measured once, then cached).
        let profiling = noProfile ? nil : profiling(device, resources: resources)
        let rules: [PickRule] = [.validation, .accurate]
        var table = TextTable(["model", "test", "float test", "rule", "mean", "lowest", "highest", "range", "worst vs float", "mean cycles"],
                              numeric: [1, 2, 4, 5, 6, 7, 8, 9])
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            var accuracies = [[Double]](repeating: [], count: rules.count), cycles = [[Double]](repeating: [], count: rules.count)
            var floatTest = 0.0, testCount = 0
            let test = try reporting { try DatasetSplitAccuracy(job: job) }
            for s in 0..<seeds {
                let settings = TuningJob.Settings(strategy: .genetic, seed: seed &+ UInt64(s),
                                                  budgets: .init(ramBytes: budgetRAM, flashBytes: board.flashBytes, maxLoss: nil),
                                                  profiling: profiling)
                let result = try reporting { try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run() }
                floatTest = result.floatTestAccuracy ?? 0
                testCount = result.testSamples ?? 0
                for (r, rule) in rules.enumerated() {
                    guard let pick = rule.preference(result.front, result.trials.map(\.evaluation), fidelitySamples: result.fidelitySamples).first,
                          let program = try? FixedProgram(graph: job.model.graph, config: result.space.config(for: result.trials[pick].candidate))
                    else { continue }
                    accuracies[r].append(test.accuracy(of: program))
                    cycles[r].append(result.trials[pick].evaluation.objectives?.cycles ?? 0)
                }
            }
            for (r, rule) in rules.enumerated() {
                let a = accuracies[r]
                guard let lowest = a.min(), let highest = a.max() else {
                    table.add([job.model.graph.name, "\(testCount)", Format.percent(floatTest), rule.name, "none fits", "-", "-", "-", "-", "-"])
                    continue
                }
                let mean = a.reduce(0, +) / Double(a.count)
                table.add([job.model.graph.name, "\(testCount)", Format.percent(floatTest), rule.name, Format.percent(mean), Format.percent(lowest),
                           Format.percent(highest), String(format: "%.2f", (highest - lowest) * 100), String(format: "%+.2f", (lowest - floatTest) * 100),
                           Format.count(Int((cycles[r].reduce(0, +) / Double(max(cycles[r].count, 1))).rounded()))])
            }
        }
        print("target \(board.name), RAM budget \(budgetRAM) B, genetic search, seeds \(seed)..<\(seed &+ UInt64(seeds)): test accuracy of each rule's pick "
              + "(range and worst vs float in points; cycles estimated)")
        print(table.render())
    }
}

/// A model's test split, to score picks on.
struct DatasetSplitAccuracy {
    let split: DatasetSplit
    let outputsClassIndex: Bool

    init(job: LoadedJob) throws {
        split = try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val")
        outputsClassIndex = job.model.graph.outputsClassIndex
    }

    func accuracy(of program: FixedProgram) -> Double {
        Accuracy.of(FixedEmulator(program: program).run(split), labels: split.labels, outputsClassIndex: outputsClassIndex)
    }
}
