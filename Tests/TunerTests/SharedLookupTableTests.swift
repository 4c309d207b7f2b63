import Foundation
import Testing
import TestSupport
import Devices
import Emit
import Evaluator
import FixedPoint
import Hardware
import ModelIR
import Tuner

/// Nodes whose 256-entry tables (`DirectLookup`) are the same function of the same formats read
/// one table: an LSTM whose input and forget gates agree. gcc merged such tables on the
/// Cortex-M4 and not on AVR, so the flash estimate, which counted each, missed by 256 B on one
/// board; now the emitter writes each distinct table once, the estimate counts it once, and the
/// program stays bit-exact on the Uno.
@Suite struct SharedLookupTableTests {
    @Test func gatesOfTheSameFunctionAndFormatsReadOneTableOnTheUno() throws {
        let model = try ModelLoader.load(Repository.path("models/lstm-japanesevowels"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let validation = try dataset.load(split: "val").prefix(8)
        let lowered = try Lowering.lower(model.graph)
        let space = SearchSpace(graph: lowered, profile: try Calibration.profile(model.graph, on: validation))
        // all8, then each variable's scale moved in turn, until two tables coincide.
        var candidates = [space.uniform(bits: 8)]
        for i in space.variables.indices {
            for offset in space.offsets where offset != 0 {
                var moved = space.uniform(bits: 8)
                moved.genes[i].offset = offset
                candidates.append(moved)
            }
        }
        func lookups(_ p: FixedProgram) -> [FixedStep] { p.allSteps.filter(DirectLookup.applies) }
        let program = try #require(candidates.lazy.compactMap { try? FixedProgram(graph: lowered, config: space.config(for: $0)) }
            .first { p in Set(lookups(p).map(DirectLookup.key)).count < lookups(p).count })
        let distinct = Set(lookups(program).map(DirectLookup.key)).count
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        #expect(emitted.source.components(separatedBy: "_lut[256] MCU_FLASH = {").count - 1 == distinct)
        #expect(emitted.source.contains("(shares mcu_node_"))
        #expect(CostModel.constantBytes(program) == emitted.constantBytes)

        let uno = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let device = try DeviceCatalog(root: Repository.root).device(for: uno)
        let measured = try FirmwareMeasurement.run(program: program, device: device, split: try dataset.load(split: "test"), maxSamples: 16,
                                                   directory: makeTemporaryDirectory("shared-lut"))
        #expect(measured.samples == 16)
        #expect(measured.isBitExact, "\(measured.firstMismatch ?? "")")
    }
}
