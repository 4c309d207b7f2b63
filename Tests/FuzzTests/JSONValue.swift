import Foundation

/// A JSON document as a tree the fuzzer can edit: objects keep their pairs in order (so a key may
/// appear twice), and `raw` holds text written as it is (`NaN`, `1e999`), which no encoder would write.
indirect enum JSONValue: Equatable, Decodable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])
    case raw(String)

    static func == (a: JSONValue, b: JSONValue) -> Bool { a.text() == b.text() }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            // Key order is lost in decoding; sorted keys keep every run of the fuzzer the same.
            self = .object(try keyed.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
                (key.stringValue, try keyed.decode(JSONValue.self, forKey: key))
            })
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let i = try? single.decode(Int.self) { self = .int(i) }
        else if let d = try? single.decode(Double.self) { self = .number(d) }
        else { self = .string(try single.decode(String.self)) }
    }

    static func parse(_ data: Data) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: data) }

    /// The document as JSON text (with a newline between object members, so byte flips land in many places).
    func text() -> String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return "\(i)"
        case let .number(d): return d.isFinite ? "\(d)" : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
        case let .string(s): return Self.quoted(s)
        case let .array(items): return "[" + items.map { $0.text() }.joined(separator: ", ") + "]"
        case let .object(pairs): return "{\n" + pairs.map { "\(Self.quoted($0.key)): \($0.value.text())" }.joined(separator: ",\n") + "\n}"
        case let .raw(text): return text
        }
    }

    var data: Data { Data(text().utf8) }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: Paths

    enum Step: Equatable { case key(String), index(Int) }

    /// Every value in the tree, by path, the root first.
    func paths(prefix: [Step] = []) -> [[Step]] {
        var result = [prefix]
        switch self {
        case let .array(items):
            for (i, item) in items.enumerated() { result += item.paths(prefix: prefix + [.index(i)]) }
        case let .object(pairs):
            for pair in pairs { result += pair.value.paths(prefix: prefix + [.key(pair.key)]) }
        default: break
        }
        return result
    }

    subscript(path: [Step]) -> JSONValue? {
        guard let first = path.first else { return self }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case let (.array(items), .index(i)) where items.indices.contains(i): return items[i][rest]
        case let (.object(pairs), .key(k)): return pairs.first { $0.key == k }?.value[rest]
        default: return nil
        }
    }

    /// Replaces the value at `path` (nil removes it from its parent).
    mutating func set(_ path: [Step], to value: JSONValue?) {
        guard let first = path.first else {
            if let value { self = value }
            return
        }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.array(var items), .index(let i)) where items.indices.contains(i):
            if rest.isEmpty {
                if let value { items[i] = value } else { items.remove(at: i) }
            } else {
                items[i].set(rest, to: value)
            }
            self = .array(items)
        case (.object(var pairs), .key(let k)):
            guard let i = pairs.firstIndex(where: { $0.key == k }) else { return }
            if rest.isEmpty {
                if let value { pairs[i].value = value } else { pairs.remove(at: i) }
            } else {
                pairs[i].value.set(rest, to: value)
            }
            self = .object(pairs)
        default: break
        }
    }

    /// Every string in the tree equal to `old` becomes `new` (keys too, when `keys`).
    func renaming(_ old: String, to new: String, keys: Bool) -> JSONValue {
        switch self {
        case let .string(s): return .string(s == old ? new : s)
        case let .array(items): return .array(items.map { $0.renaming(old, to: new, keys: keys) })
        case let .object(pairs):
            return .object(pairs.map { (keys && $0.key == old ? new : $0.key, $0.value.renaming(old, to: new, keys: keys)) })
        default: return self
        }
    }

    /// Every string value (not key) in the tree.
    var strings: [String] {
        switch self {
        case let .string(s): return [s]
        case let .array(items): return items.flatMap(\.strings)
        case let .object(pairs): return pairs.flatMap(\.value.strings)
        default: return []
        }
    }
}
