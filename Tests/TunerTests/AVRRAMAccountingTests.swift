import Foundation
import Testing
import TestSupport
@testable import Tuner
import Hardware
import Devices
import ModelIR

/// The RAM the tuner budgets for its pick, checked on the simulator: for every reference model on
/// the Uno, the pick's firmware is built with avr-gcc and run on simavr; its static RAM (avr-size)
/// plus the deepest stack seen must be within 5% of what the tuner counted, and within the budget,
/// and every output the AVR prints must equal the emulator's.
@Suite struct AVRRAMAccountingTests {
    static let budget = 2048

    static var models: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: Repository.path("models")))?
            .filter { FileManager.default.fileExists(atPath: Repository.path("models/\($0)/model.json")) }.sorted() ?? []
    }

    @Test(arguments: models)
    func thePicksRAMMatchesTheSimulator(model name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let uno = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let directory = makeTemporaryDirectory()
        let job = TuningJob(model: model, dataset: dataset, target: uno, settings: .init(
            strategy: .genetic, seed: 0, budgets: .init(ramBytes: Self.budget, flashBytes: uno.flashBytes, maxLoss: nil),
            maxEvaluations: 200, verification: .device(try DeviceCatalog(root: Repository.root).device(for: uno), directory: "\(directory)/pick")))
        let result = try job.run()
        guard let program = result.pickProgram, let build = result.pickMeasurement?.build else {
            Issue.record("\(name): no pick within \(Self.budget) B")
            return
        }
        let counted = build.totalRAM
        let test = try dataset.load(split: "test")
        let measured = try FirmwareMeasurement.run(program: program, device: try DeviceCatalog(root: Repository.root).device(for: uno),
                                                   split: test, maxSamples: 4, directory: "\(directory)/measure")
        #expect(measured.isBitExact, "\(name): \(measured.firstMismatch ?? "")")
        #expect(measured.samples >= 1 && measured.values > 0)
        #expect(counted <= Self.budget && measured.measuredRAM <= Self.budget)
        let gap = abs(Double(counted - measured.measuredRAM)) / Double(measured.measuredRAM)
        #expect(gap <= 0.05, "\(name): counted \(counted) B, measured \(measured.measuredRAM) B")
        // The static analysis bounds the stack: it may not undercount what the simulator saw.
        #expect(measured.build.stack.bytes >= measured.run.peakStackBytes)
    }
}
