import Devices
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

extension Bench {
    /// `tune bench --kernels`: each model under `all8` and under the tuner's pick, built for --target
    /// twice, with the plain C of every kernel (the baseline, as the emitter wrote it before its
    /// kernels were specialised) and with the specialised kernels, both run on the board's simulator
    /// in this process: MACs, cycles, cycles per MAC, the speedup, and RAM and flash before and after.
    func compareKernels(_ names: [String], resources: BundledResources) throws {
        let (board, device) = try reporting { () throws -> (Target, any Device) in
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            let device = try DeviceCatalog(root: resources.root).device(for: board)
            try device.checkTools()
            return (board, device)
        }
        let budget = min(budgetRAM, board.ramBytes)
        let directory = keep ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-kernels-\(UUID().uuidString.prefix(8))")
        var table = TextTable(["model", "config", "MACs", "plain C cycles", "cycles", "cycles/MAC", "speedup", "RAM B (static + stack)", "flash B", "bit-exact"],
                              numeric: Set(2...6))
        var notes: [String] = []
        var speedups: [Double] = []
        var grown: [String] = []
        func ram(_ m: FirmwareMeasurement) -> String {
            "\(Format.count(m.analysedRAM)) (\(Format.count(m.build.sizes.staticRAM)) + \(Format.count(m.build.stack.bytes)))"
        }
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let test = try reporting { try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val") }.prefix(8)
            let all8 = try reporting { try FixedProgram(graph: job.model.graph, config: try ConfigSource.resolve("all8", model: job.model, dataset: job.dataset)) }
            // The pick as `tune` takes it: priced with the model's kernel profile, and checked on the
            // board (so never a point whose specialised kernels take more RAM than plain C, where another is there).
            let settings = TuningJob.Settings(strategy: .genetic, seed: seed,
                                              budgets: .init(ramBytes: budget, flashBytes: board.flashBytes, maxLoss: nil),
                                              verification: .device(device, directory: "\(directory)/\(job.model.graph.name)-verified"),
                                              profiling: noProfile ? nil : profiling(device, resources: resources),
                                              profileDirectory: "\(directory)/\(job.model.graph.name)-profile")
            let pick = try reporting { try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run() }.pickProgram
            for (label, program) in [("all8", all8), ("pick", pick)] {
                guard let program else {
                    notes.append("\(job.model.graph.name): no pick within \(budget) B")
                    continue
                }
                let base = "\(directory)/\(job.model.graph.name)-\(label)"
                let measured = try reporting { () throws -> (FirmwareMeasurement, FirmwareMeasurement)? in
                    do {
                        let plain = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: test.count,
                                                                directory: "\(base)-plain", specialised: false)
                        let fast = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: test.count,
                                                               directory: "\(base)-specialised")
                        return (plain, fast)
                    } catch DeviceError.doesNotFit(let memory, _, _) {
                        notes.append("\(job.model.graph.name) \(label): does not fit the \(memory) of the \(board.name)")
                        return nil
                    }
                }
                guard let (plain, fast) = measured else { continue }
                if fast.analysedRAM > plain.analysedRAM {
                    grown.append("\(job.model.graph.name) \(label): RAM +\(fast.analysedRAM - plain.analysedRAM) B against plain C "
                                 + "(static \(Format.signed(fast.build.sizes.staticRAM - plain.build.sizes.staticRAM)) B, "
                                 + "stack \(Format.signed(fast.build.stack.bytes - plain.build.stack.bytes)) B)")
                }
                let macs = Self.macsPerInference(job.model.graph, samples: test.prefix(fast.samples))
                let speedup = plain.meanCycles / max(fast.meanCycles, 1)
                speedups.append(speedup)
                table.add([job.model.graph.name, label, Format.count(Int(macs.rounded())), Format.count(Int(plain.meanCycles.rounded())),
                           Format.count(Int(fast.meanCycles.rounded())), String(format: "%.1f", fast.meanCycles / max(macs, 1)),
                           String(format: "%.2fx", speedup),
                           "\(ram(plain)) -> \(ram(fast))",
                           "\(Format.count(plain.firmware.programFlash)) -> \(Format.count(fast.firmware.programFlash)) ("
                               + Format.signedPercent(Double(fast.firmware.programFlash) / Double(max(plain.firmware.programFlash, 1)) - 1) + ")",
                           "\(fast.values - fast.mismatches)/\(fast.values)" + (plain.isBitExact ? "" : " (plain C: \(plain.mismatches) off)")])
            }
        }
        if keep == nil { try? FileManager.default.removeItem(atPath: directory) }
        print("target \(board.name) (\(board.mcu)), \(device.cycleCount.rawValue) cycles per inference, mean over up to 8 test samples; pick: genetic, seed \(seed), \(budget) B of RAM, "
              + (noProfile ? "the board's coefficients alone" : "each model's kernel profile") + ", checked on the board as tune does")
        print("plain C: every kernel as the plain loop of its semantics (specialised: false), built and run in this process as the baseline;")
        print("cycles: the specialised kernels (8-bit dot products in assembly on AVR and with SMLAD on Cortex-M4/M7, activation tables, fused ReLU, elementwise runs in one loop, depthwise by channel); RAM: static + analysed worst-case stack; flash: the program without its samples")
        print(table.render())
        if let worst = speedups.min(), let best = speedups.max() { print(String(format: "speedup %.2fx to %.2fx", worst, best)) }
        print(grown.isEmpty ? "RAM: no row above plain C" : "RAM above plain C:\n" + grown.map { "  " + $0 }.joined(separator: "\n"))
        for note in notes { print(note) }
    }

    /// Multiply-accumulates of one inference over `samples`: a recurrent cell's once per step of each
    /// sample's own length.
    static func macsPerInference(_ graph: Graph, samples: DatasetSplit) -> Double {
        let layers = graph.layerStatistics()
        let once = Double(layers.filter { !$0.perStep }.reduce(0) { $0 + $1.macs })
        let perStep = Double(layers.filter(\.perStep).reduce(0) { $0 + $1.macs })
        let lengths = samples.lengths ?? Array(repeating: 1, count: samples.count)
        let steps = lengths.isEmpty ? 1 : Double(lengths.reduce(0, +)) / Double(lengths.count)
        return once + perStep * steps
    }
}
