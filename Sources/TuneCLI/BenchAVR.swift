import Foundation
import Hardware
import Tuner

extension Bench {
    /// `tune bench --avr`: the tuner's pick of each model, built and run on simavr.
    func measureOnAVR(_ names: [String], resources: BundledResources) throws {
        let board = try reporting { try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target) }
        guard board.core == .avr else { throw CommandError("--avr needs an AVR --target (uno, mega2560), got '\(target)'") }
        var table = TextTable(["model", "bit-exact", "RAM estimate", "RAM counted", "RAM measured", "counted vs measured",
                               "stack analysed", "stack measured", "cycles measured", "cycles estimate"],
                              numeric: Set(1...9))
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-avr-\(UUID().uuidString.prefix(8))")
            let settings = TuningJob.Settings(strategy: .genetic, seed: seed,
                                              budgets: .init(ramBytes: budgetRAM, flashBytes: board.flashBytes, maxLoss: nil),
                                              verification: .avrBuild(directory: "\(directory)/pick"))
            let outcome = try reporting { () throws -> (TuningJob.Result, AVRMeasurement?) in
                let result = try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run()
                guard let program = result.pickProgram else { return (result, nil) }
                let test = try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val")
                return (result, try AVRMeasurement.run(program: program, target: board, split: test, maxSamples: 16,
                                                      directory: "\(directory)/measure", resources: resources))
            }
            guard let m = outcome.1, let pick = outcome.0.pick,
                  let estimate = outcome.0.trials[pick].evaluation.objectives?.ramBytes else {
                table.add([job.model.graph.name, "none fits", "-", "-", "-", "-", "-", "-", "-", "-"])
                continue
            }
            let meanCycles = m.meanCycles, predicted = m.meanPredictedCycles
            table.add([job.model.graph.name, "\(m.values - m.mismatches)/\(m.values)", Format.count(estimate),
                       Format.count(m.analysedRAM), Format.count(m.measuredRAM),
                       Format.signedPercent(Double(m.analysedRAM) / Double(max(m.measuredRAM, 1)) - 1),
                       "\(m.build.stack.bytes)", "\(m.run.peakStackBytes)", Format.count(Int(meanCycles.rounded())),
                       Format.signedPercent(predicted / max(meanCycles, 1) - 1)])
        }
        print("target \(board.name), RAM budget \(budgetRAM) B, seed \(seed): the pick of each model built with avr-gcc -O2 and run on simavr")
        print("RAM counted = avr-size static + worst-case stack from -fstack-usage and the call graph (what the tuner budgets);")
        print("RAM measured = avr-size static + the deepest stack on simavr; bit-exact = output values equal to the emulator's")
        print(table.render())
    }
}
