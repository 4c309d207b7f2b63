import Testing
import Hardware
@testable import Devices

/// The calibration's least-squares fit: exact where the benchmarks determine the coefficients, and
/// a kernel's own requantization term held at the shared price where they do not.
@Suite struct CalibrationFitTests {
    /// Rows of `a` (whose requantization varies against its work) and of `b` (whose benchmarks all
    /// requantize once per 8 multiply-accumulates, so that any split of b's cycles between the two
    /// fits them). Every requantization truly costs 30 cycles, a's MAC 4 and b's 6.
    static var rows: [([String: Double], Double)] {
        var rows: [([String: Double], Double)] = []
        for (macs, outputs) in [(64.0, 4.0), (128, 32), (256, 8), (512, 64), (96, 24), (300, 10)] {
            rows.append((["a.call": 1, "a.mac": macs, "a.rq.a32.r": outputs], 50 + 4 * macs + 30 * outputs))
        }
        for outputs in [4.0, 10, 16, 40] {
            rows.append((["b.call": 1, "b.mac": 8 * outputs, "b.rq.a32.r": outputs], 40 + 6 * 8 * outputs + 30 * outputs))
        }
        return rows
    }

    @Test func aKernelsOwnRequantizationTermStaysAtTheSharedPriceWhereItsBenchmarksCannotTellIt() {
        let fit = CalibrationFit.fit(Self.rows, floor: 20)
        let own = fit["b.rq.a32.r"] ?? 0, shared = fit["rq.a32.r"] ?? 0
        #expect(abs(shared - 30) < 1, "shared \(shared)")
        #expect(abs(own) < 1, "b's own \(own)")
        #expect(abs((fit["b.mac"] ?? 0) - 6) < 0.2, "b.mac \(fit["b.mac"] ?? 0)")
        // So b with another ratio of outputs to work is priced as it runs.
        let query: [String: Double] = ["b.call": 1, "b.mac": 64, "b.rq.a32.r": 64]
        let truth = 40 + 6 * 64 + 30 * 64.0
        #expect(abs(CalibrationFit.price(query, fit) / truth - 1) < 0.03)
        // And every row the fit was given is priced within 1%.
        for (features, cycles) in Self.rows {
            #expect(abs(CalibrationFit.price(features, fit) / cycles - 1) < 0.01, "\(features)")
        }
    }

    /// The three benchmarks nano33ble's calibration had of `dense.w16.x16.a64.k1` (rows, bits of their
    /// shifts, cycles measured): the bits happen to explain the cycles better than the rows, so
    /// fitted bit by bit the kernel cost nothing a row, and a layer of 16 rows whose shifts were whole
    /// bytes was priced at 99 cycles where it took 454. A Cortex-M shifts any distance in one
    /// instruction: without the per-bit counts, the rows carry the cycles.
    @Test func onABarrelShifterTheRowsCyclesDoNotGoToShiftBits() {
        let rows: [([String: Double], Double)] = [(9.0, 162.0, 196.0), (5, 130, 170), (25, 475, 500)].map { outputs, bits, cycles in
            (["k.call": 1, "k.row": outputs, "k.mac": outputs, "k.lshift.a64.loop": outputs, "k.lshift.a64.loop.bits": bits], cycles)
        }
        func layer(_ outputs: Double) -> [String: Double] { ["k.call": 1, "k.row": outputs, "k.mac": outputs, "k.lshift.a64.moves": outputs] }
        let barrel = CalibrationFit.fit(rows.map { (CalibrationFit.fitted($0.0, shiftsBitByBit: false), $0.1) }, floor: 20)
        #expect(barrel.keys.allSatisfy { !$0.hasSuffix(".bits") })
        let perRow = (CalibrationFit.price(layer(32), barrel) - CalibrationFit.price(layer(16), barrel)) / 16
        #expect(perRow > 10, "\(barrel)")
        // Bit by bit, as on an AVR, the same rows price a row at nearly nothing.
        let bitByBit = CalibrationFit.fit(rows.map { (CalibrationFit.fitted($0.0, shiftsBitByBit: true), $0.1) }, floor: 20)
        #expect((CalibrationFit.price(layer(32), bitByBit) - CalibrationFit.price(layer(16), bitByBit)) / 16 < 2, "\(bitByBit)")
        #expect(CalibrationFit.price(layer(16), barrel) > 2 * CalibrationFit.price(layer(16), bitByBit))
    }

    /// The sparse elimination the fit's passive sets use agrees with Gaussian elimination with
    /// partial pivoting on Gram matrices of random sparse rows (blocks of terms and a few shared ones).
    @Test(arguments: 0..<20) func theSymmetricSolverAgreesWithPivotingElimination(seed: Int) {
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let n = 12 + seed % 9
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for _ in 0..<(3 * n) {
            // One block of three terms and, half the time, one of the last two (shared) terms.
            let block = Int(next() * Double(n - 2) / 3) * 3
            var row = [Double](repeating: 0, count: n)
            for j in block..<min(block + 3, n - 2) where next() < 0.8 { row[j] = next() * 10 }
            if next() < 0.5 { row[n - 2 + Int(next() * 2)] = next() }
            for i in 0..<n where row[i] != 0 { for j in 0..<n where row[j] != 0 { gram[i][j] += row[i] * row[j] } }
        }
        for i in 0..<n { gram[i][i] += 1e-3 }
        let b = (0..<n).map { _ in next() - 0.5 }
        let sparse = LinearSystem.solveSymmetric(gram, b), dense = LinearSystem.solve(gram, b)
        for i in 0..<n { #expect(abs(sparse[i] - dense[i]) <= 1e-6 * max(1, abs(dense[i])), "\(i): \(sparse[i]) vs \(dense[i])") }
    }
}
