/// What a dataset did to the raw values before storing them (`dataset.json`'s `normalisation`,
/// docs/model-format.md): every stored `x` is already normalised, so a program that takes raw
/// sensor values has to do the same first (`RawInputQuantizer`).
public enum Normalisation: Sendable, Equatable {
    /// `x = (raw - mean[c]) / std[c]` for channel `c` (the last dimension of `sample_shape`).
    case standardise(mean: [Double], std: [Double])
    /// `x = raw * scale`.
    case scale(Double)
    /// `x = raw` (method `none`; named so that it cannot be mistaken for an absent `Optional`).
    case unchanged

    /// The record as `dataset.json` holds it (extra keys such as `formula` are documentation).
    public struct Record: Codable, Sendable {
        public var method: String
        public var mean: [Double]?
        public var std: [Double]?
        public var scale: Double?
    }

    public static let methods = ["standardise", "scale", "none"]

    /// Checks `record` against a dataset of `channels` channels; `path` names the file in errors.
    public init(_ record: Record, channels: Int, path: String) throws(ModelError) {
        func bad(_ reason: String) -> ModelError { .datasetMismatch(path: path, reason: "normalisation: " + reason) }
        switch record.method {
        case "standardise":
            guard let mean = record.mean, let std = record.std else { throw bad("method 'standardise' needs 'mean' and 'std' arrays, one value per channel") }
            guard mean.count == channels, std.count == channels else {
                throw bad("'mean' has \(mean.count) values and 'std' \(std.count); the samples have \(channels) channels (the last dimension of sample_shape)")
            }
            guard mean.allSatisfy(\.isFinite) else { throw bad("'mean' values must be finite numbers") }
            guard std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw bad("'std' values must be finite and greater than 0") }
            self = .standardise(mean: mean, std: std)
        case "scale":
            guard let scale = record.scale, scale.isFinite, scale != 0 else { throw bad("method 'scale' needs a finite, non-zero 'scale'") }
            self = .scale(scale)
        case "none":
            self = .unchanged
        default:
            throw bad("unknown method '\(record.method)'; allowed: \(Self.methods.joined(separator: ", "))")
        }
    }

    /// The normalised value of raw value `raw` in channel `channel`.
    public func normalise(_ raw: Double, channel: Int) -> Double {
        switch self {
        case let .standardise(mean, std): (raw - mean[channel]) / std[channel]
        case let .scale(s): raw * s
        case .unchanged: raw
        }
    }

    /// The raw value whose normalised value is `x` (what a sensor gave for a stored sample).
    public func raw(_ x: Double, channel: Int) -> Double {
        switch self {
        case let .standardise(mean, std): x * std[channel] + mean[channel]
        case let .scale(s): x / s
        case .unchanged: x
        }
    }

    /// `x = gain * (raw - offset)` for channel `channel`.
    public func gainAndOffset(channel: Int) -> (gain: Double, offset: Double) {
        switch self {
        case let .standardise(mean, std): (1 / std[channel], mean[channel])
        case let .scale(s): (s, 0)
        case .unchanged: (1, 0)
        }
    }
}
