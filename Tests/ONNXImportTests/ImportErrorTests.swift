import Foundation
import Testing
@testable import ONNXImport

/// What a user sees for a model we cannot import: one line naming the file, the node, the op and
/// what is supported.
@Suite struct ImportErrorTests {
    /// A valid one-layer model: x [4] -> Gemm -> y [3].
    static func dense() -> ONNXModelBuilder {
        var builder = ONNXModelBuilder()
        builder.input("x", [4])
        builder.weight("fc.weight", [3, 4], (0..<12).map { Double($0) / 12 })
        builder.node("Gemm", ["x", "fc.weight"], ["h"], name: "/fc/Gemm", [ONNXModelBuilder.int("transB", 1)])
        builder.output("h")
        return builder
    }

    static func message(_ builder: ONNXModelBuilder) throws -> String {
        do {
            _ = try builder.importModel(path: "model.onnx")
        } catch let error as ONNXImportError {
            return error.description
        }
        return "imported"
    }

    @Test func unsupportedOpNamesTypeNodeOpsetAndSupportedSet() throws {
        var builder = Self.dense()
        builder.node("LeakyRelu", ["h"], ["y"], name: "/act/LeakyRelu")
        builder.outputs = []
        builder.output("y")
        let message = try Self.message(builder)
        #expect(message.hasPrefix("model.onnx: node '/act/LeakyRelu' (LeakyRelu, opset 17): unsupported op; supported: Add, ArgMax, "))
        #expect(message.contains("Gemm") && message.contains("Conv") && !message.contains("\n"))
    }

    @Test func twoInputs() throws {
        var builder = Self.dense()
        builder.input("mask", [4])
        #expect(try Self.message(builder)
            == "model.onnx: the graph has 2 inputs besides its initializers ('x', 'mask'); a model takes exactly one")
    }

    @Test func twoOutputs() throws {
        var builder = Self.dense()
        builder.output("x")
        #expect(try Self.message(builder) == "model.onnx: the graph has 2 outputs ('h', 'x'); a model returns exactly one")
    }

    @Test func dynamicNonBatchDimension() throws {
        var builder = Self.dense()
        builder.inputs = []
        builder.input("x", [4])
        builder.inputs[0].type.tensorType.shape.dim[1].dimParam = "features"
        #expect(try Self.message(builder) == "model.onnx: input 'x': dimension 1 is dynamic ('features'); only the batch "
            + "dimension (0) may be; export with a fixed size there")
    }

    @Test func fixedOrAbsentBatchDimensionIsFine() throws {
        for batch: Onnx_TensorShapeProto.Dimension.OneOf_Value? in [.dimValue(1), .dimValue(0), nil] {
            var builder = Self.dense()
            builder.inputs = []
            builder.input("x", [4], batch: batch)
            #expect(try Self.message(builder) == "imported")
        }
    }

    @Test func doubleWeights() throws {
        var builder = Self.dense()
        builder.initializers[0].dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        builder.initializers[0].rawData = Data(count: 12 * 8)
        #expect(try Self.message(builder) == "model.onnx: node '/fc/Gemm' (Gemm, opset 17): its B has element type other(\"double\"); "
            + "weights must be float (float32)")
    }

    @Test func unsupportedOpset() throws {
        var builder = Self.dense()
        builder.opset = 5
        #expect(try Self.message(builder) == "model.onnx: opset 5 of domain 'ai.onnx' is not supported; supported: ai.onnx opsets 7 to 26")
    }

    @Test func groupedConvolution() throws {
        var builder = ONNXModelBuilder()
        builder.input("x", [4, 5, 5])
        builder.weight("w", [4, 2, 3, 3], Array(repeating: 0.5, count: 72))
        builder.node("Conv", ["x", "w"], ["y"], name: "conv", [ONNXModelBuilder.int("group", 2)])
        builder.output("y")
        #expect(try Self.message(builder).hasPrefix("model.onnx: node 'conv' (Conv, opset 17): group 2 with weight [4, 2, 3, 3] on 4 channels "
            + "is not supported; supported: group 1, and depthwise"))
    }

    @Test func clipThatIsNotAReLU() throws {
        var builder = Self.dense()
        builder.weight("lo", [], [-1])
        builder.weight("hi", [], [1])
        builder.node("Clip", ["h", "lo", "hi"], ["y"], name: "clip")
        builder.outputs = []
        builder.output("y")
        #expect(try Self.message(builder) == "model.onnx: node 'clip' (Clip, opset 17): clips to [-1.0, 1.0]; supported: [0, 6] (ReLU6) and [0, none] (ReLU)")
    }

    @Test func softmaxInsideTheModel() throws {
        var builder = Self.dense()
        builder.node("Softmax", ["h"], ["s"], name: "sm", [ONNXModelBuilder.int("axis", 1)])
        builder.node("Relu", ["s"], ["y"], name: "relu")
        builder.outputs = []
        builder.output("y")
        #expect(try Self.message(builder).contains("(Softmax, opset 17): is supported only at the end of the model"))
    }

    @Test func notAnONNXFile() throws {
        let message: String
        do {
            _ = try ONNXImporter.importModel(Data("{\"format\": \"mcutune-model\"}".utf8), path: "model.json")
            message = "imported"
        } catch {
            message = error.description
        }
        #expect(message.hasPrefix("model.json: not a valid ONNX model: "))
    }

    @Test func missingFile() {
        #expect(throws: ONNXImportError.fileNotFound(path: "/nonexistent/model.onnx")) {
            try ONNXImporter.importModel(at: "/nonexistent/model.onnx")
        }
    }

    @Test func externalDataOutsideTheModelDirectory() throws {
        var builder = Self.dense()
        builder.initializers[0].rawData = Data()
        builder.initializers[0].dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "../secret.bin"
        builder.initializers[0].externalData = [entry]
        #expect(try Self.message(builder) == "model.onnx: tensor 'fc.weight', external data '../secret.bin': the location must be a path "
            + "inside the model's directory")
    }

    @Test func namesWithNewlinesStayOnOneLine() throws {
        var builder = Self.dense()
        builder.node("Foo", ["h"], ["y"], name: "evil\nnode")
        builder.outputs = []
        builder.output("y")
        let message = try Self.message(builder)
        #expect(!message.contains("\n") && message.contains("evil\\nnode"))
    }
}
