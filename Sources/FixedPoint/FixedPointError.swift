import ModelIR

/// Errors of the fixed-point layer, naming the tensor, config file or preset concerned.
public enum FixedPointError: Error, Equatable, Sendable, CustomStringConvertible {
    case configNotFound(String)
    case malformedConfig(path: String, reason: String)
    case missingFormat(tensor: String)
    case invalidFormat(tensor: String, format: TensorFormat, reason: String)
    case unknownPreset(String, known: [String])
    case unsupported(node: String, reason: String)

    /// One line: tensor names come from config files, which may hold any text.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case let .configNotFound(path):
            return "config not found: \(path) (a config file, or a preset: \(Presets.names.joined(separator: ", ")))"
        case let .malformedConfig(path, reason):
            return "\(path): not a fixed-point config: \(reason)"
        case let .missingFormat(tensor):
            return "the config has no format for tensor '\(tensor)'"
        case let .invalidFormat(tensor, format, reason):
            return "tensor '\(tensor)': format \(format) \(reason)"
        case let .unknownPreset(name, known):
            return "unknown config preset '\(name)'; presets: \(known.joined(separator: ", "))"
        case let .unsupported(node, reason):
            return "node '\(node)': \(reason)"
        }
    }
}
