import Foundation

/// The gnuplot commands of one panel: settings, reference lines, then one `plot` whose clauses
/// draw, per run, the faint candidates, the front as a step line, the baselines and the pick, then
/// the peers and a legend of what each symbol means.
extension PlotPanel {
    func commands() -> [String] {
        var lines = [
            "unset arrow", "unset label",
            "set title \(Gnuplot.quoted(title))",
            "set xlabel \(Gnuplot.quoted(xLabel))", "set ylabel \(Gnuplot.quoted(yLabel))",
            "set xrange [\(Self.number(xRange.low)):\(Self.number(xRange.high))]",
            "set yrange [\(Self.number(yRange.low)):\(Self.number(yRange.high))]",
            "set format x \"%g\"", "set format y \"%g\"",
            "set border 3", "set tics nomirror out", "set mxtics", "set mytics",
            "set grid back lc rgb \"#e4e4e4\" lw 1",
            "set key outside below center horizontal Left reverse maxcols 3 spacing 1.2 samplen 2.5 width 1 height 1",
        ]
        lines += referenceLines()
        let clauses = entries.flatMap(clauses) + peerClauses() + legend()
        lines.append("plot \\\n    " + clauses.joined(separator: ", \\\n    "))
        return lines
    }

    /// The float model as a dashed horizontal line, each front carried on to the right edge, the
    /// budgets as vertical lines (an arrow toward one far beyond the data), and a note of the
    /// candidates below the range.
    private func referenceLines() -> [String] {
        var lines: [String] = []
        for value in floatLines {
            let y = Self.number(value)
            lines.append("set arrow from graph 0, first \(y) to graph 1, first \(y) nohead dt 2 lw 1.5 lc rgb \"#444444\" back")
        }
        // The front goes on to the right edge: nothing to its right is more accurate.
        for entry in entries where y == .val {
            guard let last = entry.series.front.last, let px = last.value(x), let py = last.valPercent else { continue }
            lines.append("set arrow from first \(Self.number(px)), first \(Self.number(py)) to graph 1, first \(Self.number(py)) nohead "
                + "lw 2.5 lc rgb \"\(entry.colour)\" back")
        }
        let memory = x == .ram ? "RAM" : "flash"
        for budget in budgets where !hiddenBudgets.contains(budget) {
            lines.append("set arrow from first \(budget), graph 0 to first \(budget), graph 1 nohead dt 4 lw 2 lc rgb \"black\" front")
            // Its label beside it near the bottom, on the side with room.
            let onLeft = (Double(budget) - xRange.low) / max(xRange.high - xRange.low, 1e-9) > 0.7
            lines.append("set label \(Gnuplot.quoted("\(memory) budget \(budget) B")) at first \(budget), graph 0.12 "
                + (onLeft ? "right offset char -0.6,0" : "left offset char 0.6,0") + " textcolor rgb \"black\" front")
        }
        for (i, budget) in hiddenBudgets.enumerated() {
            let height = Self.number(0.5 - 0.07 * Double(i))
            lines.append("set arrow from graph 0.88, graph \(height) to graph 1, graph \(height) head filled size graph 0.015,20 lw 2 lc rgb \"black\" front")
            lines.append("set label \(Gnuplot.quoted("\(memory) budget \(budget) B")) at graph 0.87, graph \(height) right "
                + "textcolor rgb \"black\" front")
        }
        var notes: [String] = []
        if hiddenCandidates > 0 {
            notes.append("\(hiddenCandidates) candidate\(hiddenCandidates == 1 ? "" : "s") below \(String(format: "%.1f", yRange.low))% not shown")
        }
        for (i, note) in notes.enumerated() {
            lines.append("set label \(Gnuplot.quoted(note)) at graph 0.99, graph \(Self.number(0.03 + 0.05 * Double(i))) right "
                + "textcolor rgb \"#555555\" front")
        }
        return lines
    }

    /// One run's clauses; only blocks with points are drawn, so gnuplot has nothing to warn about.
    private func clauses(_ entry: Entry) -> [String] {
        let s = entry.series, file = Gnuplot.quoted(entry.dataFile), using = "using \(x.column):\(y.column)"
        let colour = entry.colour.dropFirst()
        func drawable(_ points: [PlotSeries.Point]) -> Bool { points.contains { $0.value(x) != nil && $0.value(y) != nil } }
        var out: [String] = []
        if y == .val {
            // Faint: about 65% transparent (gnuplot's #AARRGGBB counts alpha as transparency).
            if drawable(s.otherCandidates) { out.append("\(file) index 1 \(using) with points pt 6 ps 0.5*P lc rgb \"#A0\(colour)\" notitle") }
            if drawable(s.okCandidates) { out.append("\(file) index 0 \(using) with points pt 7 ps 0.5*P lc rgb \"#A0\(colour)\" notitle") }
            if drawable(s.front) {
                out.append("\(file) index 2 \(using) with steps lw 2.5 lc rgb \"\(entry.colour)\" notitle")
                out.append("\(file) index 2 \(using) with points pt 7 ps 0.9*P lc rgb \"\(entry.colour)\" notitle")
            }
        }
        if let estimate = s.pickEstimate, drawable([estimate]) {
            out.append("\(file) index 4 \(using) with lines dt 3 lw 1.5 lc rgb \"\(entry.colour)\" notitle")
            out.append("\(file) index 4 every ::0::0 \(using) with points pt 8 ps 1.8*P lw 1.5 lc rgb \"\(entry.colour)\" notitle")
        }
        if let pick = s.pick, drawable([pick]) {
            out.append("\(file) index 3 \(using) with points pt 9 ps 2.8*P lc rgb \"\(entry.colour)\" notitle")
            out.append("\(file) index 3 \(using) with points pt 8 ps 2.8*P lw 1.5 lc rgb \"black\" notitle")
        }
        // The baselines over the pick: one may sit where the pick is, and the smaller symbol stays visible on the larger.
        if y == .val {
            for (k, baseline) in s.baselines.enumerated() where drawable([baseline.point]) {
                let symbol = Self.baselineSymbol(baseline.name)
                let block = "\(file) index \(PlotSeries.baselineBlock(k)) \(using) with points"
                if baseline.ok { out.append("\(block) pt \(symbol.filled) ps 1.8*P lc rgb \"\(entry.colour)\" notitle") }
                out.append("\(block) pt \(symbol.open) ps 1.8*P lw 1.5 lc rgb \"\(baseline.ok ? "black" : entry.colour)\" notitle")
            }
        }
        return out
    }

    private func peerClauses() -> [String] {
        guard let peersFile else { return [] }
        return ["\(Gnuplot.quoted(peersFile)) using \(x.column):\(y.column):1 with labels point pt 3 ps 2*P lw 1.5 lc rgb \"black\" "
            + "offset char 0.8,0.8 left textcolor rgb \"black\" notitle"]
    }

    /// The legend: a colour per run (when there are several), then what each symbol means, for the
    /// symbols present.
    private func legend() -> [String] {
        var keys: [String] = []
        func key(_ style: String, _ title: String) { keys.append("keyentry with \(style) title \(Gnuplot.quoted(title))") }
        let single = entries.count == 1
        if !single { for entry in entries { key("lines lw 6 lc rgb \"\(entry.colour)\"", entry.label) } }
        let ink = single ? entries.first?.colour ?? "black" : "#555555"
        let series = entries.map(\.series)
        if y == .val {
            if series.contains(where: { !$0.okCandidates.isEmpty }) { key("points pt 7 ps 0.6*P lc rgb \"#80\(ink.dropFirst())\"", "candidates within the budgets") }
            if series.contains(where: { !$0.otherCandidates.isEmpty }) {
                key("points pt 6 ps 0.6*P lc rgb \"#80\(ink.dropFirst())\"", "candidates over a budget or the loss limit")
            }
            if series.contains(where: { !$0.front.isEmpty }) { key("linespoints pt 7 ps 0.9*P lw 2.5 lc rgb \"\(ink)\"", "Pareto front (these two axes)") }
        }
        if series.contains(where: { $0.pick != nil }) {
            let picks = series.filter { $0.pick != nil }
            let title = picks.allSatisfy(\.pickIsMeasured) ? "pick, measured on the board's simulator"
                : picks.contains(where: \.pickIsMeasured) ? "pick, measured on the board's simulator where it was" : "pick (as estimated)"
            key("points pt 9 ps 2.2*P lc rgb \"\(ink)\"", title)
        }
        if series.contains(where: { $0.pickEstimate != nil }) { key("linespoints pt 8 ps 1.4*P dt 3 lw 1.5 lc rgb \"\(ink)\"", "pick as the cost model estimated it") }
        if y == .val {
            for name in Set(series.flatMap { $0.baselines.map(\.name) }).sorted(by: Self.baselineOrder) {
                let symbol = Self.baselineSymbol(name)
                key("points pt \(symbol.filled) ps 1.6*P lc rgb \"\(ink)\"", Self.baselineTitle(name))
            }
        }
        for value in floatLines { key("lines dt 2 lw 1.5 lc rgb \"#444444\"", String(format: "float model, %.2f%%", value)) }
        if budgets.contains(where: { !hiddenBudgets.contains($0) }) { key("lines dt 4 lw 2 lc rgb \"black\"", "\(x == .ram ? "RAM" : "flash") budget") }
        if !peers.isEmpty { key("points pt 3 ps 1.6*P lw 1.5 lc rgb \"black\"", "peers (peers.json)") }
        return keys
    }

    /// Filled and open point types: all16 a square, all8 a diamond, any other a pentagon.
    static func baselineSymbol(_ name: String) -> (filled: Int, open: Int) {
        switch name {
        case "all16": (5, 4)
        case "all8": (13, 12)
        default: (15, 14)
        }
    }

    static func baselineTitle(_ name: String) -> String {
        guard name.hasPrefix("all"), let bits = Int(name.dropFirst(3)) else { return "baseline \(name)" }
        return "uniform \(bits)-bit (\(name))"
    }

    static func baselineOrder(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Int(a.dropFirst(3)) ?? 0, Int(b.dropFirst(3)) ?? 0)
        return x != y ? x > y : a < b
    }
}
