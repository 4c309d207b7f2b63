import Devices
import Evaluator
import FixedPoint
import Foundation
import ModelIR
import Testing
import TestSupport
@testable import Tuner

/// The pick never takes more RAM than the same program with plain C kernels where a point that
/// does not is there to take: a config whose specialised build grows (found among random configs
/// of the GRU on the Cortex-M4, where a few fused loops take deeper frames than any plain node) is
/// passed over for the next, and taken, its plain C RAM beside its own, when every point grows.
@Suite struct PickVerificationTests {
    @Test func aPointWhoseSpecialisedKernelsTakeMoreRAMIsPassedOver() throws {
        let model = try ModelLoader.load(Repository.path("models/gru-italypowerdemand"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let lowered = try Lowering.lower(model.graph)
        let space = SearchSpace(graph: lowered, profile: try Calibration.profile(model.graph, on: try dataset.load(split: "val").prefix(8)))
        let device = try SpecialisedKernelTests.device("nano33ble")
        let test = try dataset.load(split: "test").prefix(4)
        func ram(_ program: FixedProgram, specialised: Bool) throws -> Int {
            try ProgramFirmware.build(program: program, device: device, split: test, maxSamples: test.count,
                                      directory: makeTemporaryDirectory("ram-gru"), specialised: specialised).build.totalRAM
        }
        var generator = SeededGenerator(seed: 13)
        var grown: [FixedProgram] = []
        for _ in 0..<40 where grown.count < 2 {
            guard let program = try? FixedProgram(graph: lowered, config: space.config(for: space.random(using: &generator))) else { continue }
            if try ram(program, specialised: true) > ram(program, specialised: false) { grown.append(program) }
        }
        try #require(grown.count == 2, "fewer than two random configs of the GRU grow on the Nano 33 BLE: the test needs another source of them")
        let growing = grown[0]
        let steady = try FixedProgram(graph: lowered, config: space.config(for: space.uniform(bits: 8)))
        #expect(try ram(steady, specialised: true) <= ram(steady, specialised: false))
        let programs = [growing, steady]
        let verification = PickVerification(device: device, directory: makeTemporaryDirectory("pick-gru"), ramBudget: 262_144,
                                            flashBudget: 1_048_576, profile: nil)
        var rejected: [PickRejection] = []
        let found = try #require(try verification.pick(from: [0, 1], program: { programs[$0] }, samples: test, rejected: &rejected))
        #expect(found.index == 1)
        #expect(rejected.count == 1 && rejected.first?.index == 0 && rejected.first?.reason.contains("more than the same program with plain C kernels") == true,
                "\(rejected)")
        #expect(found.measurement.analysedRAM <= found.plainRAM ?? 0)
        // Only points that grow: the first taken after all, its plain C RAM reported, and measured as
        // itself (built again: the second was built after it into the same directory).
        var both: [PickRejection] = []
        let first = try #require(try verification.pick(from: [0, 1], program: { grown[$0] }, samples: test, rejected: &both))
        #expect(first.index == 0 && both.map(\.index) == [1])
        #expect(first.measurement.analysedRAM > first.plainRAM ?? .max)
        #expect(first.measurement.isBitExact, "\(first.measurement.firstMismatch ?? "")")
    }
}
