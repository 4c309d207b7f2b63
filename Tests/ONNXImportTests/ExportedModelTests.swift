import Foundation
import Testing
import Evaluator
import ModelIR
import ONNXImport
import TestSupport

/// The ONNX files PyTorch wrote for every bundled model (experiments/onnx/export.py, TorchScript and
/// dynamo exporters) and tf2onnx for the MLP and LeNet built in Keras (experiments/onnx/export_keras.py), imported and run by our float evaluator on the test split, against the
/// logits ONNX Runtime gave on the same split (models/onnx/*.ort-logits.npy). For the GRU, LSTM and
/// FastGRNN, ONNX Runtime ran each sample on its own steps, our evaluator on the padded split with
/// its lengths (the FastGRNN files hold the loop unrolled over the longest sample's steps; we fold it
/// back into one loop: UnrolledLoopTests).
@Suite struct ExportedModelTests {
    /// ONNX Runtime computes in float32, we in double: their logits differ in the last float bits.
    static let tolerance = 1e-4

    struct Export {
        var file: String
        var dataset: String
        var ortLogits: String
    }

    /// Every committed `.onnx` file and what models/onnx/exports.json says it was exported from.
    static func exports() throws -> [Export] {
        let directory = Repository.path("models/onnx")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/exports.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(manifest["files"] as? [String: [String: Any]])
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".onnx") }.sorted()
        #expect(onDisk == files.keys.sorted(), "every committed ONNX file is described in exports.json, and only those")
        return try onDisk.map { file in
            let entry = try #require(files[file])
            return Export(file: "\(directory)/\(file)", dataset: Repository.path(try #require(entry["dataset"] as? String)),
                          ortLogits: "\(directory)/\(try #require(entry["ort_logits"] as? String))")
        }
    }

    @Test func bundledModelsExportedByPyTorchAndKerasMatchONNXRuntime() throws {
        let exports = try Self.exports()
        // mlp, lenet, dscnn and protonn digits, gru-italypowerdemand, lstm-japanesevowels and the two FastGRNN, each from
        // both PyTorch exporters; mlp and lenet digits from Keras.
        #expect(exports.count >= 18)
        #expect(exports.contains { $0.file.hasSuffix("/mlp-digits-keras.onnx") } && exports.contains { $0.file.hasSuffix("/lenet-digits-keras.onnx") })
        for export in exports {
            let imported = try ONNXImporter.importModel(at: export.file)
            let dataset = try Dataset.open(export.dataset)
            try dataset.check(against: imported.graph)
            let test = try dataset.load(split: "test")
            let ours = try FloatEvaluator(graph: imported.graph).run(test)
            let ort = try NumpyArray.read(contentsOf: export.ortLogits)
            try #require(ort.shape == [ours.rows, ours.columns], "\(export.file): ORT logits \(ort.shape), ours [\(ours.rows), \(ours.columns)]")
            let difference = zip(ort.values, ours.values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference < Self.tolerance, "\(export.file): max |logit difference| \(difference)")
            let ortClasses = (0..<ort.shape[0]).map { row in
                let logits = ort.values[(row * ort.shape[1])..<((row + 1) * ort.shape[1])]
                // Ties go to the lowest index, as ArgMax and our Accuracy do.
                return (logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0) - row * ort.shape[1]
            }
            let ourAccuracy = Accuracy.of(ours, labels: test.labels, outputsClassIndex: false)
            #expect(ourAccuracy == Accuracy.of(classes: ortClasses, labels: test.labels), "\(export.file)")
        }
    }
}
