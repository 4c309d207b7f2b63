/// min ‖A x − b‖ subject to x ≥ 0, by Lawson and Hanson's active-set method ("Solving Least
/// Squares Problems", 1974, chapter 23): variables enter the passive set by the largest gradient,
/// the unconstrained solution on the passive set is taken where it stays positive, and otherwise the
/// step is cut back to the boundary and the variables that reach zero leave.
///
/// Costs are sums of non-negative parts, so a negative coefficient would only fit noise. Columns
/// are scaled to unit norm first (counts range from 1 call to 10⁵ multiply-accumulates), and the
/// passive-set systems are solved on the Gram matrix with a tiny ridge for columns that coincide.
public enum NonNegativeLeastSquares {
    /// `rows[i]` · x ≈ `targets[i]`; returns x (one value per column).
    public static func solve(rows: [[Double]], targets: [Double], maxIterations: Int = 2000) -> [Double] {
        guard let n = rows.first?.count, n > 0 else { return [] }
        var norms = [Double](repeating: 0, count: n)
        for row in rows { for j in 0..<n { norms[j] += row[j] * row[j] } }
        norms = norms.map { $0 > 0 ? $0.squareRoot() : 1 }
        // Gram matrix and right-hand side of the scaled problem.
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var rhs = [Double](repeating: 0, count: n)
        for (row, target) in zip(rows, targets) {
            let scaled = (0..<n).map { row[$0] / norms[$0] }
            for i in 0..<n where scaled[i] != 0 {
                rhs[i] += scaled[i] * target
                for j in 0..<n where scaled[j] != 0 { gram[i][j] += scaled[i] * scaled[j] }
            }
        }
        let ridge = 1e-10 * max(1, (0..<n).reduce(0) { $0 + gram[$1][$1] })
        var x = [Double](repeating: 0, count: n)
        var passive = [Bool](repeating: false, count: n)
        func gradient() -> [Double] {
            (0..<n).map { i in rhs[i] - (0..<n).reduce(0) { $0 + gram[i][$1] * x[$1] } }
        }
        let tolerance = 1e-12 * max(1, rhs.map(abs).max() ?? 1)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            let w = gradient()
            guard let enter = (0..<n).filter({ !passive[$0] && w[$0] > tolerance }).max(by: { w[$0] < w[$1] }) else { break }
            passive[enter] = true
            while true {
                let indices = (0..<n).filter { passive[$0] }
                let s = solvePassive(gram: gram, rhs: rhs, indices: indices, ridge: ridge)
                var z = [Double](repeating: 0, count: n)
                for (k, i) in indices.enumerated() { z[i] = s[k] }
                if indices.allSatisfy({ z[$0] > 0 }) {
                    x = z
                    break
                }
                // Step from x towards z until the first passive variable reaches zero.
                var alpha = 1.0
                for i in indices where z[i] <= 0 {
                    let denominator = x[i] - z[i]
                    if denominator > 0 { alpha = min(alpha, x[i] / denominator) }
                }
                for i in 0..<n { x[i] += alpha * (z[i] - x[i]) }
                for i in indices where x[i] <= 1e-15 {
                    passive[i] = false
                    x[i] = 0
                }
                if !passive.contains(true) { break }
            }
        }
        return (0..<n).map { x[$0] / norms[$0] }
    }

    /// Solves gram[P][P] s = rhs[P], with `ridge` on the diagonal.
    private static func solvePassive(gram: [[Double]], rhs: [Double], indices: [Int], ridge: Double) -> [Double] {
        var a = indices.map { i in indices.map { gram[i][$0] } }
        for k in 0..<indices.count { a[k][k] += ridge }
        return LinearSystem.solveSymmetric(a, indices.map { rhs[$0] })
    }
}

/// Small dense linear systems.
enum LinearSystem {
    /// Solves a s = b by Gaussian elimination with partial pivoting; a singular direction gets 0.
    static func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
        let m = rhs.count
        var a = matrix, b = rhs
        for column in 0..<m {
            guard let pivot = (column..<m).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }), abs(a[pivot][column]) > 0 else { continue }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<m where a[row][column] != 0 {
                let factor = a[row][column] / a[column][column]
                for j in column..<m { a[row][j] -= factor * a[column][j] }
                b[row] -= factor * b[column]
            }
        }
        var s = [Double](repeating: 0, count: m)
        for row in stride(from: m - 1, through: 0, by: -1) {
            let sum = ((row + 1)..<m).reduce(b[row]) { $0 - a[row][$1] * s[$1] }
            s[row] = a[row][row] != 0 ? sum / a[row][row] : 0
        }
        return s
    }

    /// Solves a s = b for a symmetric positive semi-definite `a` (a Gram matrix) by elimination
    /// in column order without pivoting, touching only non-zero entries: a Gram matrix of kernel
    /// terms is nearly block-diagonal (a benchmark piece has one kernel's terms), so with the
    /// columns every block shares placed last, each block is eliminated within itself and only the
    /// last columns fill in. A pivot that vanishes (a column that repeats earlier ones) gets 0.
    static func solveSymmetric(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
        let m = rhs.count
        var a = matrix, b = rhs
        var later = [[Int]](repeating: [], count: m)
        var singular = [Bool](repeating: false, count: m)
        for column in 0..<m {
            let pivot = a[column][column]
            guard pivot > 1e-12 * max(1, abs(matrix[column][column])) else { singular[column] = true; continue }
            // By symmetry the rows below with a non-zero in this column are the columns right of it.
            let nonZero = ((column + 1)..<m).filter { a[column][$0] != 0 }
            later[column] = nonZero
            for row in nonZero {
                let factor = a[row][column] / pivot
                guard factor != 0 else { continue }
                for j in nonZero { a[row][j] -= factor * a[column][j] }
                b[row] -= factor * b[column]
            }
        }
        var s = [Double](repeating: 0, count: m)
        for row in stride(from: m - 1, through: 0, by: -1) where !singular[row] {
            let sum = later[row].reduce(b[row]) { $0 - a[row][$1] * s[$1] }
            s[row] = sum / a[row][row]
        }
        return s
    }

    /// min Σ (targets − intercept − rows·x)² + ridge ‖x‖², the intercept unpenalised; (intercept, x).
    static func ridge(rows: [[Double]], targets: [Double], ridge: Double) -> (intercept: Double, x: [Double]) {
        let n = (rows.first?.count ?? 0) + 1
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var rhs = [Double](repeating: 0, count: n)
        for (row, target) in zip(rows, targets) {
            let r = [1] + row
            for i in 0..<n {
                rhs[i] += r[i] * target
                for j in 0..<n { gram[i][j] += r[i] * r[j] }
            }
        }
        for k in 1..<n { gram[k][k] += ridge }
        let s = solve(gram, rhs)
        return (s.first ?? 0, Array(s.dropFirst()))
    }
}
