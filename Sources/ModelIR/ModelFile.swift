import Foundation

/// The JSON schema of `model.json` (docs/model-format.md), decoded as written, before any checking.
public struct ModelFile: Codable, Sendable {
    public struct InputSpec: Codable, Sendable {
        public var name: String
        public var shape: [Int]
        public var sequence: Bool?
    }

    public struct NodeSpec: Codable, Sendable {
        public var name: String
        public var op: String
        public var inputs: [String]
        public var outputs: [String]
        public var weights: [String: String]?
        public var attributes: [String: AttributeValue]?
    }

    public enum AttributeValue: Codable, Sendable, Equatable {
        case number(Double)
        case numbers([Double])
        case text(String)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Double.self) { self = .number(n) }
            else if let a = try? container.decode([Double].self) { self = .numbers(a) }
            else { self = .text(try container.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .number(n): try container.encode(n)
            case let .numbers(a): try container.encode(a)
            case let .text(s): try container.encode(s)
            }
        }
    }

    public struct Training: Codable, Sendable {
        public var script: String?
        public var framework: String?
        public var float_val_accuracy: Double?
        public var float_test_accuracy: Double?
        public var reference_logits: [String: String]?
        public var train_seconds: Double?
    }

    public var format: String
    public var version: Int
    public var name: String
    public var description: String?
    public var input: InputSpec
    public var output: String
    public var dataset: String?
    public var constants: [String: String]
    public var nodes: [NodeSpec]
    public var training: Training?

    /// Decodes `data`, turning Codable's errors into one sentence naming the key path.
    public static func decode(_ data: Data, path: String) throws(ModelError) -> ModelFile {
        do {
            return try JSONDecoder().decode(ModelFile.self, from: data)
        } catch let error as DecodingError {
            throw .malformedJSON(path: path, reason: Self.describe(error))
        } catch {
            throw .malformedJSON(path: path, reason: error.localizedDescription)
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func where_(_ path: [CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : String(text.drop(while: { $0 == "." }))
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\(key.stringValue)' in \(where_(context.codingPath))"
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "\(where_(context.codingPath)): expected \(type)"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
                return "not valid JSON (\(detail))"
            }
            return "\(where_(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
