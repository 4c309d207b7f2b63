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
        let ours = imported.graph.nodes, theirs = native.graph.nodes
        // A MatMul by a constant imports as a Gemm without bias, which the tuner treats as a MatMul.
        let kind = { (op: Op) in op == .matMul ? Op.gemm.name : op.name }
        #expect(ours.map { kind($0.op) } == theirs.map { kind($0.op) })
        #expect(ours.map { kind($0.op) } == ["Gemm", "SquaredDistance", "Scale", "Exp", "Gemm"])
        for (a, b) in zip(ours, theirs) {
            #expect(a.weights.keys.sorted() == b.weights.keys.sorted(), "\(a.name)")
            for (role, constant) in a.weights {
                #expect(imported.graph.constants[constant] == b.weights[role].flatMap { native.graph.constants[$0] }, "\(a.name).\(role)")
            }
            if case let .scale(x) = a.op, case let .scale(y) = b.op {
                // -gamma^2: the exporters compute it in float32, model.json holds the double.
                #expect(abs(x - y) < 1e-6, "\(x) against \(y)")
            }
        }
    }

    @Test func tunesLikeTheNativeModel() throws {
        let (imported, native) = try Self.load(Self.files[0])
        try NativeTuningComparison.expectSameTuning(imported: imported, native: native, seed: 1, maxEvaluations: 60)
    }
}
