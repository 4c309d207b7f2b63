import ModelIR

/// Everything that can be wrong with an ONNX file we are asked to import.
///
/// Each message starts with the file; a problem with one node names the node as the exporter wrote
/// it, its op type and the model's opset, so a user can find it in Netron or in the export script.
public enum ONNXImportError: Error, Equatable, Sendable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    /// Not a protobuf ModelProto (truncated, corrupted, another format), or one with no graph.
    case malformed(path: String, reason: String)
    case unsupportedOpset(path: String, domain: String, version: Int, supported: ClosedRange<Int>)
    case unsupportedOp(path: String, node: String, op: String, opset: Int, supported: [String])
    /// An op we import, used in a way we do not (an attribute value, an operand that is not constant, ...).
    case unsupportedUse(path: String, node: String, op: String, opset: Int, reason: String)
    case invalidAttribute(path: String, node: String, op: String, attribute: String, reason: String)
    case undefinedTensor(path: String, node: String, op: String, tensor: String)
    /// The graph's inputs other than initializers, or its outputs, are not exactly one.
    case inputCount(path: String, found: [String])
    case outputCount(path: String, found: [String])
    case unsupportedInput(path: String, input: String, reason: String)
    case unsupportedTensor(path: String, tensor: String, reason: String)
    case externalDataMissing(path: String, tensor: String, file: String)
    case externalData(path: String, tensor: String, file: String, reason: String)
    /// A step of a loop the exporter unrolled is not a copy of the others, so it cannot be one recurrent cell.
    case inconsistentUnrolledLoop(path: String, node: String, op: String, step: Int, reason: String)
    /// The imported graph failed the IR's own checks (a bug in the importer if it happens).
    case rejectedGraph(path: String, error: ModelError)

    /// One line: names read from the file may hold newlines or other control characters.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case let .fileNotFound(path):
            return "ONNX model not found: \(path)"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformed(path, reason):
            return "\(path): not a valid ONNX model: \(reason)"
        case let .unsupportedOpset(path, domain, version, supported):
            return "\(path): opset \(version) of domain '\(domain)' is not supported; supported: ai.onnx opsets "
                + "\(supported.lowerBound) to \(supported.upperBound)"
        case let .unsupportedOp(path, node, op, opset, supported):
            return "\(path): node '\(node)' (\(op), opset \(opset)): unsupported op; supported: \(supported.joined(separator: ", "))"
        case let .unsupportedUse(path, node, op, opset, reason):
            return "\(path): node '\(node)' (\(op), opset \(opset)): \(reason)"
        case let .invalidAttribute(path, node, op, attribute, reason):
            return "\(path): node '\(node)' (\(op)): attribute '\(attribute)' \(reason)"
        case let .undefinedTensor(path, node, op, tensor):
            return "\(path): node '\(node)' (\(op)): input '\(tensor)' is not the graph input, an initializer or an earlier node's output"
        case let .inputCount(path, found):
            return "\(path): the graph has \(found.count) inputs besides its initializers (\(Self.list(found))); "
                + "a model takes exactly one"
        case let .outputCount(path, found):
            return "\(path): the graph has \(found.count) outputs (\(Self.list(found))); a model returns exactly one"
        case let .unsupportedInput(path, input, reason):
            return "\(path): input '\(input)': \(reason)"
        case let .unsupportedTensor(path, tensor, reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case let .externalDataMissing(path, tensor, file):
            return "\(path): tensor '\(tensor)' keeps its data in '\(file)', which was not found beside the model"
        case let .externalData(path, tensor, file, reason):
            return "\(path): tensor '\(tensor)', external data '\(file)': \(reason)"
        case let .inconsistentUnrolledLoop(path, node, op, step, reason):
            return "\(path): node '\(node)' (\(op)) at step \(step) of a loop unrolled over the steps: \(reason); "
                + "the steps must be copies of one recurrent cell to be folded into one"
        case let .rejectedGraph(path, error):
            return "\(path): the imported graph is not valid: \(error.description)"
        }
    }

    private static func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.map { "'\($0)'" }.joined(separator: ", ")
    }
}
