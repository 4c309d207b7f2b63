import Foundation

/// What `tune report` shows of a collection of runs: one row per run, then per (model, target, RAM
/// budget, strategy) the mean hypervolume over seeds and the seed-to-seed spread of the pick's test
/// accuracy, and the peers' figures. Values stay typed here; `ReportTable` renders them.
public struct RunReport: Sendable {
    public struct Row: Sendable {
        public var id: String
        public var model: String?
        public var target: String?
        public var strategy: String?
        public var seed: UInt64?
        public var budgetRAMBytes: Int?
        public var floatValAccuracy: Double?
        public var floatTestAccuracy: Double?
        public var pickValAccuracy: Double?
        public var pickTestAccuracy: Double?
        public var testSamples: Int?
        public var cycles: Double?
        public var milliseconds: Double?
        /// Whether cycles, RAM and flash were measured on the board's simulator (else estimated).
        public var cyclesMeasured: Bool?
        public var ramBytes: Int?
        public var ramMeasured: Bool?
        public var flashBytes: Int?
        public var flashMeasured: Bool?
        public var frontSize: Int?
        public var evaluations: Int?
        public var hypervolume: Double?
        public var seconds: Double?
        public var state: String
    }

    /// The runs of one strategy on one (model, target, RAM budget), over their seeds. Only finished
    /// runs count; `unfinished` says how many others there were.
    public struct Group: Sendable {
        public var model: String
        public var target: String
        public var budgetRAMBytes: Int?
        public var strategy: String
        public var runs: Int
        public var unfinished: Int
        public var seeds: [UInt64]
        public var hypervolumeMean: Double?
        public var hypervolumeMin: Double?
        public var hypervolumeMax: Double?
        public var pickTestMin: Double?
        public var pickTestMax: Double?
        public var pickTestMean: Double?
    }

    public var rows: [Row]
    public var groups: [Group]
    public var peers: [PeerResult]
    public var warnings: [String]

    public init(_ collection: RunCollection) {
        rows = collection.runs.map(Self.row)
        groups = Self.groups(collection.runs)
        peers = collection.peers
        warnings = collection.warnings
    }

    static func row(_ run: RunRecord) -> Row {
        let cycles = run.pickCycles
        let ram = run.pickRAMBytes
        let flash = run.pickFlashBytes
        return Row(id: run.id, model: run.model, target: run.target, strategy: run.strategy, seed: run.seed,
                   budgetRAMBytes: run.budgetRAMBytes,
                   floatValAccuracy: run.floatValAccuracy ?? run.summaryFile?.floatValAccuracy,
                   floatTestAccuracy: run.floatTestAccuracy,
                   pickValAccuracy: run.isFinished ? run.pickValAccuracy : nil, pickTestAccuracy: run.pickTestAccuracy,
                   testSamples: run.pickTestAccuracy == nil ? nil : run.summaryFile?.testSamples,
                   cycles: cycles?.value, milliseconds: cycles.flatMap { run.milliseconds(cycles: $0.value) },
                   cyclesMeasured: cycles?.measured, ramBytes: ram?.value, ramMeasured: ram?.measured,
                   flashBytes: flash?.value, flashMeasured: flash?.measured,
                   frontSize: run.summary?.front.count ?? run.summaryFile?.frontSize,
                   evaluations: run.logPath == nil ? nil : run.evaluations, hypervolume: run.hypervolume,
                   seconds: run.seconds, state: run.state)
    }

    static func groups(_ runs: [RunRecord]) -> [Group] {
        struct Key: Hashable { var model: String, target: String, budget: Int?, strategy: String }
        var order: [Key] = []
        var members: [Key: [RunRecord]] = [:]
        for run in runs where run.logPath != nil {
            let key = Key(model: run.model ?? "?", target: run.target ?? "?", budget: run.budgetRAMBytes, strategy: run.strategy ?? "?")
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(run)
        }
        let sorted = order.sorted { a, b in
            (a.model, a.target, a.budget ?? 0, a.strategy) < (b.model, b.target, b.budget ?? 0, b.strategy)
        }
        return sorted.map { key in
            let all = members[key] ?? []
            let finished = all.filter(\.isFinished)
            let volumes = finished.compactMap(\.hypervolume)
            let tests = finished.compactMap(\.pickTestAccuracy)
            return Group(model: key.model, target: key.target, budgetRAMBytes: key.budget, strategy: key.strategy,
                         runs: finished.count, unfinished: all.count - finished.count, seeds: finished.compactMap(\.seed).sorted(),
                         hypervolumeMean: mean(volumes), hypervolumeMin: volumes.min(), hypervolumeMax: volumes.max(),
                         pickTestMin: tests.min(), pickTestMax: tests.max(), pickTestMean: mean(tests))
        }
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
