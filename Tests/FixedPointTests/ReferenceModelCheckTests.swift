import Devices
import Foundation
import Testing
import TestSupport
import Evaluator
import FixedPoint
import ModelIR
import Tuner

/// Every reference model under every preset: the compiled C equals the emulator on the whole test split.
@Suite struct ReferenceModelCheckTests {
    static let cases = Repository.models.flatMap { m in Presets.names.map { (m, $0) } }

    @Test(arguments: cases)
    func emittedCIsBitExactOnTheTestSplit(model name: String, preset: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let config = try ConfigSource.resolve(preset, model: model, dataset: dataset)
        let program = try FixedProgram(graph: model.graph, config: config)
        let report = try BitExactCheck.run(program: program, split: try dataset.load(split: "test"),
                                           directory: makeTemporaryDirectory("check-\(name)-\(preset)"))
        #expect(report.isBitExact, "\(name) \(preset): \(report.firstMismatch ?? "")")
        #expect(report.exactSamples == report.samples)
        #expect(report.emulatorAccuracy == report.cAccuracy)
    }
}
