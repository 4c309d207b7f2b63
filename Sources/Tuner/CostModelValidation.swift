import Devices
import Dispatch
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The cost model against the board's simulator on candidates the tuner itself evaluates: every
/// point of its front and random others from its log, each built and run on the simulator; the
/// model's cycles and flash are set beside the measured ones. The question it answers is the one
/// the search asks: does the cost model rank and size candidates as the board does?
public enum CostModelValidation {
    public struct Row: Sendable {
        public var candidate: Int
        public var onFront: Bool
        public var predictedCycles: Double
        public var measuredCycles: Double
        public var predictedFlash: Int
        public var measuredFlash: Int
        public var isBitExact: Bool
        /// Whether the kernel profile measured every node of the candidate at its own signature
        /// (false without a profile): its cycles are then what was measured, not a fit or a neighbour's.
        public var kernelsMeasured = false

        public var cycleError: Double { predictedCycles / max(measuredCycles, 1) - 1 }
        public var flashError: Double { Double(predictedFlash) / Double(max(measuredFlash, 1)) - 1 }
    }

    public struct Summary: Sendable {
        public var model: String
        public var rows: [Row]
        public var failures: [String]
        /// Candidates of the search whose fused runs were measured before they were priced (`measureRuns`).
        public var runsMeasured = 0

        public init(model: String, rows: [Row], failures: [String], runsMeasured: Int = 0) {
            self.model = model
            self.rows = rows
            self.failures = failures
            self.runsMeasured = runsMeasured
        }

        public var medianCycleError: Double { median(rows.map { abs($0.cycleError) }) }
        public var worstCycleError: Double { rows.map { abs($0.cycleError) }.max() ?? 0 }
        public var spearman: Double { CostModelValidation.spearman(rows.map(\.predictedCycles), rows.map(\.measuredCycles)) }
        /// Pairs of candidates whose measured cycles lie more than `CostModelValidation.separation`
        /// apart, and how many of them the cost model orders as the board does: the ranking a search
        /// needs, where Spearman also counts near-ties that no cost model could order (candidates a
        /// few cycles apart).
        public var separatedPairs: (ordered: Int, total: Int) {
            CostModelValidation.orderedPairs(rows.map(\.predictedCycles), rows.map(\.measuredCycles))
        }
        public var medianFlashError: Double { median(rows.map { abs($0.flashError) }) }
        public var worstFlashError: Double { rows.map { abs($0.flashError) }.max() ?? 0 }
    }

    /// Tunes `model` (genetic, `seed`, within the board's memory), takes the front and random other
    /// evaluated candidates up to `count` distinct ones, and measures each on `device` over `samples`
    /// test samples (`jobs` at a time).
    /// With `profiling`, the search and the predictions price with the model's kernel profile; with
    /// `measureRuns` too, with each candidate's fused runs measured as the search met them.
    public static func run(model: LoadedModel, dataset: Dataset, device: any Device, seed: UInt64, count: Int, samples: Int,
                           jobs: Int, directory: String, profiling: KernelProfiling? = nil, measureRuns: Bool = false) throws -> Summary {
        let target = device.target
        let budgets = EmulatorCandidateEvaluator.Budgets(ramBytes: target.ramBytes, flashBytes: target.flashBytes, maxLoss: nil)
        let result = try TuningJob(model: model, dataset: dataset, target: target,
                                   settings: .init(strategy: .genetic, seed: seed, budgets: budgets, profiling: profiling,
                                                   profileDirectory: "\(directory)/\(model.graph.name)-profile", measureRuns: measureRuns)).run()
        let profile = result.profile?.profile
        // Up to a third from the front, spread over its cycles (a front can hold dozens of points of
        // nearly equal cost), and the rest drawn at random from the log.
        let byCycles = result.front.sorted { (result.trials[$0].evaluation.objectives?.cycles ?? 0, $0) < (result.trials[$1].evaluation.objectives?.cycles ?? 0, $1) }
        let fromFront = min(byCycles.count, max(1, count / 3))
        var chosen = (0..<fromFront).map { byCycles[$0 * byCycles.count / fromFront] }
        var generator = SeededGenerator(seed: seed &+ 1)
        // Candidates the board can hold: within its memory (those over the accuracy limit count too).
        var pool = result.trials.indices.filter {
            [.ok, .overLoss].contains(result.trials[$0].evaluation.outcome) && !chosen.contains($0)
        }
        while chosen.count < count, !pool.isEmpty {
            chosen.append(pool.remove(at: Int(generator.next() % UInt64(pool.count))))
        }
        let test = try dataset.load(split: dataset.availableSplits.contains("test") ? "test" : "val")
        let programs = try chosen.map { try FixedProgram(graph: model.graph, config: result.space.config(for: result.trials[$0].candidate)) }
        let front = Set(result.front), picked = chosen
        let outcomes = ParallelJobs.map(picked.count, jobs: jobs) { i in
            let m = try FirmwareMeasurement.run(program: programs[i], device: device, split: test, maxSamples: samples,
                                               directory: "\(directory)/\(model.graph.name)-\(picked[i])", profile: profile)
            try? programs[i].config.write(to: "\(directory)/\(model.graph.name)-\(picked[i])/config.json")
            return Row(candidate: picked[i], onFront: front.contains(picked[i]), predictedCycles: m.meanPredictedCycles,
                       measuredCycles: m.meanCycles, predictedFlash: m.prediction.flashBytes,
                       measuredFlash: m.firmware.programFlash, isBitExact: m.isBitExact,
                       kernelsMeasured: profile?.unmeasuredPairs(of: programs[i], dsp: target.core.hasDSP, avr: target.core == .avr).isEmpty ?? false)
        }
        var rows: [Row] = [], failures: [String] = []
        for (i, outcome) in outcomes.enumerated() {
            switch outcome {
            case let .success(row): rows.append(row)
            case let .failure(error): failures.append("#\(picked[i]): \(String(describing: error).split(separator: "\n").first ?? "")")
            }
        }
        return Summary(model: model.graph.name, rows: rows, failures: failures, runsMeasured: result.runsMeasured)
    }

    /// How far apart two measurements must lie for their order to count (`orderedPairs`).
    public static let separation = 0.01

    /// Of the pairs whose `measured` values differ by more than `separation` of the larger, how
    /// many `predicted` orders the same way.
    public static func orderedPairs(_ predicted: [Double], _ measured: [Double]) -> (ordered: Int, total: Int) {
        var ordered = 0, total = 0
        for i in measured.indices where i < predicted.count {
            for j in measured.indices where j > i && j < predicted.count {
                let (a, b) = (measured[i], measured[j])
                guard abs(a - b) > separation * max(abs(a), abs(b)) else { continue }
                total += 1
                if (predicted[i] - predicted[j]) * (a - b) > 0 { ordered += 1 }
            }
        }
        return (ordered, total)
    }

    /// Spearman's rank correlation (ties take their mean rank).
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, a.count > 1 else { return 1 }
        func ranks(_ v: [Double]) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count), i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
                for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
                i = j + 1
            }
            return r
        }
        let (x, y) = (ranks(a), ranks(b))
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let cov = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let vx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }, vy = y.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        return vx > 0 && vy > 0 ? cov / (vx * vy).squareRoot() : 1
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
