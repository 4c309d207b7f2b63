import Testing
import ModelIR
import ONNXImport
import TestSupport

/// models/protonn-digits as PyTorch users export it (experiments/onnx/export.py: the trained
/// `models.ProtoNN`, both exporters): imported as the native graph, projection, one
/// SquaredDistance, Scale(-gamma^2), Exp, label matrix, with the same weights, and tuned to the
/// same programs. (Its logits against ONNX Runtime's: ExportedModelTests.)
@Suite struct ExportedProtoNNTests {
    static let files = ["protonn-digits.onnx", "protonn-digits-dynamo.onnx"]

    static func load(_ file: String) throws -> (imported: ImportedONNXModel, native: LoadedModel) {
        (try ONNXImporter.importModel(at: Repository.path("models/onnx/\(file)")), try ModelLoader.load(Repository.path("models/protonn-digits")))
    }

    @Test(arguments: files)
    func importsAsTheNativeGraph(file: String) throws {
        let (imported, native) = try Self.load(file)
        #expect(imported.graph.nodes.map(\.op.name) == ["Gemm", "SquaredDistance", "Scale", "Exp", "Gemm"])
        // -gamma^2: the exporters compute it in float32, model.json holds the double.
        NativeModelComparison.expectSameGraph(imported: imported, native: native, scaleTolerance: 1e-6)
    }

    @Test func tunesLikeTheNativeModel() throws {
        let (imported, native) = try Self.load(Self.files[0])
        try NativeModelComparison.expectSameTuning(imported: imported, native: native, seed: 1, maxEvaluations: 60)
    }
}
