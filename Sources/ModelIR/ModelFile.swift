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
            else if let t = try? container.decode(String.self) { self = .text(t) }
            else {
                throw DecodingError.typeMismatch(AttributeValue.self, .init(codingPath: decoder.codingPath,
                                                                          debugDescription: "not a number, a list of numbers or a string"))
            }
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
            throw .malformedJSON(path: path, reason: Self.describe(error, data: data, decoding: ModelFile.self))
        } catch {
            throw .malformedJSON(path: path, reason: error.localizedDescription)
        }
    }

    /// One sentence for a decoding error of any of the tool's JSON files: the key path, what was
    /// expected and what was found, in words (never Swift's type names or the error's dump).
    /// With the file's `data`, text that is not JSON is located by character, and a number that
    /// does not fit its key is located by decoding `type` again with that number replaced.
    public static func describe<T: Decodable>(_ error: DecodingError, data: Data? = nil, decoding type: T.Type) -> String {
        func where_(_ path: [CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : String(text.drop(while: { $0 == "." }))
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\(key.stringValue)' in \(where_(context.codingPath))"
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            // Foundation says what it found in its debug text: "Expected to decode Int but found a string instead."
            let found = context.debugDescription.range(of: "but found ").map {
                ", found " + article(context.debugDescription[$0.upperBound...].replacingOccurrences(of: " instead.", with: ""))
            } ?? (context.debugDescription.contains("null") ? ", found null" : "")
            return "\(where_(context.codingPath)): expected \(kind(type))\(found)"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return invalidJSON(data, decoding: type) }
            return "\(where_(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "not a valid file"
        }
    }

    /// Why `data` did not decode at all: where its text stops being JSON, or (Foundation's decoder
    /// reports these at the top level too) a number that does not fit the key that holds it.
    private static func invalidJSON<T: Decodable>(_ data: Data?, decoding type: T.Type) -> String {
        guard let data else { return "not valid JSON" }
        do {
            let json = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            if let (path, value) = UnfitNumber.locate(in: json, decoding: type) {
                return "\(path): expected an integer, found \(value)"
            }
            return "a number does not fit its key (a fraction where a whole number is expected, or beyond 64 bits)"
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String)?
                .trimmingCharacters(in: CharacterSet(charactersIn: ". ")) ?? ""
            return "not valid JSON" + (detail.isEmpty ? "" : " (\(detail))")
        }
    }

    /// What Foundation found, as a phrase: it writes "number" and "bool" bare, "a string" with an article.
    private static func article(_ found: String) -> String {
        switch found {
        case "number": return "a number"
        case "bool": return "true or false"
        default: return found
        }
    }

    /// A JSON kind in words, for a Swift type that Codable expected.
    private static func kind(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "String": return "a string"
        case "Int", "Int64", "Int32", "UInt64": return "an integer"
        case "Double", "Float": return "a number"
        case "Bool": return "true or false"
        case "AttributeValue": return "a number, a list of numbers or a string"
        case let name where name.hasPrefix("Dictionary"): return "an object"
        case let name where name.hasPrefix("Array"): return "an array"
        default: return "a value"
        }
    }
}
