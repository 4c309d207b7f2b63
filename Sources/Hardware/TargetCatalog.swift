import Foundation
import ModelIR

/// The boards known to the tool, read from a directory of `NAME.json` files.
public struct TargetCatalog: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missingDirectory(String)
        case malformed(path: String, reason: String)
        case unknownTarget(String, known: [String])

        /// One line: coefficient keys and names come from the file, which may hold any text.
        public var description: String { text.escapingControlCharacters }

        private var text: String {
            switch self {
            case let .missingDirectory(path):
                return "target directory not found: \(path)"
            case let .malformed(path, reason):
                return "\(path): \(reason)"
            case let .unknownTarget(name, known):
                return known.isEmpty ? "unknown target '\(name)': no target descriptions were found (configs/targets/*.json)"
                    : "unknown target '\(name)'; known targets: \(known.joined(separator: ", ")) (see 'tune targets')"
            }
        }
    }

    /// Largest clock (Hz) and memory (bytes) a board description may give: far beyond any microcontroller.
    public static let maxBoardValue = 1 << 40
    /// Largest magnitude of a cycle or code-byte coefficient (the calibrated ones stay below 10^4).
    public static let maxCoefficient = 1e9

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
            do { target = try JSONDecoder().decode(Target.self, from: data) } catch let error as DecodingError {
                if case let .dataCorrupted(context) = error, context.codingPath.map(\.stringValue) == ["core"] {
                    throw .malformed(path: path, reason: "core is not a known core; allowed: \(Target.Core.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                throw .malformed(path: path, reason: "not a target description: \(ModelFile.describe(error, data: data, decoding: Target.self))")
            } catch {
                throw .malformed(path: path, reason: "not a target description: not valid JSON")
            }
            guard target.name + ".json" == file else {
                throw .malformed(path: path, reason: "name '\(target.name)' does not match the file name")
            }
            try validate(target, path: path)
            targets.append(target)
        }
        return TargetCatalog(targets: targets)
    }

    /// The rules a board description must keep: positive clock and memories within `maxBoardValue`,
    /// cost coefficients that are finite, not negative (but for per-call intercepts) and within
    /// `maxCoefficient`, and a stack and platform reserve that fit the RAM.
    private static func validate(_ target: Target, path: String) throws(Failure) {
        guard target.clockHz > 0, target.ramBytes > 0, target.flashBytes > 0, [16, 32].contains(target.intBits) else {
            throw .malformed(path: path, reason: "clock_hz, ram_bytes and flash_bytes must be positive and int_bits 16 or 32")
        }
        if let (key, value) = [("clock_hz", target.clockHz), ("ram_bytes", target.ramBytes), ("flash_bytes", target.flashBytes)]
            .first(where: { $0.1 > Self.maxBoardValue }) {
            throw .malformed(path: path, reason: "\(key) is \(value); at most \(Self.maxBoardValue) (2^40)")
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
        // A coefficient past any board's keeps every price finite and every byte count an Int.
        for (table, coefficients) in [("cycles", cost.cycles), ("code_bytes", cost.codeBytes)] {
            if let (key, value) = coefficients.sorted(by: { $0.key < $1.key }).first(where: { abs($0.value) > Self.maxCoefficient }) {
                throw .malformed(path: path, reason: "cost.\(table)[\"\(key)\"] is \(value); coefficients are at most 10^9 in magnitude")
            }
        }
        guard cost.stackBytes >= 0, cost.platformRAMBytes >= 0, cost.stackBytes <= target.ramBytes, cost.platformRAMBytes <= target.ramBytes else {
            throw .malformed(path: path, reason: "cost.stack_bytes (\(cost.stackBytes)) and cost.platform_ram_bytes (\(cost.platformRAMBytes)) must be 0 or more and at most ram_bytes (\(target.ramBytes))")
        }
    }

    public func target(named name: String) throws(Failure) -> Target {
        guard let target = targets.first(where: { $0.name == name }) else {
            throw .unknownTarget(name, known: targets.map(\.name))
        }
        return target
    }
}
