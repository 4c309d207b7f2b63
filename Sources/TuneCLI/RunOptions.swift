import Foundation

/// A run's options as `tune` arguments, kept in OUT/run.json so `tune --resume OUT` (and a batch
/// restarted after a kill) continues the run exactly as it started.
struct RunOptions: Codable {
    var arguments: [String]

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
