import Devices
import Foundation
import Hardware
import Tuner

extension Bench {
    /// `tune bench --cost-model`: the cost model against the simulator on each model's tuner candidates.
    func validateCostModel(_ names: [String], resources: BundledResources) throws {
        let (board, device) = try reporting { () throws -> (Target, any Device) in
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            let device = try DeviceCatalog(root: resources.root).device(for: board)
            try device.checkTools()
            return (board, device)
        }
        let directory = keep ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-cost-model-\(UUID().uuidString.prefix(8))")
        var lines: [String] = []
        var table = TextTable(["model", "candidates", "front", "cycles median |err|", "worst |err|", "Spearman", "ordered >1% apart",
                               "flash median |err|", "worst |err|", "bit-exact", "kernels measured"],
                              numeric: Set(1...10))
        var all: [CostModelValidation.Row] = []
        var runsMeasured = 0
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let summary = try reporting {
                try CostModelValidation.run(model: job.model, dataset: job.dataset, device: device, seed: seed, count: candidates,
                                            samples: 4, jobs: jobs, directory: directory,
                                            profiling: noProfile ? nil : profiling(device, resources: resources), measureRuns: measureRuns)
            }
            runsMeasured += summary.runsMeasured
            all += summary.rows
            for row in summary.rows {
                lines.append("{\"model\": \"\(summary.model)\", \"candidate\": \(row.candidate), \"front\": \(row.onFront), "
                             + "\"predicted_cycles\": \(row.predictedCycles), \"measured_cycles\": \(row.measuredCycles), "
                             + "\"predicted_flash\": \(row.predictedFlash), \"measured_flash\": \(row.measuredFlash), "
                             + "\"kernels_measured\": \(row.kernelsMeasured)}")
            }
            table.add([summary.model, "\(summary.rows.count)", "\(summary.rows.filter(\.onFront).count)",
                       Format.percent(summary.medianCycleError), Format.percent(summary.worstCycleError), String(format: "%.3f", summary.spearman),
                       "\(summary.separatedPairs.ordered)/\(summary.separatedPairs.total)", Format.percent(summary.medianFlashError), Format.percent(summary.worstFlashError),
                       "\(summary.rows.filter(\.isBitExact).count)/\(summary.rows.count)",
                       "\(summary.rows.filter(\.kernelsMeasured).count)/\(summary.rows.count)"])
            for failure in summary.failures { FileHandle.standardError.write(Data("\(summary.model) \(failure)\n".utf8)) }
        }
        if keep == nil {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            try reporting { try SourceFile.write(lines.joined(separator: "\n") + "\n", to: "\(directory)/rows.jsonl") }
        }
        let overall = CostModelValidation.Summary(model: "all", rows: all, failures: [])
        table.add(["all", "\(all.count)", "\(all.filter(\.onFront).count)", Format.percent(overall.medianCycleError),
                   Format.percent(overall.worstCycleError), "-", "-", Format.percent(overall.medianFlashError),
                   Format.percent(overall.worstFlashError), "\(all.filter(\.isBitExact).count)/\(all.count)",
                   "\(all.filter(\.kernelsMeasured).count)/\(all.count)"])
        print("target \(board.name) (\(device.cycleCount.rawValue) cycles), seed \(seed): each model's tuner front and random other candidates from its log,")
        print("built and run on the simulator over 4 test samples; cost model \(board.cost.calibrated ? "calibrated" : "NOT calibrated"): \(board.cost.source)")
        print(noProfile ? "priced with the board's coefficients alone (--no-profile)"
                        : "priced with the board's coefficients corrected by each model's kernel profile (programs other than the candidates, measured before the search)"
                          + (measureRuns ? ",\nand each candidate the profile could not price from measurements of its kind measured before it was priced (--measure-runs: \(runsMeasured) candidates, over the first validation sample)" : ""))
        print(table.render())
        print("ordered >1% apart: of the pairs of candidates whose measured cycles differ by more than 1%, those the cost model orders as the board does")
    }

    /// The kernel profiling `tune` does before a search, with the cache `tune` uses.
    func profiling(_ device: any Device, resources: BundledResources) -> KernelProfiling {
        var profiling = KernelProfiling(device: device, cacheDirectory: KernelProfiling.cacheDirectory(root: resources.root))
        profiling.jobs = jobs
        return profiling
    }
}
