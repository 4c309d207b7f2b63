import Foundation
import Testing
import TestSupport
@testable import Evaluator
import FixedPoint
import ModelIR

/// The emulator on every reference model and preset: both paths agree, and 16 bits stay close to float.
@Suite struct FixedEmulatorPresetTests {
    static let cases = Repository.models.flatMap { m in Presets.names.map { (m, $0) } }

    @Test(arguments: cases)
    func pathsAgreeAndAccuracyIsReasonable(model name: String, preset: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let val = try dataset.load(split: "val"), test = try dataset.load(split: "test")
        let profile = try Calibration.profile(model.graph, on: val)
        let lowered = try Lowering.lower(model.graph)
        let config = try Presets.config(preset, graph: lowered, profile: profile)
        let emulator = FixedEmulator(program: try FixedProgram(graph: model.graph, config: config))
        // The scalar path is slow in debug builds: cross-check on the smaller validation split.
        #expect(emulator.run(val, path: .blas) == emulator.run(val, path: .scalar))
        let blas = emulator.run(test, path: .blas)
        let fixed = Accuracy.of(blas, labels: test.labels, outputsClassIndex: model.graph.outputsClassIndex)
        let float = try #require(model.file?.training?.float_test_accuracy)
        if preset == "all16" { #expect(fixed >= float - 0.02, "\(name) all16: \(fixed) vs float \(float)") }
    }
}
