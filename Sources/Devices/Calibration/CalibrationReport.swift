import Foundation
import Hardware

/// Every measurement of a calibration beside what the fitted model predicts for it, as JSON Lines:
/// `{"program", "kind": "piece"|"call"|"code"|"program", "label", "measured", "predicted", "features"}`
/// (a `program` line carries its analysed stack and static RAM), after a first `run` line with the
/// programs and seed asked for. It shows which kernels the model prices worst, and `tune calibrate
/// --refit` fits it again without measuring anything, with the provenance of the run it came from.
public enum CalibrationReport {
    /// What a calibration run was asked for: its benchmark programs and their seed.
    public struct Run: Sendable, Equatable {
        public var programs: Int
        public var seed: UInt64
        public init(programs: Int, seed: UInt64) {
            self.programs = programs
            self.seed = seed
        }
    }

    public static func write(_ outcome: Calibrator.Outcome, run: Run, to path: String) throws(DeviceError) {
        try write(outcome.measurements, predictedBy: outcome.coefficients, run: run, to: path)
    }

    /// `measurements`, each with what `c` predicts for it.
    public static func write(_ measurements: [ProgramMeasurement], predictedBy c: CostCoefficients, run: Run, to path: String) throws(DeviceError) {
        var lines: [String] = []
        func add(_ object: [String: Any]) {
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        func add(_ program: String, _ kind: String, _ label: String, _ measured: Double, _ predicted: Double, _ features: [String: Double]) {
            add(["program": program, "kind": kind, "label": label, "measured": measured,
                 "predicted": (predicted * 10).rounded() / 10, "features": features])
        }
        add(["program": "", "kind": "run", "programs": run.programs, "seed": String(run.seed)])
        for m in measurements {
            add(["program": m.name, "kind": "program", "stack_bytes": m.stackBytes, "static_ram": m.staticRAM,
                 "predicted_static_ram": m.predictedStaticRAM, "bit_exact": m.isBitExact])
            for p in m.pieces { add(m.name, "piece", p.label, p.cycles, c.price(p.features, in: \.cycles), p.features) }
            for call in m.calls { add(m.name, "call", call.label, call.cycles, c.price(call.features, in: \.cycles), call.features) }
            add(m.name, "code", "code", Double(m.codeBytes), c.price(m.codeFeatures, in: \.codeBytes), m.codeFeatures)
        }
        try SourceFile.write(lines.joined(separator: "\n") + "\n", to: path)
    }

    /// The measurements of a file `write` made, and its run (nil in a file written before runs were).
    public static func read(_ path: String) throws(DeviceError) -> (measurements: [ProgramMeasurement], run: Run?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .toolFailed(tool: "calibrate --refit", output: "cannot read \(path)")
        }
        var programs: [String: ProgramMeasurement] = [:], order: [String] = [], run: Run?
        for (number, line) in text.split(separator: "\n").enumerated() {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let name = object["program"] as? String, let kind = object["kind"] as? String else {
                throw .toolFailed(tool: "calibrate --refit", output: "\(path):\(number + 1): not a calibration measurement")
            }
            if kind == "run" {
                guard let count = object["programs"] as? Int, let seed = (object["seed"] as? String).flatMap({ UInt64($0) }) else {
                    throw .toolFailed(tool: "calibrate --refit", output: "\(path):\(number + 1): a run line without its programs and seed")
                }
                run = Run(programs: count, seed: seed)
                continue
            }
            if programs[name] == nil {
                order.append(name)
                programs[name] = ProgramMeasurement(name: name, pieces: [], calls: [], codeFeatures: [:], codeBytes: 0, stackBytes: 0,
                                                    staticRAM: 0, predictedStaticRAM: 0, isBitExact: true)
            }
            let features = (object["features"] as? [String: Double]) ?? [:]
            let measured = (object["measured"] as? Double) ?? 0
            let label = (object["label"] as? String) ?? ""
            switch kind {
            case "program":
                programs[name]?.stackBytes = object["stack_bytes"] as? Int ?? 0
                programs[name]?.staticRAM = object["static_ram"] as? Int ?? 0
                programs[name]?.predictedStaticRAM = object["predicted_static_ram"] as? Int ?? 0
                programs[name]?.isBitExact = object["bit_exact"] as? Bool ?? true
            case "piece": programs[name]?.pieces.append(.init(features: features, cycles: measured, label: label))
            case "call": programs[name]?.calls.append(.init(features: features, cycles: measured, label: label))
            case "code":
                programs[name]?.codeFeatures = features
                programs[name]?.codeBytes = Int(measured)
            default:
                throw .toolFailed(tool: "calibrate --refit", output: "\(path):\(number + 1): unknown kind '\(kind)'")
            }
        }
        return (order.compactMap { programs[$0] }, run)
    }
}
