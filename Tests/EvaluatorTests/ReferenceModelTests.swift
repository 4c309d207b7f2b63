import Foundation
import Testing
import TestSupport
@testable import Evaluator
import ModelIR

/// The float evaluator against the logits each training script stored (PyTorch, float64).
@Suite struct ReferenceModelTests {
    @Test(arguments: Repository.models)
    func reproducesTheTrainingFrameworksLogits(name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let evaluator = try FloatEvaluator(graph: model.graph)
        let training = try #require(model.file?.training)
        for (split, recorded) in [("val", training.float_val_accuracy), ("test", training.float_test_accuracy)] {
            let data = try dataset.load(split: split)
            let outputs = evaluator.run(data)
            let reference = try NumpyArray.read(contentsOf: try #require(model.referenceLogitsPath(split: split)))
            #expect(reference.shape == [outputs.rows, outputs.columns])
            let difference = zip(reference.values, outputs.values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference < 1e-9, "\(name) \(split): max |logit difference| \(difference)")
            let accuracy = Accuracy.of(outputs, labels: data.labels, outputsClassIndex: model.graph.outputsClassIndex)
            #expect(accuracy == recorded, "\(name) \(split)")
        }
    }
}
