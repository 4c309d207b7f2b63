import FixedPoint
import Foundation
import ModelIR

/// Mutations of the board (target) file and of the config file.
extension FuzzMutations {
    // MARK: target files

    mutating func target() -> String {
        let path = "targets/\(seed.target)"
        var doc = json(path)
        let extreme = pick([JSONValue.int(-1), .int(0), .number(-4.5), .number(1e300), .number(1e308), .raw("1e999"), .raw("NaN"),
                            .string("12"), .null, .int(Int.max), .raw("18446744073709551616"), .number(.leastNonzeroMagnitude), .array([])])
        switch pick(["coefficient", "coefficient", "board", "core", "name", "structured"]) {
        case "coefficient":
            let table = pick(["cycles", "code_bytes"])
            guard case let .object(pairs)? = doc[[.key("cost"), .key(table)]], !pairs.isEmpty else { return structured(path) }
            let key = pick(pairs.map(\.key))
            doc.set([.key("cost"), .key(table), .key(key)], to: extreme)
            files[path] = doc.data
            return "\(path): cost.\(table)[\(key)] = \(extreme.text())"
        case "board":
            let key = pick(["clock_hz", "ram_bytes", "flash_bytes", "int_bits", "fpu"])
            let board = pick([[JSONValue.Step.key(key)], [.key("cost"), .key(pick(["stack_bytes", "platform_ram_bytes", "calibrated"]))]])
            if chance(20) { doc.set(board, to: nil) } else { doc.set(board, to: extreme) }
            files[path] = doc.data
            return "\(path): \(JSONMutator.describe(board)) = \(extreme.text())"
        case "core":
            let core = pick(["riscv", "", "AVR", "cortex-m33"])
            doc.set([.key("core")], to: .string(core))
            files[path] = doc.data
            return "\(path): core = '\(core)'"
        case "name":
            let name = pick(["other", "", "uno.json", "UNO"])
            doc.set([.key("name")], to: .string(name))
            files[path] = doc.data
            return "\(path): name = '\(name)'"
        default:
            // Most paths of a target are its coefficients: aim at the board's own keys half the time.
            guard chance(50), case let .object(pairs) = doc else { return structured(path, document: doc) }
            let top = JSONValue.object(pairs.map { ($0.key, $0.key == "cost" ? JSONValue.object([]) : $0.value) })
            let (mutated, label) = JSONMutator.mutate(top, using: &rng)
            guard case let .object(newPairs) = mutated else { files[path] = mutated.data; return "\(path): \(label)" }
            let cost = doc[[.key("cost")]] ?? .null
            files[path] = JSONValue.object(newPairs.map { ($0.key, $0.key == "cost" && $0.value == .object([]) ? cost : $0.value) }).data
            return "\(path): \(label)"
        }
    }

    // MARK: configs

    mutating func config() -> String {
        let path = "config.json"
        var doc = json(path)
        guard case let .object(formats)? = doc[[.key("formats")]], !formats.isEmpty, chance(65) else { return structured(path) }
        let tensor = pick(formats.map(\.key))
        switch pick(["bits", "frac", "missing", "extra", "format-type", "valid", "valid", "valid"]) {
        case "valid":
            // Formats the config may hold, chosen at random (often at the ends of the range): deep kernels.
            var changed = 0
            var pairs = formats
            for i in pairs.indices where chance(50) {
                let frac = chance(50) ? pick([FixedPointGraph.fracBitsRange.lowerBound, FixedPointGraph.fracBitsRange.upperBound])
                    : Int.random(in: FixedPointGraph.fracBitsRange, using: &rng)
                pairs[i].value = .object([("bits", .int(pick([8, 16]))), ("frac", .int(frac))])
                changed += 1
            }
            doc.set([.key("formats")], to: .object(pairs))
            files[path] = doc.data
            return "\(path): \(changed) of \(pairs.count) formats chosen at random"
        case "bits":
            let value = pick([JSONValue.int(0), .int(4), .int(32), .int(64), .int(-8), .int(Int.max), .number(8.5), .string("8"), .int(1)])
            doc.set([.key("formats"), .key(tensor), .key("bits")], to: value)
            files[path] = doc.data
            return "\(path): \(tensor).bits = \(value.text())"
        case "frac":
            let value = pick([JSONValue.int(-25), .int(29), .int(63), .int(64), .int(1_000_000_000), .int(Int.min), .number(7.5), .null, .int(-1000)])
            doc.set([.key("formats"), .key(tensor), .key("frac")], to: value)
            files[path] = doc.data
            return "\(path): \(tensor).frac = \(value.text())"
        case "missing":
            doc.set([.key("formats"), .key(tensor)], to: nil)
            files[path] = doc.data
            return "\(path): no format for \(tensor)"
        case "extra":
            doc.set([.key("formats")], to: .object(formats + [("ghost", .object([("bits", .int(8)), ("frac", .int(3))]))]))
            files[path] = doc.data
            return "\(path): a format for an unknown tensor"
        default:
            let value = pick([JSONValue.int(8), .string("int8 Q3"), .array([.int(8), .int(3)]), .object([])])
            doc.set([.key("formats"), .key(tensor)], to: value)
            files[path] = doc.data
            return "\(path): \(tensor) = \(value.text())"
        }
    }
}
