import Foundation
@testable import ONNXImport

/// Builds small ONNX models in Swift with the generated message types, as an exporter would.
struct ONNXModelBuilder {
    var opset = 17
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var inputs: [Onnx_ValueInfoProto] = []
    var outputs: [Onnx_ValueInfoProto] = []

    /// A float input whose dim 0 is the symbolic batch `N`; `dims` are the rest.
    mutating func input(_ name: String, _ dims: [Int], batch: Onnx_TensorShapeProto.Dimension.OneOf_Value? = .dimParam("N")) {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var type = Onnx_TypeProto.Tensor()
        type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        var first = Onnx_TensorShapeProto.Dimension()
        first.value = batch
        shape.dim = [first] + dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        type.shape = shape
        info.type.tensorType = type
        inputs.append(info)
    }

    mutating func output(_ name: String) {
        var info = Onnx_ValueInfoProto()
        info.name = name
        outputs.append(info)
    }

    mutating func weight(_ name: String, _ dims: [Int], _ values: [Double]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        // raw_data, as torch writes it
        var data = Data()
        for v in values { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        tensor.rawData = data
        initializers.append(tensor)
    }

    /// An int64 initializer in the typed field (`int64_data`).
    mutating func integers(_ name: String, _ values: [Int64], dims: [Int]? = nil) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = (dims ?? [values.count]).map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values
        initializers.append(tensor)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                       _ attributes: [Onnx_AttributeProto] = []) {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name ?? "/\(op)_\(nodes.count)"
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        nodes.append(node)
    }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func float(_ name: String, _ value: Double) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = Float(value)
        return a
    }

    var model: Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.node = nodes
        graph.initializer = initializers
        graph.input = inputs
        graph.output = outputs
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "ONNXImportTests"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.graph = graph
        return model
    }

    func data() throws -> Data { try model.serializedBytes() }

    func importModel(path: String = "test.onnx") throws -> ImportedONNXModel {
        try ONNXImporter.importModel(try data(), path: path)
    }
}
