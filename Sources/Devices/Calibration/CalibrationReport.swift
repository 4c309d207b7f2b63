import Foundation
import Hardware

/// Every measurement of a calibration beside what the fitted model predicts for it, as JSON Lines
/// (`{"program", "kind": "piece"|"call"|"code", "label", "measured", "predicted", "features"}`), for
/// finding the kernels the model prices worst.
public enum CalibrationReport {
    public static func write(_ outcome: Calibrator.Outcome, to path: String) throws(DeviceError) {
        let c = outcome.coefficients
        var lines: [String] = []
        func add(_ program: String, _ kind: String, _ label: String, _ measured: Double, _ predicted: Double, _ features: [String: Double]) {
            let object: [String: Any] = ["program": program, "kind": kind, "label": label, "measured": measured,
                                         "predicted": (predicted * 10).rounded() / 10, "features": features]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        for m in outcome.measurements {
            for p in m.pieces { add(m.name, "piece", p.label, p.cycles, c.price(p.features, in: \.cycles), p.features) }
            for call in m.calls { add(m.name, "call", call.label, call.cycles, c.price(call.features, in: \.cycles), call.features) }
            add(m.name, "code", "code", Double(m.codeBytes), c.price(m.codeFeatures, in: \.codeBytes), m.codeFeatures)
        }
        try SourceFile.write(lines.joined(separator: "\n") + "\n", to: path)
    }
}
