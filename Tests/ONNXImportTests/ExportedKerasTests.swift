import Testing
import ModelIR
import ONNXImport
import TestSupport

/// The MLP and LeNet built in Keras with the bundled weights and converted by tf2onnx
/// (experiments/onnx/export_keras.py): MatMul + Add, and around the CNN the NHWC Reshape,
/// Transpose and shape chain, import as the native graphs with equal weights. (Their logits against
/// ONNX Runtime's: ExportedModelTests.)
@Suite struct ExportedKerasTests {
    @Test(arguments: ["mlp-digits", "lenet-digits"])
    func importsAsTheNativeGraph(model: String) throws {
        let imported = try ONNXImporter.importModel(at: Repository.path("models/onnx/\(model)-keras.onnx"))
        let native = try ModelLoader.load(Repository.path("models/\(model)"))
        #expect(imported.graph.input.shape == native.graph.input.shape)
        NativeModelComparison.expectSameGraph(imported: imported, native: native)
    }
}
