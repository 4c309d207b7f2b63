import FixedPoint
import Foundation

/// Structured mutations of any JSON document: a key deleted, a value of another type, an extreme
/// number, an empty or duplicated collection, a hostile string, a change of nesting.
/// Each returns the mutated document and a short label for the report.
struct JSONMutator {
    /// Numbers a careless exporter or a hostile file might hold.
    static let extremeNumbers: [JSONValue] = [
        .int(0), .int(-1), .int(1), .int(2), .int(-8), .int(65_536), .int(1 << 31), .int(1 << 40), .int(Int.max), .int(Int.min),
        .number(1.5), .number(-0.5), .number(1e300), .number(-1e300), .raw("1e-310"), .number(.leastNonzeroMagnitude), .number(0.1),
        .raw("1e999"), .raw("-1e999"), .raw("NaN"), .raw("Infinity"), .raw("9223372036854775808"), .raw("-0"),
    ]

    /// Strings that are not names: empty, non-ASCII, C comment ends, control characters, long.
    static let hostileStrings: [String] = [
        "", " ", "é", "名前", "*/", "a*/b", "x; int y", "../../etc", "\u{7}", "a\nb", "NaN", "Infinity", "-inf", "1e999",
        String(repeating: "a", count: 300), "x.", ".x", "_", "0x", "x y",
    ]

    static let mutationNames = [
        "delete-key", "null", "number-to-string", "string-to-number", "int-to-float", "array-to-object", "object-to-array",
        "extreme-number", "hostile-string", "empty-array", "empty-object", "duplicate-element", "drop-element",
        "wrap-in-array", "wrap-in-object", "unwrap", "duplicate-key", "unknown-key", "nan-string", "bool-flip", "swap-elements",
    ]

    /// Mutations that give the value another type or an extreme value of its own.
    static let typeMutations: Set<String> = [
        "null", "number-to-string", "string-to-number", "int-to-float", "array-to-object", "object-to-array",
        "extreme-number", "hostile-string", "nan-string", "bool-flip",
    ]

    /// One random structured mutation of `document`.
    static func mutate(_ document: JSONValue, using rng: inout SeededGenerator) -> (JSONValue, String) {
        let paths = document.paths()
        let path = paths.randomElement(using: &rng) ?? []
        let value = document[path] ?? .null
        let name = mutationNames.randomElement(using: &rng) ?? "null"
        // The root itself cannot go.
        if name == "delete-key", path.isEmpty { return (.object([]), "root emptied") }
        var out = document
        out.set(path, to: typeMutations.contains(name) ? retyped(value, name, using: &rng) : restructured(value, name, using: &rng))
        return (out, "\(name) at \(describe(path))")
    }

    /// `value` as another type, or an extreme or hostile value.
    private static func retyped(_ value: JSONValue, _ name: String, using rng: inout SeededGenerator) -> JSONValue {
        switch (name, value) {
        case ("null", _): return .null
        case let ("number-to-string", .int(i)): return .string("\(i)")
        case let ("number-to-string", .number(d)): return .string("\(d)")
        case ("number-to-string", _): return .string(value.text())
        case ("string-to-number", _), ("extreme-number", _): return extremeNumbers.randomElement(using: &rng) ?? .int(0)
        case let ("int-to-float", .int(i)): return .number(Double(i) + 0.5)
        case ("int-to-float", _): return .number(1.5)
        case let ("array-to-object", .array(items)): return .object(items.enumerated().map { ("\($0.offset)", $0.element) })
        case ("array-to-object", _): return .object([("value", value)])
        case let ("object-to-array", .object(pairs)): return .array(pairs.map(\.value))
        case ("object-to-array", _): return .array([value])
        case ("hostile-string", _): return .string(hostileStrings.randomElement(using: &rng) ?? "")
        case ("nan-string", _):
            return [JSONValue.string("NaN"), .string("inf"), .string("-Infinity"), .raw("NaN"), .raw("Infinity")].randomElement(using: &rng) ?? .null
        case let ("bool-flip", .bool(b)): return .bool(!b)
        default: return .bool(true)
        }
    }

    /// `value` emptied, grown, shrunk or nested differently; nil removes it from its parent.
    private static func restructured(_ value: JSONValue, _ name: String, using rng: inout SeededGenerator) -> JSONValue? {
        switch (name, value) {
        case ("delete-key", _): return nil
        case ("empty-array", _): return .array([])
        case ("empty-object", _): return .object([])
        case let ("duplicate-element", .array(items)) where !items.isEmpty:
            return .array(items + [items.randomElement(using: &rng) ?? .null])
        case let ("duplicate-element", .object(pairs)) where !pairs.isEmpty:
            return .object(pairs + [pairs.randomElement(using: &rng) ?? ("a", .null)])
        case ("duplicate-element", _): return .array([value, value])
        case let ("drop-element", .array(items)) where !items.isEmpty: return .array(Array(items.dropLast()))
        case let ("drop-element", .object(pairs)) where !pairs.isEmpty: return .object(Array(pairs.dropFirst()))
        case ("drop-element", _): return nil
        case ("wrap-in-array", _): return .array([value])
        case ("wrap-in-object", _): return .object([("value", value)])
        case let ("unwrap", .array(items)) where !items.isEmpty: return items[0]
        case let ("unwrap", .object(pairs)) where !pairs.isEmpty: return pairs[0].value
        case ("unwrap", _): return .string("")
        case let ("duplicate-key", .object(pairs)) where !pairs.isEmpty:
            let pair = pairs.randomElement(using: &rng) ?? ("a", .null)
            return .object(pairs + [(pair.key, extremeNumbers.randomElement(using: &rng) ?? .null)])
        case ("duplicate-key", _): return .object([("a", value), ("a", .null)])
        case let ("unknown-key", .object(pairs)): return .object(pairs + [("unknown_\(pairs.count)", .string("?"))])
        case ("unknown-key", _): return .object([("unknown", value)])
        case let ("swap-elements", .array(items)) where items.count >= 2: return .array(Array(items.reversed()))
        default: return .bool(false)
        }
    }

    static func describe(_ path: [JSONValue.Step]) -> String {
        let text = path.map { step -> String in
            switch step {
            case let .key(k): return ".\(k)"
            case let .index(i): return "[\(i)]"
            }
        }.joined()
        return text.isEmpty ? "root" : String(text.dropFirst(text.hasPrefix(".") ? 1 : 0))
    }
}
