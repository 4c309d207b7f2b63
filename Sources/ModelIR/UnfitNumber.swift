import Foundation

/// Finds the number that Foundation's JSON decoder refused without saying where: a fraction (or a
/// number beyond 64 bits) under a key that holds an integer. It reports these at the top level, so
/// suspect numbers are replaced by 0 and the file decoded again until the one that breaks it is found.
enum UnfitNumber {
    /// The key path (`nodes[2].attributes.bits`) and the number as written, or nil when no number
    /// explains the failure. Bisection over the suspects in document order: replacing a prefix of
    /// them either still fails the same way or not, and the shortest prefix that does not ends with
    /// one that breaks the file (a dozen decodes for a board file of two thousand fractions).
    static func locate<T: Decodable>(in json: Any, decoding type: T.Type) -> (path: String, value: String)? {
        var suspects: [[PathElement]] = []
        collect(json, at: [], into: &suspects)
        func stillFails(replacingFirst count: Int) -> Bool {
            var patched = json
            for path in suspects.prefix(count) { patched = replacing(patched, at: path[...]) }
            guard let data = try? JSONSerialization.data(withJSONObject: patched, options: [.fragmentsAllowed]) else { return true }
            do {
                _ = try JSONDecoder().decode(type, from: data)
            } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
                return true
            } catch {}
            return false
        }
        guard !suspects.isEmpty, !stillFails(replacingFirst: suspects.count) else { return nil }
        var (lo, hi) = (0, suspects.count)  // stillFails(lo), !stillFails(hi)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if stillFails(replacingFirst: mid) { lo = mid } else { hi = mid }
        }
        let culprit = suspects[hi - 1]
        return (text(culprit), value(json, at: culprit[...]).map { "\($0)" } ?? "?")
    }

    enum PathElement { case key(String), index(Int) }

    /// Numbers that cannot be an Int64: fractions and huge values.
    private static func collect(_ json: Any, at path: [PathElement], into suspects: inout [[PathElement]]) {
        switch json {
        case let object as [String: Any]:
            for key in object.keys.sorted() { collect(object[key] as Any, at: path + [.key(key)], into: &suspects) }
        case let array as [Any]:
            for (index, element) in array.enumerated() { collect(element, at: path + [.index(index)], into: &suspects) }
        case let number as NSNumber:  // true and false are whole, so never suspects
            let value = number.doubleValue
            if value.rounded() != value || abs(value) >= 9.2e18 { suspects.append(path) }
        default:
            break
        }
    }

    private static func replacing(_ json: Any, at path: ArraySlice<PathElement>) -> Any {
        guard let first = path.first else { return NSNumber(value: 0) }
        switch (first, json) {
        case let (.key(key), object as [String: Any]):
            var copy = object
            copy[key] = replacing(object[key] as Any, at: path.dropFirst())
            return copy
        case let (.index(index), array as [Any]) where array.indices.contains(index):
            var copy = array
            copy[index] = replacing(array[index], at: path.dropFirst())
            return copy
        default:
            return json
        }
    }

    private static func value(_ json: Any, at path: ArraySlice<PathElement>) -> Any? {
        guard let first = path.first else { return json }
        switch (first, json) {
        case let (.key(key), object as [String: Any]): return object[key].flatMap { value($0, at: path.dropFirst()) }
        case let (.index(index), array as [Any]) where array.indices.contains(index): return value(array[index], at: path.dropFirst())
        default: return nil
        }
    }

    private static func text(_ path: [PathElement]) -> String {
        let joined = path.map { element -> String in
            switch element {
            case let .key(key): return ".\(key)"
            case let .index(index): return "[\(index)]"
            }
        }.joined()
        return joined.isEmpty ? "the top level" : String(joined.drop(while: { $0 == "." }))
    }
}
