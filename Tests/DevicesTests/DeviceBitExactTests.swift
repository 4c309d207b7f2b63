import Foundation
import Testing
import TestSupport
import Devices
import FixedPoint
import Hardware
import ModelIR
import Tuner

/// The core contract on every kind of board: for every reference model under `all16`, `all8` and the
/// tuner's pick, the firmware built by the board's toolchain and run on its simulator prints exactly
/// the emulator's integers on 16 test inputs: the Uno (avr-gcc, simavr), the Nano 33 IoT
/// (Cortex-M0+) and the Nano 33 BLE (Cortex-M4), both on qemu. The pick's RAM, as the tuner counts it
/// (static RAM plus the analysed worst-case stack), is within the budget (2 KB on the Uno, the board's
/// RAM elsewhere) and within 5% of what the simulator measures, and never below the stack it saw.
@Suite struct DeviceBitExactTests {
    static let boards = ["uno", "nano33iot", "nano33ble"]
    static let samples = 16

    static var cases: [(String, String)] { Repository.models.flatMap { model in boards.map { (model, $0) } } }

    func load(_ name: String, board: String) throws -> (LoadedModel, Dataset, any Device, DatasetSplit) {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: board)
        return (model, dataset, try DeviceCatalog(root: Repository.root).device(for: target), try dataset.load(split: "test"))
    }

    /// The RAM a preset needs can exceed the Uno's 2 KB (DSCNN at all16); then the same program is
    /// checked on the Mega 2560, whose ATmega2560 has the Uno's AVR core and 8 KB of RAM.
    func deviceFitting(_ device: any Device) throws -> any Device {
        guard device.target.name == "uno" else { return device }
        let mega = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "mega2560")
        return try DeviceCatalog(root: Repository.root).device(for: mega)
    }

    @Test(arguments: cases)
    func presetsAreBitExactOnTheBoard(model name: String, board: String) throws {
        let (model, dataset, device, test) = try load(name, board: board)
        for preset in ["all16", "all8"] {
            let config = try ConfigSource.resolve(preset, model: model, dataset: dataset)
            let program = try FixedProgram(graph: model.graph, config: config)
            let directory = makeTemporaryDirectory("\(name)-\(board)-\(preset)")
            let measured: FirmwareMeasurement
            do {
                measured = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: Self.samples,
                                                       directory: directory)
            } catch DeviceError.doesNotFit {
                measured = try FirmwareMeasurement.run(program: program, device: try deviceFitting(device), split: test,
                                                       maxSamples: Self.samples, directory: directory)
            }
            #expect(measured.samples == Self.samples, "\(name) \(preset) on \(board)")
            #expect(measured.isBitExact, "\(name) \(preset) on \(board): \(measured.firstMismatch ?? "")")
        }
    }

    @Test(arguments: cases)
    func thePickIsBitExactAndItsRAMIsCounted(model name: String, board: String) throws {
        let (model, dataset, device, test) = try load(name, board: board)
        // The Uno's 2 KB; a Cortex-M board's own RAM.
        let budget = min(device.target.ramBytes, device.target.core == .avr ? 2048 : device.target.ramBytes)
        let directory = makeTemporaryDirectory("\(name)-\(board)-pick")
        let job = TuningJob(model: model, dataset: dataset, target: device.target, settings: .init(
            strategy: .genetic, seed: 0, budgets: .init(ramBytes: budget, flashBytes: device.target.flashBytes, maxLoss: nil),
            maxEvaluations: 200, verification: .device(device, directory: "\(directory)/pick")))
        let result = try job.run()
        guard let program = result.pickProgram, let pick = result.pickMeasurement else {
            Issue.record("\(name) on \(board): no pick within \(budget) B")
            return
        }
        #expect(pick.isBitExact, "\(name) on \(board): \(pick.firstMismatch ?? "")")
        let measured = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: Self.samples,
                                                   directory: "\(directory)/measure")
        #expect(measured.samples == Self.samples)
        #expect(measured.isBitExact, "\(name) on \(board): \(measured.firstMismatch ?? "")")
        let counted = pick.analysedRAM
        #expect(counted <= budget && measured.measuredRAM <= budget)
        let gap = abs(Double(measured.analysedRAM - measured.measuredRAM)) / Double(measured.measuredRAM)
        #expect(gap <= 0.05, "\(name) on \(board): counted \(measured.analysedRAM) B, measured \(measured.measuredRAM) B")
        // The static analysis bounds the stack: it may not undercount what the simulator saw.
        #expect(measured.build.stack.bytes >= measured.run.peakStackBytes)
    }
}
