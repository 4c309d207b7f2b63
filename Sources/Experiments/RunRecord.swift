import Foundation
import Tuner

/// One run as reports and plots see it: its search log read back, its summary.json if it got that
/// far, and what a batch manifest says of it. Every field a log may lack is optional, so a run
/// stopped at any point (or written by an older `tune`) is still shown for what it holds.
public struct RunRecord: Sendable {
    /// The batch's run id, else the path given.
    public var id: String
    public var logPath: String?
    public var model: String?
    public var target: String?
    public var strategy: String?
    public var seed: UInt64?
    public var budgetRAMBytes: Int?
    public var budgetFlashBytes: Int?
    /// The board's clock: the log's `target_clock_hz`, else the bundled target description's.
    public var clockHz: Int?
    public var floatValAccuracy: Double?
    public var candidates: [SearchLog.CandidateLine] = []
    /// The log's summary line; nil while the run is unfinished.
    public var summary: SearchLog.Summary?
    public var summaryFile: SummaryFile?
    /// The manifest's latest state (`pending`, `started`, `done`, `failed`) and wall time, for batch runs.
    public var manifestState: String?
    public var seconds: Double?
    /// Lines of its log that were skipped, and figures it lacks.
    public var warnings: [String] = []

    public init(id: String) { self.id = id }

    /// The fields of summary.json (written by `tune` after the pick was built) that a report shows.
    public struct SummaryFile: Sendable, Equatable {
        public var pickValAccuracy: Double?
        public var pickTestAccuracy: Double?
        public var floatValAccuracy: Double?
        public var floatTestAccuracy: Double?
        public var testSamples: Int?
        public var valSamples: Int?
        public var measuredCycles: Double?
        public var measuredRAMBytes: Int?
        public var measuredFlashBytes: Int?
        public var evaluations: Int?
        public var frontSize: Int?

        public init(_ json: [String: Any]) {
            func double(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
            func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
            pickValAccuracy = double("pick_val_accuracy")
            pickTestAccuracy = double("pick_test_accuracy")
            floatValAccuracy = double("float_val_accuracy")
            floatTestAccuracy = double("float_test_accuracy")
            testSamples = int("test_samples")
            valSamples = int("val_samples")
            measuredCycles = double("measured_cycles")
            measuredRAMBytes = int("measured_ram_bytes")
            measuredFlashBytes = int("measured_flash_bytes")
            evaluations = int("evaluations")
            frontSize = int("front_size")
        }
    }

    /// What became of the run: `done`, `interrupted` (Ctrl-C; the summary holds the best so far),
    /// `unfinished` (no summary line: stopped, or still going), or, from the manifest, `failed`, or
    /// `pending` and `started` for a run without a log.
    public var state: String {
        if manifestState == "failed" { return "failed" }
        guard logPath != nil else { return manifestState ?? "unfinished" }
        guard let summary else { return "unfinished" }
        return summary.interrupted ? "interrupted" : "done"
    }

    public var isFinished: Bool { summary != nil }

    public func candidate(_ index: Int) -> SearchLog.CandidateLine? {
        if candidates.indices.contains(index), candidates[index].index == index { return candidates[index] }
        return candidates.first { $0.index == index }
    }

    // MARK: The pick

    public var pickIndex: Int? { summary?.pick }
    /// The pick's objectives as the search scored them (estimated cycles, RAM and flash).
    public var pickObjectives: Evaluation.Objectives? { pickIndex.flatMap { candidate($0)?.objectives } }
    public var pickValAccuracy: Double? { pickObjectives?.accuracy ?? summaryFile?.pickValAccuracy }
    public var pickTestAccuracy: Double? {
        guard pickIndex != nil else { return nil }
        return summary?.pickTestAccuracy ?? summaryFile?.pickTestAccuracy
    }
    public var floatTestAccuracy: Double? { summary?.floatTestAccuracy ?? summaryFile?.floatTestAccuracy }

    /// A figure of the pick, measured on the board's simulator where it was, else the cost model's estimate.
    public struct PickFigure<Value: Sendable>: Sendable {
        public var value: Value
        public var measured: Bool
    }

    public var pickCycles: PickFigure<Double>? {
        if let m = summary?.pickMeasured?.cycles ?? summaryFile?.measuredCycles { return PickFigure(value: m, measured: true) }
        return pickObjectives.map { PickFigure(value: $0.cycles, measured: false) }
    }
    public var pickRAMBytes: PickFigure<Int>? {
        if let m = summary?.pickMeasured?.ramBytes ?? summaryFile?.measuredRAMBytes { return PickFigure(value: m, measured: true) }
        return pickObjectives.map { PickFigure(value: $0.ramBytes, measured: false) }
    }
    public var pickFlashBytes: PickFigure<Int>? {
        if let m = summary?.pickMeasured?.flashBytes ?? summaryFile?.measuredFlashBytes { return PickFigure(value: m, measured: true) }
        return pickObjectives.map { PickFigure(value: $0.flashBytes, measured: false) }
    }

    /// Milliseconds per inference for `cycles` on this run's board.
    public func milliseconds(cycles: Double) -> Double? {
        guard let clockHz, clockHz > 0 else { return nil }
        return cycles / Double(clockHz) * 1000
    }

    // MARK: The front

    public var evaluations: Int { summary?.evaluations ?? summaryFile?.evaluations ?? candidates.count }
    /// The front the search reported (its summary's indices); nil while unfinished, or when a
    /// front point's line could not be read.
    public var frontObjectives: [Evaluation.Objectives]? {
        guard let summary else { return nil }
        let front = summary.front.compactMap { candidate($0)?.objectives }
        return front.count == summary.front.count ? front : nil
    }

    /// Area the front dominates in (validation error, RAM) against the RAM budget
    /// (`Pareto.hypervolume`, as `tune bench` compares strategies); nil while unfinished.
    public var hypervolume: Double? {
        guard let front = frontObjectives, let budget = budgetRAMBytes, budget > 0 else { return nil }
        return Pareto.hypervolume(front, ramReference: Double(budget))
    }

    /// The uniform 16- and 8-bit programs the search scored as reference points, if the log has them.
    public var baselines: [(name: String, baseline: SearchLog.Summary.Baseline)] {
        (summary?.baselines ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The parts a run's label is made of: model, target, strategy, seed and RAM budget.
    public var labelParts: [String] {
        [model ?? "?", target ?? "?", strategy ?? "?", seed.map { "seed \($0)" } ?? "seed ?",
         budgetRAMBytes.map { "RAM \($0) B" } ?? "RAM ?"]
    }

    /// Labels for `runs` that keep only the parts that differ between them (all of them when none
    /// do), say which are unfinished, and add the id where two runs would otherwise share one.
    public static func labels(_ runs: [RunRecord]) -> [String] {
        let parts = runs.map(\.labelParts)
        let differing = (0..<5).filter { k in Set(parts.map { $0[k] }).count > 1 }
        let keep = differing.isEmpty ? [0, 1, 2, 3] : differing
        var labels = zip(parts, runs).map { p, run in keep.map { p[$0] }.joined(separator: " / ") + (run.isFinished ? "" : ", unfinished") }
        let counts = Dictionary(labels.map { ($0, 1) }, uniquingKeysWith: +)
        for i in labels.indices where (counts[labels[i]] ?? 0) > 1 { labels[i] += " (\(runs[i].id))" }
        return labels
    }
}
