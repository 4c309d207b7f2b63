import Foundation

/// The boards known to the tool, read from a directory of `NAME.json` files.
public struct TargetCatalog: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missingDirectory(String)
        case malformed(path: String, reason: String)
        case unknownTarget(String, known: [String])

        public var description: String {
            switch self {
            case let .missingDirectory(path):
                return "target directory not found: \(path)"
            case let .malformed(path, reason):
                return "\(path): \(reason)"
            case let .unknownTarget(name, known):
                return "unknown target '\(name)'; known targets: \(known.joined(separator: ", ")) (see 'tune targets')"
            }
        }
    }

    /// Sorted by RAM, then name: smallest boards first.
    public let targets: [Target]

    public init(targets: [Target]) {
        self.targets = targets.sorted { ($0.ramBytes, $0.name) < ($1.ramBytes, $1.name) }
    }

    public static func load(directory: String) throws(Failure) -> TargetCatalog {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .missingDirectory(directory)
        }
        var targets: [Target] = []
        for file in files.sorted() where file.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .malformed(path: path, reason: "unreadable")
            }
            let target: Target
            do { target = try JSONDecoder().decode(Target.self, from: data) } catch {
                throw .malformed(path: path, reason: "not a target description (\(error))")
            }
            guard target.name + ".json" == file else {
                throw .malformed(path: path, reason: "name '\(target.name)' does not match the file name")
            }
            guard target.clockHz > 0, target.ramBytes > 0, target.flashBytes > 0, [16, 32].contains(target.intBits) else {
                throw .malformed(path: path, reason: "clock_hz, ram_bytes and flash_bytes must be positive and int_bits 16 or 32")
            }
            // Per-element and per-output coefficients are costs: a negative one gives negative cycles.
            // Only a kernel's per-call term (a fitted intercept) may be below zero.
            let cost = target.cost
            if let (key, value) = cost.cycles.sorted(by: { $0.key < $1.key }).first(where: { !$0.key.hasSuffix(".call") && ($0.value < 0 || !$0.value.isFinite) }) {
                throw .malformed(path: path, reason: "cost.cycles[\"\(key)\"] is \(value); cycle coefficients are finite numbers 0 or more (only the per-call terms ending in .call may be negative)")
            }
            if let (key, value) = cost.codeBytes.sorted(by: { $0.key < $1.key }).first(where: { $0.value < 0 || !$0.value.isFinite }) {
                throw .malformed(path: path, reason: "cost.code_bytes[\"\(key)\"] is \(value); code bytes are finite numbers 0 or more")
            }
            if let bad = cost.cycles.first(where: { !$0.value.isFinite }) {
                throw .malformed(path: path, reason: "cost.cycles[\"\(bad.key)\"] is \(bad.value); cycle coefficients are finite numbers")
            }
            guard cost.stackBytes >= 0, cost.platformRAMBytes >= 0 else {
                throw .malformed(path: path, reason: "cost.stack_bytes and cost.platform_ram_bytes must be 0 or more")
            }
            targets.append(target)
        }
        return TargetCatalog(targets: targets)
    }

    public func target(named name: String) throws(Failure) -> Target {
        guard let target = targets.first(where: { $0.name == name }) else {
            throw .unknownTarget(name, known: targets.map(\.name))
        }
        return target
    }
}
