import Foundation
import Hardware

/// The cost model's coefficients fitted to measurements: cycles per count of every piece (node or
/// glue) by non-negative least squares on relative errors, each API call's own overhead from what
/// its pieces leave unexplained, code bytes per count of each program's code likewise, and the
/// deepest analysed stack as the search's stack estimate.
public struct CalibrationFit: Sendable {
    public var cycles: [String: Double]
    public var codeBytes: [String: Double]
    public var stackBytes: Int
    /// Relative errors of the fit on its own data: `piece_*`, `call_*` (whole API calls), `flash_*`,
    /// each as `median_abs` and `worst_abs`.
    public var residuals: [String: Double]

    /// `shiftsBitByBit`: whether the core's shifts cost by distance (`Target.Core.shiftsBitByBit`).
    /// Where they do not (a Cortex-M shifts any distance in one instruction), the per-bit shift
    /// counts (`.bits`) are left out: with few benchmarks of a kernel they would otherwise absorb its
    /// per-row cost (FastGRNN-style `dense.w16.x16.a64.k1` on the M4: 0.96 cycles a bit and nothing
    /// a row, so a layer whose shifts were whole bytes was priced at a fifth of what it took).
    public init(_ measurements: [ProgramMeasurement], shiftsBitByBit: Bool = true) {
        let pieces = measurements.flatMap(\.pieces).filter { !$0.features.isEmpty }
        var cycles = Self.fit(pieces.map { (Self.fitted($0.features, shiftsBitByBit: shiftsBitByBit), $0.cycles) }, floor: 20)
        // A call costs its pieces plus its own entry and exit: the median of what they leave.
        for call in CostFeatures.Call.allCases {
            let key = "api.\(call.rawValue)"
            let left = measurements.flatMap(\.calls).filter { $0.features[key] != nil }.map { sample in
                sample.cycles - Self.price(sample.features.filter { $0.key != key }, cycles)
            }
            if !left.isEmpty { cycles[key] = max(0, Self.median(left)) }
        }
        let code = measurements.map { ($0.codeFeatures, Double($0.codeBytes)) }
        let codeBytes = Self.fit(code, floor: 50)
        self.cycles = cycles
        self.codeBytes = codeBytes
        self.stackBytes = measurements.map(\.stackBytes).max() ?? 0
        var residuals: [String: Double] = [:]
        func record(_ name: String, _ errors: [Double]) {
            guard !errors.isEmpty else { return }
            residuals["\(name)_median_abs"] = Self.median(errors.map(abs))
            residuals["\(name)_worst_abs"] = errors.map(abs).max() ?? 0
        }
        record("piece", pieces.filter { $0.cycles >= 50 }.map { Self.price($0.features, cycles) / $0.cycles - 1 })
        record("call", measurements.flatMap(\.calls).map { Self.price($0.features, cycles) / $0.cycles - 1 })
        record("flash", measurements.map { Self.price($0.codeFeatures, codeBytes) / Double(max($0.codeBytes, 1)) - 1 })
        self.residuals = residuals
    }

    /// The counts of a piece the fit sees: without the per-bit shift counts where shifts do not cost by distance.
    static func fitted(_ features: [String: Double], shiftsBitByBit: Bool) -> [String: Double] {
        shiftsBitByBit ? features : features.filter { !$0.key.hasSuffix(".bits") }
    }

    /// As `CostCoefficients.price` prices (a kernel's own term plus the shared one), without the
    /// nearest-relative lookup: every key priced here was fitted.
    static func price(_ features: [String: Double], _ coefficients: [String: Double]) -> Double {
        // In key order, as `CostCoefficients.price`: a sum in a dictionary's order differs from run to run.
        features.keys.sorted().reduce(0) { total, key in
            let shared = CostFeatures.sharedTerm(of: key).flatMap { coefficients[$0] } ?? 0
            return total + (features[key] ?? 0) * ((coefficients[key] ?? 0) + shared)
        }
    }

    /// How hard the fit holds a kernel's own requantization, shift or bias term at zero, per cycle,
    /// against the relative errors of the rows: 0.002 makes 10 cycles weigh like a 2% miss on one
    /// row. A term that many benchmarks need moves freely; one that two or three benchmarks share
    /// with other terms (so that any split of their cycles fits) stays at the shared price, instead
    /// of taking a split like 86 cycles per bit of a 32-bit left shift.
    static let ownTermPenalty = 0.002

    /// Coefficients minimising the relative error of each row (targets below `floor` weigh as if
    /// they were `floor`, so tiny pieces do not dominate). Every coefficient is non-negative but a
    /// kernel's per-call term (`.call`), an intercept that may come out negative where the compiler
    /// shares a kernel's setup with its caller.
    static func fit(_ rows: [([String: Double], Double)], floor: Double) -> [String: Double] {
        // A least-squares fit gives each outlier (a kernel the compiler folded to nearly nothing, a
        // loop it vectorised) a pull in proportion to its squared error; so fit, leave out the rows
        // the fit misses by more than four times the median miss, and fit again (twice).
        var kept = rows
        var coefficients = fitOnce(kept, floor: floor)
        for _ in 0..<2 {
            let misses = kept.map { abs(price($0.0, coefficients) / max($0.1, floor) - $0.1 / max($0.1, floor)) }
            let limit = max(4 * median(misses), 0.02)
            let next = zip(kept, misses).filter { $0.1 <= limit }.map(\.0)
            guard next.count < kept.count, next.count > rows.count / 2 else { break }
            kept = next
            coefficients = fitOnce(kept, floor: floor)
        }
        return coefficients
    }

    static func fitOnce(_ rows: [([String: Double], Double)], floor: Double) -> [String: Double] {
        let own = Set(rows.flatMap { $0.0.keys })
        // Each kernel's requantization, shift and bias terms also count towards the term they share.
        let shared = Dictionary(uniqueKeysWithValues: own.compactMap { key in CostFeatures.sharedTerm(of: key).map { (key, $0) } })
        // Columns: each kernel's own terms, the negated per-call terms, then the shared terms (last:
        // they couple every kernel, and the solver eliminates them after the kernels' own blocks).
        let sharedKeys = Set(shared.values).subtracting(own).sorted()
        let ownKeys = own.sorted()
        let keys = ownKeys + sharedKeys
        guard !keys.isEmpty else { return [:] }
        // A free coefficient is the difference of two non-negative ones.
        let free = ownKeys.filter { $0.hasSuffix(".call") }
        let columns = keys.count + free.count
        let position = ownKeys.enumerated().map { ($1, $0) } + sharedKeys.enumerated().map { ($1, ownKeys.count + free.count + $0) }
        let index = Dictionary(uniqueKeysWithValues: position)
        let negated = Dictionary(uniqueKeysWithValues: free.enumerated().map { ($1, ownKeys.count + $0) })
        var matrix: [[Double]] = [], targets: [Double] = []
        for (features, target) in rows {
            let weight = 1 / max(target, floor)
            var row = [Double](repeating: 0, count: columns)
            for key in features.keys.sorted() {
                guard let value = features[key] else { continue }
                if let i = index[key] { row[i] += value * weight }
                if let j = negated[key] { row[j] -= value * weight }
                if let s = shared[key].flatMap({ index[$0] }) { row[s] += value * weight }
            }
            matrix.append(row)
            targets.append(target * weight)
        }
        for key in shared.keys.sorted() {
            guard let i = index[key] else { continue }
            var row = [Double](repeating: 0, count: columns)
            row[i] = ownTermPenalty
            matrix.append(row)
            targets.append(0)
        }
        let solution = NonNegativeLeastSquares.solve(rows: matrix, targets: targets, maxIterations: max(2000, 2 * columns))
        var result: [String: Double] = [:]
        for key in keys {
            guard let i = index[key] else { continue }
            let value = solution[i] - (negated[key].map { solution[$0] } ?? 0)
            result[key] = (value * 1000).rounded() / 1000
        }
        return result
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
