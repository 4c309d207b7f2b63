/// Typed access to an ONNX node's attributes, with errors that name the node, op and attribute.
struct NodeAttributes {
    let path: String
    let node: String
    let op: String
    private let attributes: [String: Onnx_AttributeProto]

    init(_ proto: Onnx_NodeProto, node: String, path: String) {
        self.path = path
        self.node = node
        self.op = proto.opType
        var attributes: [String: Onnx_AttributeProto] = [:]
        for attribute in proto.attribute { attributes[attribute.name] = attribute }
        self.attributes = attributes
    }

    func has(_ name: String) -> Bool { attributes[name] != nil }

    func int(_ name: String) throws(ONNXImportError) -> Int? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .int || (!attribute.hasType && attribute.hasI) else { throw wrongType(name, "an integer") }
        guard let value = Int(exactly: attribute.i) else { throw wrongType(name, "an integer") }
        return value
    }

    func int(_ name: String, default value: Int) throws(ONNXImportError) -> Int { try int(name) ?? value }

    func ints(_ name: String) throws(ONNXImportError) -> [Int]? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .ints || !attribute.hasType else { throw wrongType(name, "a list of integers") }
        return attribute.ints.map { Int(clamping: $0) }
    }

    func float(_ name: String) throws(ONNXImportError) -> Double? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .float || (!attribute.hasType && attribute.hasF) else { throw wrongType(name, "a number") }
        return Double(attribute.f)
    }

    func floats(_ name: String) throws(ONNXImportError) -> [Double]? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .floats || !attribute.hasType else { throw wrongType(name, "a list of numbers") }
        return attribute.floats.map(Double.init)
    }

    func string(_ name: String) throws(ONNXImportError) -> String? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .string || (!attribute.hasType && attribute.hasS) else { throw wrongType(name, "a string") }
        return String(decoding: attribute.s, as: UTF8.self)
    }

    func strings(_ name: String) throws(ONNXImportError) -> [String]? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .strings || !attribute.hasType else { throw wrongType(name, "a list of strings") }
        return attribute.strings.map { String(decoding: $0, as: UTF8.self) }
    }

    func tensor(_ name: String) throws(ONNXImportError) -> Onnx_TensorProto? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == .tensor || (!attribute.hasType && attribute.hasT) else { throw wrongType(name, "a tensor") }
        return attribute.t
    }

    func invalid(_ name: String, _ reason: String) -> ONNXImportError {
        .invalidAttribute(path: path, node: node, op: op, attribute: name, reason: reason)
    }

    private func wrongType(_ name: String, _ expected: String) -> ONNXImportError {
        invalid(name, "must be \(expected)")
    }
}
