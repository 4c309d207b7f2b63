import Foundation

/// One panel of a Pareto plot: the runs of one model (or all of them) on two axes, and the gnuplot
/// commands that draw it. The ranges are chosen here rather than by gnuplot's autoscale so that
/// the budget line and the reference points are always in view, and so that a long tail of
/// hopeless candidates does not squash the front against the top edge (how many are cut off is
/// written on the figure).
struct PlotPanel {
    struct Entry {
        var label: String
        var colour: String
        /// The `.dat` file's name, relative to the script.
        var dataFile: String
        var series: PlotSeries
    }

    var x: ParetoPlot.XAxis
    var y: ParetoPlot.YAxis
    var title: String
    var entries: [Entry]
    var peers: [PlotSeries.Point]
    var peersFile: String?
    var floatLines: [Double]
    var budgets: [Int]
    var xRange: (low: Double, high: Double) = (0, 1)
    var yRange: (low: Double, high: Double) = (0, 100)
    /// Candidates below the y range, and budgets beyond the x range.
    var hiddenCandidates = 0
    var hiddenBudgets: [Int] = []

    /// Tableau's ten colours: one per run.
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    init(runs: [RunRecord], peers: [PeerResult], x: ParetoPlot.XAxis, y: ParetoPlot.YAxis, fileStem: String) {
        self.x = x
        self.y = y
        let labels = RunRecord.labels(runs)
        entries = runs.enumerated().map { i, run in
            Entry(label: labels[i], colour: Self.colours[i % Self.colours.count], dataFile: "\(fileStem)-run\(i + 1).dat",
                  series: PlotSeries(run: run, x: x, y: y))
        }
        self.peers = peers.compactMap { peer in
            let percent = peer.accuracyFraction.map { $0 * 100 }
            let point = PlotSeries.Point(name: peer.name, valPercent: percent, testPercent: percent, milliseconds: peer.milliseconds,
                                         ramBytes: peer.ramBytes.map(Double.init), flashBytes: peer.flashBytes.map(Double.init))
            return point.value(x) != nil && point.value(y) != nil ? point : nil
        }
        peersFile = self.peers.isEmpty ? nil : "\(fileStem)-peers.dat"
        let floats = runs.compactMap { y == .val ? $0.floatValAccuracy : $0.floatTestAccuracy }.map { $0 * 100 }
        floatLines = floats.reduce(into: []) { kept, v in if !kept.contains(where: { abs($0 - v) < 1e-9 }) { kept.append(v) } }
        let budgetValues: [Int] = switch x {
        case .latency: []
        case .ram: runs.compactMap(\.budgetRAMBytes)
        case .flash: runs.compactMap(\.budgetFlashBytes)
        }
        budgets = Array(Set(budgetValues)).sorted()
        title = Self.title(runs, x: x, y: y)
        fitRanges()
    }

    var hasData: Bool {
        entries.contains { !$0.series.drawn(x: x, y: y).candidates.isEmpty || !$0.series.drawn(x: x, y: y).marked.isEmpty }
            || !peers.isEmpty
    }

    // MARK: Ranges

    private mutating func fitRanges() {
        let drawn = entries.map { $0.series.drawn(x: x, y: y) }
        let candidates = drawn.flatMap(\.candidates)
        let marked = drawn.flatMap(\.marked) + peers
        // y: everything marked (front, picks, baselines, peers, float) in full; the candidates' tail
        // only as far as 3 times the marked span (5 points at least) below the top, so the front keeps its detail.
        let markedY = marked.compactMap { $0.value(y) } + floatLines
        let allY = markedY + candidates.compactMap { $0.value(y) }
        let top = allY.max() ?? 100
        let markedLow = markedY.min() ?? allY.min() ?? 0
        let floor = top - max(3 * (top - markedLow), 5)
        let low = max(allY.min() ?? 0, min(markedLow, floor))
        let pad = max(0.5, 0.06 * (top - low))
        yRange = (max(0, low - pad), min(top + pad, max(top, 100) + 0.5))
        hiddenCandidates = candidates.filter { ($0.value(y) ?? 0) < yRange.low }.count
        // x: every point that is in the y range; a budget only if it is no more than twice the
        // data's width away (a default flash budget of the whole board would leave an empty plot).
        let xs = (candidates.filter { ($0.value(y) ?? 0) >= yRange.low } + marked).compactMap { $0.value(x) }
        let dataHigh = xs.max() ?? 1
        let shown = budgets.filter { Double($0) <= 2 * dataHigh }
        hiddenBudgets = budgets.filter { !shown.contains($0) }
        let lowX = (xs + shown.map(Double.init)).min() ?? 0
        let highX = (xs + shown.map(Double.init)).max() ?? 1
        let span = max(highX - lowX, highX * 0.05, 1e-9)
        xRange = (lowX < 0.4 * highX ? 0 : lowX - 0.06 * span, highX + 0.06 * span)
    }

    // MARK: Text

    static func title(_ runs: [RunRecord], x: ParetoPlot.XAxis, y: ParetoPlot.YAxis) -> String {
        let models = unique(runs.map { $0.model ?? "?" }), targets = unique(runs.map { $0.target ?? "?" })
        var lines = ["\(models.joined(separator: ", ")) on \(targets.joined(separator: ", ")): "
            + "\(y == .val ? "validation" : "test") accuracy against \(x.name)"]
        if runs.count == 1, let run = runs.first {
            var facts = ["\(run.strategy ?? "?") search, seed \(run.seed.map(String.init) ?? "?")"]
            if let budget = run.budgetRAMBytes { facts.append("RAM budget \(budget) B") }
            facts.append("\(run.candidates.count) candidates" + (run.summary.map { ", \($0.front.count) on the 5-objective front" } ?? ""))
            if !run.isFinished { facts.append("unfinished") }
            lines.append(facts.joined(separator: "; "))
        } else {
            let unfinished = runs.filter { !$0.isFinished }.count
            lines.append("\(runs.count) runs" + (unfinished > 0 ? ", \(unfinished) unfinished" : ""))
        }
        if y == .test { lines.append("only the picks and the float model have a test accuracy: candidates and baselines are not shown") }
        return lines.joined(separator: "\n")
    }

    var xLabel: String {
        switch x {
        case .latency:
            let runs = entries.map(\.series.run)
            let boards = Self.unique(runs.map { "\($0.target ?? "?")\u{1F}\($0.clockHz ?? 0)" })
            if boards.count == 1, let run = runs.first, let clock = run.clockHz {
                return "latency per inference (ms on \(run.target ?? "?") at \(Self.megahertz(clock)) MHz)"
            }
            return "latency per inference (ms, each run on its board's clock)"
        case .ram: return "RAM (bytes)"
        case .flash: return "flash (bytes)"
        }
    }

    var yLabel: String { y == .val ? "validation accuracy (%)" : "test accuracy (%)" }

    static func megahertz(_ hz: Int) -> String {
        let mhz = Double(hz) / 1e6
        return mhz == mhz.rounded() ? String(Int(mhz)) : String(format: "%.1f", mhz)
    }

    static func unique(_ values: [String]) -> [String] {
        values.reduce(into: []) { kept, v in if !kept.contains(v) { kept.append(v) } }
    }

    static func number(_ v: Double) -> String { String(format: "%.6g", v) }
}

extension ParetoPlot.XAxis {
    var name: String {
        switch self {
        case .latency: "latency"
        case .ram: "RAM"
        case .flash: "flash"
        }
    }

    /// Its column in the `.dat` files (1-based, as gnuplot counts).
    var column: Int {
        switch self {
        case .latency: 4
        case .ram: 5
        case .flash: 6
        }
    }
}

extension ParetoPlot.YAxis {
    var column: Int { self == .val ? 2 : 3 }
}
