import Foundation
import Testing
@testable import FixedPoint

/// The integer sigmoid, tanh and exp against Foundation's, at 16-bit input and output. The bounds
/// asserted here are the ones stated in docs/fixed-point.md.
@Suite struct ActivationAccuracyTests {
    /// Max |approximation − exact| over every int16 input in format Q`fx`, output in Q15 (sigmoid/tanh).
    func maxError(fx: Int, _ approx: (Int64) -> Int64, _ exact: (Double) -> Double) -> Double {
        var worst = 0.0
        for x in Int64(Int16.min)...Int64(Int16.max) {
            let v = Double(x) / pow(2, Double(fx))
            worst = max(worst, abs(Double(approx(x)) / 32768 - exact(v)))
        }
        return worst
    }

    @Test(arguments: [8, 11, 12, 14])
    func sigmoidWithinThreeTenThousandths(fx: Int) {
        let error = maxError(fx: fx, { ActivationTables.sigmoidQ15($0, fracBits: fx) }, { 1 / (1 + Foundation.exp(-$0)) })
        #expect(error < 3.0e-4, "sigmoid Q\(fx): \(error)")
    }

    @Test(arguments: [8, 11, 12, 14])
    func tanhWithinSixTenThousandths(fx: Int) {
        let error = maxError(fx: fx, { ActivationTables.tanhQ15($0, fracBits: fx) }, { Foundation.tanh($0) })
        #expect(error < 6.0e-4, "tanh Q\(fx): \(error)")
    }

    @Test func expRelativeErrorBelowOnePerMille() {
        // Inputs in [-8, 2] (Q11), outputs in Q12: relative error where the output has at least 10 significant bits.
        let out = TensorFormat(bits: 16, fracBits: 12)
        var worst = 0.0
        for x in Int64(-8 * 2048)...Int64(2 * 2048) {
            let exact = Foundation.exp(Double(x) / 2048)
            guard exact * 4096 >= 1024 else { continue }
            let approx = Double(ActivationTables.exp(x, fracBits: 11, output: out)) / 4096
            worst = max(worst, abs(approx - exact) / exact)
        }
        #expect(worst < 1.0e-3, "exp relative error \(worst)")
    }
}
