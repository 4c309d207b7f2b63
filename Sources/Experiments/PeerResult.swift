import Foundation

/// A published figure from another tool (SeeDot, TFLite Micro, ...) for the same model and board,
/// read from a batch directory's `peers.json`, to mark on plots and list in reports. Every field but
/// the name is optional; a peer is drawn on the axes it has figures for.
public struct PeerResult: Sendable, Equatable, Decodable {
    public var name: String
    public var model: String?
    public var target: String?
    /// Accuracy as a fraction (0.95); a value above 1 is read as a percentage.
    public var accuracy: Double?
    public var milliseconds: Double?
    public var ramBytes: Int?
    public var flashBytes: Int?

    public init(name: String, model: String? = nil, target: String? = nil, accuracy: Double? = nil, milliseconds: Double? = nil,
                ramBytes: Int? = nil, flashBytes: Int? = nil) {
        self.name = name
        self.model = model
        self.target = target
        self.accuracy = accuracy
        self.milliseconds = milliseconds
        self.ramBytes = ramBytes
        self.flashBytes = flashBytes
    }

    enum CodingKeys: String, CodingKey {
        case name, model, target, accuracy, milliseconds, ramBytes = "ram_bytes", flashBytes = "flash_bytes"
    }

    /// The accuracy as a fraction.
    public var accuracyFraction: Double? { accuracy.map { $0 > 1 ? $0 / 100 : $0 } }

    /// Whether this peer belongs beside runs of `models` on `targets` (a peer naming no model or
    /// target belongs everywhere).
    public func applies(models: Set<String>, targets: Set<String>) -> Bool {
        (model.map(models.contains) ?? true) && (target.map(targets.contains) ?? true)
    }

    /// Reads `path`; a missing file is no peers.
    public static func load(path: String) throws(ExperimentsError) -> [PeerResult] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw .cannotRead(path: path, reason: "not readable") }
        do { return try JSONDecoder().decode([PeerResult].self, from: data) } catch let DecodingError.dataCorrupted(context) {
            throw .malformedPeers(path: path, reason: "not JSON (\(context.debugDescription))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformedPeers(path: path, reason: "entry \(Self.position(context.codingPath)) has no \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformedPeers(path: path, reason: "\(Self.position(context.codingPath)) has the wrong type (\(context.debugDescription))")
        } catch {
            throw .malformedPeers(path: path, reason: "\(error)")
        }
    }

    private static func position(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
