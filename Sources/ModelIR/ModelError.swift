/// Everything that can be wrong with a model or dataset a user hands us.
/// Each case names the file, node or tensor concerned and, where it helps, what is allowed.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    case fileNotFound(path: String, what: String)
    case unreadable(path: String, reason: String)
    case malformedJSON(path: String, reason: String)
    case malformedNumpy(path: String, reason: String)
    case unsupportedFormat(path: String, found: String, expected: String)
    case unknownOp(node: String, op: String, allowed: [String])
    case invalidName(String, context: String)
    case duplicateTensor(name: String, node: String)
    case undefinedTensor(name: String, node: String)
    case undefinedConstant(name: String, node: String, role: String)
    case missingWeight(node: String, op: String, role: String)
    case unexpectedWeight(node: String, op: String, role: String, allowed: [String])
    case wrongInputCount(node: String, op: String, found: Int, expected: String)
    case wrongOutputCount(node: String, op: String, outputs: [String])
    case wrongShape(tensor: String, node: String, found: Shape, expected: String)
    /// A tensor with more than `Shape.maxElements` elements per sample (`node` nil for the input).
    case tooLarge(tensor: String, node: String?, shape: Shape, path: String?)
    case invalidAttribute(node: String, attribute: String, reason: String)
    case sequenceMisuse(node: String, reason: String)
    case undefinedOutput(name: String)
    case datasetMismatch(path: String, reason: String)
    /// Two nodes share a name: the emitter names a function after each.
    case duplicateNode(name: String, path: String)
    /// A name the lowering of a recurrent cell gives one of its intermediates is already taken:
    /// `usedBy` is "node", "tensor" or "constant", or "cell 'C'" when another cell's lowering made it.
    case loweringNameTaken(name: String, cell: String, op: String, usedBy: String)

    /// One line: names read from files may hold newlines or other control characters.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case let .fileNotFound(path, what):
            return "\(what) not found: \(path)"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedJSON(path, reason):
            return "\(path): \(reason)"
        case let .malformedNumpy(path, reason):
            return "\(path): not a valid .npy file: \(reason)"
        case let .unsupportedFormat(path, found, expected):
            return "\(path): unsupported \(found); expected \(expected)"
        case let .unknownOp(node, op, allowed):
            return "node '\(node)': unknown op '\(op)'; known ops: \(allowed.joined(separator: ", "))"
        case let .invalidName(name, context):
            return "\(context): invalid name '\(name)'; names match [A-Za-z_][A-Za-z0-9_.]*"
        case let .duplicateTensor(name, node):
            return "node '\(node)': tensor '\(name)' is already defined"
        case let .undefinedTensor(name, node):
            return "node '\(node)': input '\(name)' is not the graph input or the output of an earlier node"
        case let .undefinedConstant(name, node, role):
            return "node '\(node)': weight \(role) refers to '\(name)', which is not in \"constants\""
        case let .missingWeight(node, op, role):
            return "node '\(node)' (\(op)): missing weight '\(role)'"
        case let .unexpectedWeight(node, op, role, allowed):
            return "node '\(node)' (\(op)): unknown weight role '\(role)'; allowed: \(allowed.joined(separator: ", "))"
        case let .wrongInputCount(node, op, found, expected):
            return "node '\(node)' (\(op)): \(found) inputs, expected \(expected)"
        case let .wrongOutputCount(node, op, outputs):
            let names = outputs.isEmpty ? "none" : outputs.map { "'\($0)'" }.joined(separator: ", ")
            return "node '\(node)' (\(op)): \(outputs.count) outputs (\(names)); every node writes exactly 1"
        case let .wrongShape(tensor, node, found, expected):
            return "node '\(node)': tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .tooLarge(tensor, node, shape, path):
            return (path.map { "\($0): " } ?? "") + (node.map { "node '\($0)': " } ?? "") + "tensor '\(tensor)' would have shape \(shape), "
                + "more than \(Shape.maxElements) (2^20) elements per sample, the most one tensor may have"
        case let .invalidAttribute(node, attribute, reason):
            return "node '\(node)': attribute '\(attribute)' \(reason)"
        case let .sequenceMisuse(node, reason):
            return "node '\(node)': \(reason)"
        case let .undefinedOutput(name):
            return "output '\(name)' is not produced by any node"
        case let .datasetMismatch(path, reason):
            return "\(path): \(reason)"
        case let .duplicateNode(name, path):
            return "\(path): two nodes are named '\(name)'; every node needs a name of its own"
        case let .loweringNameTaken(name, cell, op, usedBy) where usedBy.hasPrefix("cell "):
            return "node '\(cell)' (\(op)): lowering it creates '\(name)', which lowering \(usedBy) creates too; rename one of the two cells"
        case let .loweringNameTaken(name, cell, op, usedBy):
            return "node '\(cell)' (\(op)): lowering it creates '\(name)', which the model already names a \(usedBy); rename that \(usedBy) "
                + "(names '\(cell).<part>' other than its weights are the cell's intermediates)"
        }
    }
}

extension String {
    /// The text with every control character written as an escape (`\n`, `\u{7}`), so that a
    /// message quoting a name from a file stays one line.
    public var escapingControlCharacters: String {
        func breaks(_ scalar: Unicode.Scalar) -> Bool {
            [.control, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory)
        }
        guard unicodeScalars.contains(where: breaks) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where breaks(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
