/// One ONNX node being translated: its proto, the name messages use, and its attributes.
struct NodeTranslation {
    let proto: Onnx_NodeProto
    /// The exporter's name, or `<op>_<index>` when it wrote none.
    let name: String
    let opset: Int
    let path: String
    let attributes: NodeAttributes

    var op: String { proto.opType }
    /// `Op 'name'`, as messages and the report name a node.
    var described: String { "\(op) '\(name)'" }

    init(node: Onnx_NodeProto, name: String, opset: Int, path: String) {
        self.proto = node
        self.name = name
        self.opset = opset
        self.path = path
        self.attributes = NodeAttributes(node, node: name, path: path)
    }

    func unsupported(_ reason: String) -> ONNXImportError {
        .unsupportedUse(path: path, node: name, op: op, opset: opset, reason: reason)
    }
}
