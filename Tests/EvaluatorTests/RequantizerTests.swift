import Testing
@testable import Evaluator
import FixedPoint

/// The BLAS path's vectorised requantization and input quantization against the integer
/// definitions they replace (`IntegerArithmetic.requantized`, `TensorFormat.quantize`).
@Suite struct RequantizerTests {
    /// A small deterministic generator (xorshift64*), so the sampled values are the same each run.
    struct Values {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
        /// A signed value below 2^bits in magnitude.
        mutating func signed(bits: Int) -> Int64 {
            let magnitude = Int64(next() >> UInt64(64 - bits))
            return next() & 1 == 0 ? magnitude : -magnitude
        }
    }

    @Test(arguments: [8, 16])
    func requantizationMatchesTheIntegerDefinition(bits: Int) {
        var values = Values()
        for shift in -20...60 {
            let format = TensorFormat(bits: bits, fracBits: 0)
            let requantize = Requantizer(shift: shift, format: format)
            var xs: [Int64] = Array(-40_000...40_000)
            // Around every rounding boundary of this shift: q·2^s + 2^(s-1) + {-1, 0, 1}.
            if shift > 0 && shift < 52 {
                for q in Int64(-70)...70 { for d in Int64(-1)...1 { xs.append(q << shift + (Int64(1) << (shift - 1)) + d) } }
            }
            for _ in 0..<20_000 { xs.append(values.signed(bits: shift < 0 ? 40 : 51)) }
            // The domain the BLAS path uses it on (`Requantizer.isExact`).
            xs = xs.filter { Requantizer.isExact(bound: Double($0.magnitude)) }
            var mismatches = 0, first = ""
            for x in xs where requantize(Double(x)) != Double(IntegerArithmetic.requantized(x, shift: shift, bits: bits)) {
                if mismatches == 0 { first = "x \(x): \(requantize(Double(x))) against \(IntegerArithmetic.requantized(x, shift: shift, bits: bits))" }
                mismatches += 1
            }
            #expect(mismatches == 0, "shift \(shift), \(bits) bits, first \(first)")
        }
    }

    @Test func quantizationMatchesTensorFormat() {
        var values = Values()
        for format in [TensorFormat(bits: 8, fracBits: 5), TensorFormat(bits: 16, fracBits: 12), TensorFormat(bits: 16, fracBits: -2)] {
            let scale = Double(sign: .plus, exponent: format.fracBits, significand: 1)
            var xs: [Double] = [0, -0.0, .infinity, -.infinity, 1e300, -1e300]
            // Every tie (k + ½)/scale and its neighbours, over the whole range and past it.
            for k in -70_000...70_000 {
                let tie = (Double(k) + 0.5) / scale
                xs += [tie, tie.nextUp, tie.nextDown]
            }
            for _ in 0..<50_000 { xs.append(Double(values.signed(bits: 40)) / Double(1 << 20)) }
            let fast = FixedKernels.quantize(xs, scale: scale, lo: Double(format.minInt), hi: Double(format.maxInt))
            let mismatches = zip(xs, fast).filter { Double(format.quantize($0)) != $1 }.count
            #expect(mismatches == 0, "\(format)")
        }
    }
}
