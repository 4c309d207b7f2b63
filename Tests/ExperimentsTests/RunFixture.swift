import Foundation
import TestSupport

/// A run written by hand: a search log (header, candidates, summary) and maybe a summary.json, in
/// the formats `tune` writes (docs/search-log.md), so reports and plots are tested without a search.
struct RunFixture {
    struct Candidate {
        var outcome = "ok"
        var accuracy: Double?
        var cycles: Double = 0
        var ramBytes = 0
        var flashBytes = 0
    }

    var model = "mlp"
    var target = "uno"
    var strategy = "genetic"
    var seed = 0
    var budgetRAMBytes = 1000
    var budgetFlashBytes = 32768
    var clockHz: Int? = 16_000_000
    var floatValAccuracy = 0.95
    var candidates: [Candidate] = []
    /// Summary line fields (nil: the run is unfinished).
    var front: [Int]? = nil
    var pick: Int? = nil
    var pickTestAccuracy = 0.88
    var floatTestAccuracy = 0.9
    var measuredCycles: Double? = nil
    var baselines: [String: Candidate] = [:]
    /// Text appended after the last whole line (a torn line).
    var torn = ""
    var summaryFile: [String: Any]? = nil

    /// The standard finished run: two ok candidates on the front, one over budget, one error.
    static func finished(seed: Int = 0, strategy: String = "genetic", bestAccuracy: Double = 0.9, pickTest: Double = 0.88) -> RunFixture {
        var run = RunFixture()
        run.seed = seed
        run.strategy = strategy
        run.candidates = [
            Candidate(accuracy: bestAccuracy, cycles: 160_000, ramBytes: 500, flashBytes: 4000),
            Candidate(accuracy: 0.8, cycles: 80000, ramBytes: 250, flashBytes: 3000),
            Candidate(outcome: "over_budget", accuracy: 0.95, cycles: 200_000, ramBytes: 1200, flashBytes: 5000),
            Candidate(outcome: "error"),
        ]
        run.front = [0, 1]
        run.pick = 0
        run.pickTestAccuracy = pickTest
        run.summaryFile = ["pick_val_accuracy": bestAccuracy, "pick_test_accuracy": pickTest, "float_test_accuracy": 0.9,
                           "float_val_accuracy": 0.95, "test_samples": 359, "val_samples": 359, "evaluations": 4, "front_size": 2]
        return run
    }

    func logText() throws -> String {
        var header: [String: Any] = [
            "type": "header", "tool": "mcutune", "tool_version": "0.1.0", "model": model, "target": target,
            "budget_ram_bytes": budgetRAMBytes, "budget_flash_bytes": budgetFlashBytes, "strategy": strategy, "seed": seed,
            "variables": ["x", "logits"], "offsets": [-3, 2], "float_val_accuracy": floatValAccuracy, "cost_model_calibrated": true,
            "fidelity_samples": 10, "fidelity_source": "val 10", "pick_rule": "accurate",
        ]
        if let clockHz { header["target_clock_hz"] = clockHz }
        var lines = [try Self.json(header)]
        for (i, c) in candidates.enumerated() {
            var line: [String: Any] = ["type": "candidate", "index": i, "strategy": strategy, "formats": [[16, 8], [16, 10]],
                                       "fingerprint": String(format: "%016x", i), "outcome": c.outcome]
            if let objectives = Self.objectives(c) { line["objectives"] = objectives } else { line["message"] = "failed" }
            lines.append(try Self.json(line))
        }
        if let front {
            var summary: [String: Any] = ["type": "summary", "evaluations": candidates.count, "interrupted": false, "front": front,
                                          "float_test_accuracy": floatTestAccuracy, "rejected_after_build": [Any]()]
            if let pick {
                summary["pick"] = pick
                summary["pick_test_accuracy"] = pickTestAccuracy
            }
            if let measuredCycles {
                summary["pick_measured"] = ["cycles": measuredCycles, "cycle_count": "cycle-accurate", "estimated_cycles": 160_000,
                                            "flash_bytes": 3900, "ram_bytes": 520, "static_ram_bytes": 480, "stack_bytes": 40,
                                            "measured_stack_bytes": 38, "samples": 8, "values": 80, "bit_exact_values": 80]
            }
            if !baselines.isEmpty {
                summary["baselines"] = baselines.mapValues { c -> [String: Any] in
                    var b: [String: Any] = ["outcome": c.outcome]
                    if let objectives = Self.objectives(c) { b["objectives"] = objectives }
                    return b
                }
            }
            lines.append(try Self.json(summary))
        }
        return lines.joined(separator: "\n") + "\n" + torn
    }

    static func objectives(_ c: Candidate) -> [String: Any]? {
        c.accuracy.map { ["accuracy": $0, "disagreement": 0.01, "logit_error": 0.001, "cycles": c.cycles, "ram_bytes": c.ramBytes,
                          "flash_bytes": c.flashBytes] }
    }

    /// Writes log.jsonl (and summary.json) into `directory` and returns it.
    @discardableResult
    func write(to directory: String = makeTemporaryDirectory("run")) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(logText().utf8).write(to: URL(fileURLWithPath: "\(directory)/log.jsonl"))
        if let summaryFile {
            let data = try JSONSerialization.data(withJSONObject: summaryFile, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
        }
        return directory
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// A batch directory: `manifest.jsonl`, `runs/<id>/`, and maybe `peers.json`.
struct BatchFixture {
    var runs: [(id: String, run: RunFixture)]
    var manifest: [[String: Any]]
    var peers: [[String: Any]]? = nil

    func write(to directory: String = makeTemporaryDirectory("batch")) throws -> String {
        for (id, run) in runs { try run.write(to: "\(directory)/runs/\(id)") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(manifest.map { try RunFixture.json($0) }.joined(separator: "\n").utf8 + [10])
            .write(to: URL(fileURLWithPath: "\(directory)/manifest.jsonl"))
        if let peers {
            try JSONSerialization.data(withJSONObject: peers).write(to: URL(fileURLWithPath: "\(directory)/peers.json"))
        }
        return directory
    }
}
