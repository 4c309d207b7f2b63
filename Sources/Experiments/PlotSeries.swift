import Foundation
import Tuner

/// One run's points as a figure draws them, in the columns of its `.dat` file: every evaluated
/// candidate, the Pareto front of the `ok` ones in the figure's two axes, the pick (where measured
/// and where estimated), and the uniform baselines.
struct PlotSeries {
    /// A row of a `.dat` file: a name, then validation and test accuracy in %, latency in ms, RAM
    /// and flash in bytes; nil is written `NaN` (gnuplot skips it).
    struct Point: Equatable {
        var name: String
        var valPercent: Double?
        var testPercent: Double?
        var milliseconds: Double?
        var ramBytes: Double?
        var flashBytes: Double?

        static let columns = ["name", "val_accuracy_pct", "test_accuracy_pct", "latency_ms", "ram_bytes", "flash_bytes"]

        func value(_ axis: ParetoPlot.XAxis) -> Double? {
            switch axis {
            case .latency: milliseconds
            case .ram: ramBytes
            case .flash: flashBytes
            }
        }

        func value(_ axis: ParetoPlot.YAxis) -> Double? {
            switch axis {
            case .val: valPercent
            case .test: testPercent
            }
        }
    }

    var run: RunRecord
    var okCandidates: [Point] = []
    /// Scored but not within the budgets or the loss limit.
    var otherCandidates: [Point] = []
    /// Sorted by x, each more accurate than the one before: the staircase of what the best
    /// accuracy is for a given x.
    var front: [Point] = []
    /// Where the pick is drawn: measured on the simulator where it was, else as estimated.
    var pick: Point?
    /// The pick as the cost model estimated it, when it was measured elsewhere (the two are joined by a line).
    var pickEstimate: Point?
    /// Whether the pick's x is a measurement on the board's simulator.
    var pickIsMeasured = false
    var baselines: [(name: String, ok: Bool, point: Point)] = []

    init(run: RunRecord, x: ParetoPlot.XAxis, y: ParetoPlot.YAxis) {
        self.run = run
        for candidate in run.candidates {
            guard let objectives = candidate.objectives else { continue }
            let point = Self.point("\(candidate.index)", objectives, run: run)
            if candidate.outcome == .ok { okCandidates.append(point) } else { otherCandidates.append(point) }
        }
        front = Self.front(okCandidates, x: x)
        if let pickIndex = run.pickIndex, let objectives = run.pickObjectives {
            var estimate = Self.point("\(pickIndex)", objectives, run: run)
            estimate.testPercent = run.pickTestAccuracy.map { $0 * 100 }
            var measured = estimate
            if let cycles = run.pickCycles, cycles.measured { measured.milliseconds = run.milliseconds(cycles: cycles.value) }
            if let ram = run.pickRAMBytes, ram.measured { measured.ramBytes = Double(ram.value) }
            if let flash = run.pickFlashBytes, flash.measured { measured.flashBytes = Double(flash.value) }
            pick = measured
            pickIsMeasured = switch x {
            case .latency: run.pickCycles?.measured ?? false
            case .ram: run.pickRAMBytes?.measured ?? false
            case .flash: run.pickFlashBytes?.measured ?? false
            }
            if measured.value(x) != estimate.value(x) { pickEstimate = estimate }
        }
        for (name, baseline) in run.baselines {
            guard let objectives = baseline.objectives else { continue }
            baselines.append((name, baseline.outcome == .ok, Self.point(name, objectives, run: run)))
        }
    }

    static func point(_ name: String, _ o: Evaluation.Objectives, run: RunRecord) -> Point {
        Point(name: name, valPercent: o.accuracy * 100, testPercent: nil, milliseconds: run.milliseconds(cycles: o.cycles),
              ramBytes: Double(o.ramBytes), flashBytes: Double(o.flashBytes))
    }

    /// The points no other beats in both (x down, validation accuracy up), sorted by x.
    static func front(_ points: [Point], x: ParetoPlot.XAxis) -> [Point] {
        let drawable = points.filter { $0.value(x) != nil && $0.valPercent != nil }
        let sorted = drawable.sorted { a, b in
            let (ax, bx) = (a.value(x) ?? 0, b.value(x) ?? 0)
            return ax < bx || ax == bx && (a.valPercent ?? 0) > (b.valPercent ?? 0)
        }
        var front: [Point] = []
        for point in sorted where (point.valPercent ?? 0) > (front.last?.valPercent ?? -.infinity) { front.append(point) }
        return front
    }

    /// Every point drawn on (x, y): what the axes' ranges must hold.
    func drawn(x: ParetoPlot.XAxis, y: ParetoPlot.YAxis) -> (candidates: [Point], marked: [Point]) {
        let candidates = y == .val ? okCandidates + otherCandidates : []
        var marked = (y == .val ? front + baselines.map(\.point) : []) + [pick, pickEstimate].compactMap { $0 }
        marked = marked.filter { $0.value(x) != nil && $0.value(y) != nil }
        return (candidates.filter { $0.value(x) != nil && $0.value(y) != nil }, marked)
    }

    // MARK: The .dat file

    /// The blocks of the run's `.dat` file, in `index` order, then one per baseline.
    static let blocks = ["ok candidates", "other scored candidates (over a budget or the loss limit)",
                         "Pareto front of the ok candidates in the figure's axes, by x", "the pick as drawn (measured where it was)",
                         "the pick as estimated, then as measured (the line between them)"]

    func dataFile(header: String) -> String {
        var out = "# \(header)\n# columns: " + Point.columns.joined(separator: " ") + "\n"
        var sections: [(String, [Point])] = [
            (Self.blocks[0], okCandidates), (Self.blocks[1], otherCandidates), (Self.blocks[2], front),
            (Self.blocks[3], pick.map { [$0] } ?? []),
            (Self.blocks[4], pickEstimate.flatMap { e in pick.map { [e, $0] } } ?? []),
        ]
        for baseline in baselines { sections.append(("baseline \(baseline.name)" + (baseline.ok ? "" : " (not ok)"), [baseline.point])) }
        for (i, (title, points)) in sections.enumerated() {
            if i > 0 { out += "\n\n" }
            out += "# index \(i): \(title)\n"
            // gnuplot counts a block only if it has a row: an empty one gets a row of NaN, which it skips.
            out += points.isEmpty ? Self.row(Point(name: "none")) : points.map(Self.row).joined()
        }
        return out
    }

    /// The `index` of baseline `k` in the `.dat` file.
    static func baselineBlock(_ k: Int) -> Int { blocks.count + k }

    static func row(_ p: Point) -> String {
        func number(_ v: Double?) -> String {
            guard let v, v.isFinite else { return "NaN" }
            return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v)
        }
        return "\"\(Gnuplot.dataString(p.name))\" " + [p.valPercent, p.testPercent, p.milliseconds, p.ramBytes, p.flashBytes]
            .map(number).joined(separator: " ") + "\n"
    }
}
