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

    public init(_ measurements: [ProgramMeasurement]) {
        let pieces = measurements.flatMap(\.pieces).filter { !$0.features.isEmpty }
        var cycles = Self.fit(pieces.map { ($0.features, $0.cycles) }, floor: 20)
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

    static func price(_ features: [String: Double], _ coefficients: [String: Double]) -> Double {
        features.reduce(0) { $0 + $1.value * (coefficients[$1.key] ?? 0) }
    }

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
        let keys = Array(Set(rows.flatMap { $0.0.keys })).sorted()
        guard !keys.isEmpty else { return [:] }
        // A free coefficient is the difference of two non-negative ones.
        let free = keys.filter { $0.hasSuffix(".call") }
        let columns = keys.count + free.count
        let index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        let negated = Dictionary(uniqueKeysWithValues: free.enumerated().map { ($1, keys.count + $0) })
        var matrix: [[Double]] = [], targets: [Double] = []
        for (features, target) in rows {
            let weight = 1 / max(target, floor)
            var row = [Double](repeating: 0, count: columns)
            for (key, value) in features {
                if let i = index[key] { row[i] = value * weight }
                if let j = negated[key] { row[j] = -value * weight }
            }
            matrix.append(row)
            targets.append(target * weight)
        }
        let solution = NonNegativeLeastSquares.solve(rows: matrix, targets: targets)
        var result: [String: Double] = [:]
        for (i, key) in keys.enumerated() {
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
