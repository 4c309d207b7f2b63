import Foundation

/// Renders a `RunReport` as Markdown (for reading and pasting), CSV (for spreadsheets; the runs, then
/// after a blank line the strategies, then the peers) or JSON (every figure unrounded, absent ones null).
public enum ReportTable {
    public enum Format: String, CaseIterable, Sendable {
        case md, csv, json
    }

    public static func render(_ report: RunReport, as format: Format) -> String {
        switch format {
        case .md: markdown(report)
        case .csv: csv(report)
        case .json: json(report)
        }
    }

    // MARK: Markdown

    static func markdown(_ report: RunReport) -> String {
        var out = "## Runs\n\n"
        out += markdownTable(["run", "model", "target", "strategy", "seed", "RAM budget", "float val", "float test", "pick val",
                              "pick test", "cycles", "ms", "RAM", "flash", "front", "evaluations", "time", "state"],
                             report.rows.map { r in
                                 [r.id, r.model ?? "-", r.target ?? "-", r.strategy ?? "-", r.seed.map { "\($0)" } ?? "-",
                                  r.budgetRAMBytes.map { "\($0) B" } ?? "-", percent(r.floatValAccuracy), percent(r.floatTestAccuracy),
                                  percent(r.pickValAccuracy),
                                  percent(r.pickTestAccuracy) + (r.testSamples.map { " of \($0)" } ?? ""),
                                  r.cycles.map { count(Int($0.rounded())) + source(r.cyclesMeasured) } ?? "-",
                                  r.milliseconds.map { String(format: "%.2f", $0) } ?? "-",
                                  r.ramBytes.map { "\($0) B" + source(r.ramMeasured) } ?? "-",
                                  r.flashBytes.map { "\($0) B" + source(r.flashMeasured) } ?? "-",
                                  r.frontSize.map { "\($0)" } ?? "-", r.evaluations.map { "\($0)" } ?? "-", duration(r.seconds), r.state]
                             })
        out += "\n## Strategies\n\nHypervolume of the front in (validation error, RAM) against the RAM budget (larger is better), "
            + "and the pick's test accuracy, over the finished runs' seeds.\n\n"
        out += markdownTable(["model", "target", "RAM budget", "strategy", "runs", "seeds", "hypervolume mean", "hypervolume min-max",
                              "pick test min", "pick test max", "pick test mean"],
                             report.groups.map { g in
                                 [g.model, g.target, g.budgetRAMBytes.map { "\($0) B" } ?? "-", g.strategy,
                                  "\(g.runs)" + (g.unfinished > 0 ? " (+\(g.unfinished) unfinished)" : ""),
                                  g.seeds.isEmpty ? "-" : g.seeds.map(String.init).joined(separator: ", "),
                                  fixed(g.hypervolumeMean), g.hypervolumeMin.map { "\(fixed($0))-\(fixed(g.hypervolumeMax))" } ?? "-",
                                  percent(g.pickTestMin), percent(g.pickTestMax), percent(g.pickTestMean)]
                             })
        if !report.peers.isEmpty {
            out += "\n## Peers\n\n"
            out += markdownTable(["name", "model", "target", "accuracy", "ms", "RAM", "flash"], report.peers.map { p in
                [p.name, p.model ?? "-", p.target ?? "-", percent(p.accuracyFraction), p.milliseconds.map { String(format: "%.2f", $0) } ?? "-",
                 p.ramBytes.map { "\($0) B" } ?? "-", p.flashBytes.map { "\($0) B" } ?? "-"]
            })
        }
        return out
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        let rule = "|" + header.map { _ in "---|" }.joined() + "\n"
        return line(header) + rule + rows.map(line).joined()
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
    static func fixed(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
    static func source(_ measured: Bool?) -> String { measured == true ? " (measured)" : " (est.)" }

    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = n < 0 ? "-" : ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    // MARK: CSV

    static func csv(_ report: RunReport) -> String {
        var out = csvLine(runKeys)
        for r in report.rows { out += csvLine(runValues(r).map(csvCell)) }
        out += "\n" + csvLine(groupKeys)
        for g in report.groups { out += csvLine(groupValues(g).map(csvCell)) }
        if !report.peers.isEmpty {
            out += "\n" + csvLine(peerKeys)
            for p in report.peers { out += csvLine(peerValues(p).map(csvCell)) }
        }
        return out
    }

    static func csvLine(_ cells: [String]) -> String { cells.joined(separator: ",") + "\n" }

    static func csvCell(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "" }
        let text = (value as? [UInt64]).map { $0.map(String.init).joined(separator: " ") } ?? "\(value)"
        guard text.contains(where: { ",\"\n".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: JSON

    static func json(_ report: RunReport) -> String {
        func object(_ keys: [String], _ values: [Any?]) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: zip(keys, values.map { $0 ?? NSNull() }))
        }
        let document: [String: Any] = [
            "runs": report.rows.map { object(runKeys, runValues($0)) },
            "strategies": report.groups.map { object(groupKeys, groupValues($0)) },
            "peers": report.peers.map { object(peerKeys, peerValues($0)) },
            "warnings": report.warnings,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    // MARK: The columns of csv and json

    static let runKeys = ["id", "model", "target", "strategy", "seed", "budget_ram_bytes", "float_val_accuracy", "float_test_accuracy",
                          "pick_val_accuracy", "pick_test_accuracy", "test_samples", "cycles", "milliseconds", "cycles_source",
                          "ram_bytes", "ram_source", "flash_bytes", "flash_source", "front_size", "evaluations", "hypervolume",
                          "seconds", "state"]

    static func runValues(_ r: RunReport.Row) -> [Any?] {
        func source(_ measured: Bool?) -> String? { measured.map { $0 ? "measured" : "estimated" } }
        return [r.id, r.model, r.target, r.strategy, r.seed, r.budgetRAMBytes, r.floatValAccuracy, r.floatTestAccuracy,
                r.pickValAccuracy, r.pickTestAccuracy, r.testSamples, r.cycles, r.milliseconds, source(r.cyclesMeasured),
                r.ramBytes, source(r.ramMeasured), r.flashBytes, source(r.flashMeasured), r.frontSize, r.evaluations,
                r.hypervolume, r.seconds, r.state]
    }

    static let groupKeys = ["model", "target", "budget_ram_bytes", "strategy", "runs", "unfinished", "seeds", "hypervolume_mean",
                            "hypervolume_min", "hypervolume_max", "pick_test_accuracy_min", "pick_test_accuracy_max",
                            "pick_test_accuracy_mean"]

    static func groupValues(_ g: RunReport.Group) -> [Any?] {
        [g.model, g.target, g.budgetRAMBytes, g.strategy, g.runs, g.unfinished, g.seeds,
         g.hypervolumeMean, g.hypervolumeMin, g.hypervolumeMax, g.pickTestMin, g.pickTestMax, g.pickTestMean]
    }

    static let peerKeys = ["name", "model", "target", "accuracy", "milliseconds", "ram_bytes", "flash_bytes"]

    static func peerValues(_ p: PeerResult) -> [Any?] {
        [p.name, p.model, p.target, p.accuracyFraction, p.milliseconds, p.ramBytes, p.flashBytes]
    }
}
