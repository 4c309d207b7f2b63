import Devices
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

extension Bench {
    /// `tune bench --float`: each model's float C and the tuner's fixed-point pick, both built for
    /// --target and run on its simulator: cycles, flash, RAM and accuracy side by side.
    func compareWithFloat(_ names: [String], resources: BundledResources) throws {
        let (catalog, board, device) = try reporting { () throws -> (TargetCatalog, Target, any Device) in
            let catalog = try TargetCatalog.load(directory: resources.targetsDirectory)
            let board = try catalog.target(named: target)
            return (catalog, board, try DeviceCatalog(root: resources.root).device(for: board))
        }
        let budget = min(budgetRAM, board.ramBytes)
        var table = TextTable(["model", "float cycles", "fixed cycles", "speedup", "float flash", "fixed flash", "float RAM",
                               "fixed RAM", "float acc", "fixed acc", "float on board"], numeric: Set(1...9))
        var notes: [String] = []
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let directory = keep.map { "\($0)/\(name)" }
                ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-float-\(UUID().uuidString.prefix(8))")
            let settings = TuningJob.Settings(strategy: .genetic, seed: seed,
                                              budgets: .init(ramBytes: budget, flashBytes: board.flashBytes, maxLoss: nil),
                                              verification: .device(device, directory: "\(directory)/fixed"))
            let result = try reporting { try TuningJob(model: job.model, dataset: job.dataset, target: board, settings: settings).run() }
            let test = try reporting { try job.dataset.load(split: "test") }
            let floatAccuracy = try reporting { () throws -> Double in
                let outputs = try FloatEvaluator(graph: job.model.graph).run(test)
                return Accuracy.of(outputs, labels: test.labels, outputsClassIndex: job.model.graph.outputsClassIndex)
            }
            // The float program may not fit the board: then it is measured on the catalog's largest
            // board with the same core (same cycles per instruction), and its flash says so.
            var floatBoard = board
            var fitting = try reporting { try Self.measureFloat(job.model.graph, on: device, split: test, directory: "\(directory)/float") }
            if fitting == nil, let larger = catalog.targets.filter({ $0.core == board.core && $0.hasFPU == board.hasFPU })
                .max(by: { $0.flashBytes < $1.flashBytes }), larger.name != board.name {
                floatBoard = larger
                fitting = try reporting { () throws -> FloatFirmwareMeasurement? in
                    let device = try DeviceCatalog(root: resources.root).device(for: larger)
                    return try Self.measureFloat(job.model.graph, on: device, split: test, directory: "\(directory)/float-\(larger.name)")
                }
            }
            guard let measured = fitting else {
                let boards = floatBoard.name == board.name ? "does not fit the \(board.name)" : "fits neither the \(board.name) nor the \(floatBoard.name)"
                table.add([job.model.graph.name, "does not fit"] + Array(repeating: "-", count: 9))
                notes.append("\(job.model.graph.name): the float program \(boards)")
                continue
            }
            let elsewhere = floatBoard.name == board.name ? "" : " (\(floatBoard.name))"
            if !elsewhere.isEmpty {
                notes.append("\(job.model.graph.name): the float program does not fit the \(board.name) (\(Format.bytes(measured.programFlash)) of flash, \(Format.bytes(measured.measuredRAM)) of RAM); measured on the \(floatBoard.name), same core")
            }
            let onBoard = "\(measured.samples - measured.classDisagreements)/\(measured.samples)"
                + (measured.largestRelativeError <= FloatFirmwareMeasurement.tolerance ? "" : String(format: " (err %.1e)", measured.largestRelativeError))
            guard let fixed = result.pickMeasurement, let fixedAccuracy = result.pickTestAccuracy else {
                table.add([job.model.graph.name, Format.count(Int(measured.meanCycles.rounded())), "no pick", "-",
                           Format.bytes(measured.programFlash) + elsewhere, "-", Format.bytes(measured.measuredRAM), "-",
                           Format.percent(floatAccuracy), "-", onBoard])
                continue
            }
            table.add([job.model.graph.name, Format.count(Int(measured.meanCycles.rounded())) + elsewhere,
                       Format.count(Int(fixed.meanCycles.rounded())), String(format: "%.1fx", measured.meanCycles / max(fixed.meanCycles, 1)),
                       Format.bytes(measured.programFlash) + elsewhere, Format.bytes(fixed.firmware.programFlash),
                       Format.bytes(measured.measuredRAM), Format.bytes(fixed.measuredRAM),
                       Format.percent(floatAccuracy), Format.percent(fixedAccuracy), onBoard])
        }
        print("target \(board.name) (\(board.mcu), \(board.hasFPU ? "FPU" : "no FPU")), \(device.cycleCount.rawValue) cycles; fixed point = the tuner's pick within \(budget) B of RAM, seed \(seed)")
        print("cycles: mean per inference on the simulator (a sequence: all its steps); flash: the firmware without its test samples;")
        print("RAM: static RAM + the deepest stack on the simulator (the soft-float library defeats a static bound); acc: on the whole test split (float: the float model; fixed: the emulator, bit-exact with the board);")
        print("float on board: test samples whose class the board's float program gives as the reference does (outputs within \(FloatFirmwareMeasurement.tolerance) relative)")
        print(table.render())
        for note in notes { print(note) }
    }

    /// The float program measured on `device`, or nil when it does not fit the board.
    static func measureFloat(_ graph: Graph, on device: any Device, split: DatasetSplit,
                             directory: String) throws(DeviceError) -> FloatFirmwareMeasurement? {
        do {
            return try FloatFirmwareMeasurement.run(graph: graph, device: device, split: split, maxSamples: 16, directory: directory)
        } catch {
            if case .doesNotFit = error { return nil }
            throw error
        }
    }
}
