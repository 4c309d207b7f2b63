import Evaluator
/// A plain-text table with left-aligned text columns and right-aligned numeric columns.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns to right-align.
    var numeric: Set<Int>

    init(_ header: [String], numeric: Set<Int> = []) {
        self.header = header
        self.numeric = numeric
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return numeric.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

enum Format {
    static func percent(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
    static func signedPercent(_ v: Double) -> String { String(format: "%+.1f%%", v * 100) }
    static func signed(_ v: Int) -> String { v > 0 ? "+\(v)" : "\(v)" }

    /// "97.49% [95.3, 98.7] of 359": an accuracy, its 95% Wilson interval and its samples.
    static func accuracy(_ v: Double, samples: Int) -> String {
        let interval = Accuracy.wilson(accuracy: v, samples: samples)
        return String(format: "%.2f%% [%.1f, %.1f] of %d", v * 100, interval.lowerBound * 100, interval.upperBound * 100, samples)
    }

    static func bytes(_ n: Int) -> String {
        n >= 1024 * 1024 ? String(format: "%.1f MB", Double(n) / 1048576)
            : n >= 1024 ? String(format: "%.1f KB", Double(n) / 1024) : "\(n) B"
    }

    static func count(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }

    /// " (1.23 ms)": cycles at the board's clock.
    static func milliseconds(_ cycles: Double, clockHz: Int) -> String {
        String(format: " (%.2f ms)", cycles / Double(max(clockHz, 1)) * 1000)
    }

    static func hertz(_ n: Int) -> String { n % 1_000_000 == 0 ? "\(n / 1_000_000) MHz" : String(format: "%.1f MHz", Double(n) / 1e6) }
}

import Foundation
