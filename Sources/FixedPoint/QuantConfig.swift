import Foundation
import ModelIR

/// A fixed-point configuration: a format for every tensor of a lowered graph (inputs, activations,
/// loop states and temporaries, and every weight). Codable, so it can be saved, loaded and logged;
/// `fingerprint` is a stable hash of its canonical JSON.
public struct QuantConfig: Codable, Hashable, Sendable {
    public var formats: [String: TensorFormat]

    public init(formats: [String: TensorFormat]) { self.formats = formats }

    /// JSON with sorted keys: the same config always has the same bytes.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// FNV-1a 64 of the canonical JSON, as 16 hex digits.
    public var fingerprint: String { String(FNV1a.hash(canonicalJSON()), radix: 16).leftPadded(to: 16) }

    public static func load(_ path: String) throws(FixedPointError) -> QuantConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw .configNotFound(path) }
        do { return try JSONDecoder().decode(QuantConfig.self, from: data) } catch let error as DecodingError {
            throw .malformedConfig(path: path, reason: ModelFile.describe(error, data: data, decoding: QuantConfig.self) + " (expected {\"formats\": {TENSOR: {\"bits\": 8 or 16, \"frac\": N}}})")
        } catch {
            throw .malformedConfig(path: path, reason: "not valid JSON")
        }
    }

    public func write(to path: String) throws(FixedPointError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { try encoder.encode(self).write(to: URL(fileURLWithPath: path)) } catch {
            throw .malformedConfig(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
