import Devices
import Foundation
import Hardware
import Tuner

extension Bench {
    /// `tune bench --device`: the tuner's pick of each model for --target, built and run on the board's simulator.
    func measureOnDevice(_ names: [String], resources: BundledResources) throws {
        let (board, device) = try reporting { () throws -> (Target, any Device) in
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            return (board, try DeviceCatalog(root: resources.root).device(for: board))
        }
        var table = TextTable(["model", "bit-exact", "RAM estimate", "RAM counted", "RAM measured", "counted vs measured",
                               "stack analysed", "stack measured", "cycles measured", "cycles estimate"],
                              numeric: Set(1...9))
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-device-\(UUID().uuidString.prefix(8))")
            let settings = TuningJob.Settings(strategy: .genetic, seed: seed,
                                              budgets: .init(ramBytes: budgetRAM, flashBytes: board.flashBytes, maxLoss: nil),
                                              verification: .device(device, directory: "\(directory)/pick"),
                                              profiling: noProfile ? nil : profiling(device, resources: resources),
                                              profileDirectory: "\(directory)/profile")
            let result = try reporting { try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run() }
            guard let m = result.pickMeasurement, let pick = result.pick,
                  let estimate = result.trials[pick].evaluation.objectives?.ramBytes else {
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
        print("target \(board.name), RAM budget \(budgetRAM) B, seed \(seed): the pick of each model built and run on the board's simulator (\(device.cycleCount.rawValue) cycles)"
              + (noProfile ? "; estimates from the board's coefficients alone" : "; estimates with each model's kernel profile"))
        print("RAM counted = static RAM (size tool) + worst-case stack from -fstack-usage and the call graph (what the tuner budgets);")
        print("RAM measured = static RAM + the deepest stack on the simulator; bit-exact = output values equal to the emulator's")
        print(table.render())
    }
}
