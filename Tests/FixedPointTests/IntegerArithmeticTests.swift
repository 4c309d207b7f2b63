import Foundation
import Testing
@testable import FixedPoint

/// The integer primitives against a wider, independent reference (exact rational arithmetic on
/// Double, which holds these magnitudes exactly), over every int8 pair and sampled int16 values.
@Suite struct IntegerArithmeticTests {
    /// floor(x / 2^s + 1/2), the definition of a right shift rounding halves up.
    func referenceShift(_ x: Int64, _ s: Int) -> Int64 { Int64((Double(x) / pow(2, Double(s)) + 0.5).rounded(.down)) }

    func referenceSaturate(_ x: Int64, bits: Int) -> Int64 {
        let hi = Int64(1) << (bits - 1) - 1
        return Swift.min(Swift.max(x, -hi - 1), hi)
    }

    /// requant by definition: x · 2^(−shift), rounded half up, saturated.
    func referenceRequant(_ x: Int64, shift: Int, bits: Int) -> Int64 {
        let scaled = Double(x) * pow(2, Double(-shift))
        let rounded = (scaled + 0.5).rounded(.down)
        let hi = Double(Int64(1) << (bits - 1) - 1)
        return Int64(Swift.min(Swift.max(rounded, -hi - 1), hi))
    }

    @Test func saturatingAddOverEveryInt8Pair() {
        for a in Int64(Int8.min)...Int64(Int8.max) {
            for b in Int64(Int8.min)...Int64(Int8.max) {
                let expected = Int64(Int8(clamping: Int16(a) + Int16(b)))
                #expect(IntegerArithmetic.saturated(a + b, bits: 8) == expected)
            }
        }
    }

    @Test func requantizedProductOverEveryInt8PairAndShift() {
        var failures = 0
        for a in Int64(Int8.min)...Int64(Int8.max) {
            for b in Int64(Int8.min)...Int64(Int8.max) {
                for shift in -9...16 {
                    for bits in [8, 16] where IntegerArithmetic.requantized(a * b, shift: shift, bits: bits) != referenceRequant(a * b, shift: shift, bits: bits) {
                        failures += 1
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test func roundingShiftOverSampledInt32() {
        var x: Int64 = -(Int64(1) << 31)
        var failures = 0
        while x < Int64(1) << 31 {
            for s in 1...31 where IntegerArithmetic.shiftedRightRounding(x, by: s) != referenceShift(x, s) { failures += 1 }
            x += 65_521  // a prime stride visits every residue class
        }
        #expect(failures == 0)
    }

    @Test func requantizedOverEveryInt16AtEveryShift() {
        var failures = 0
        for x in Int64(Int16.min)...Int64(Int16.max) {
            for shift in [-16, -15, -8, -3, -1, 0, 1, 2, 7, 8, 15, 16, 17, 40] {
                for bits in [8, 16] where IntegerArithmetic.requantized(x, shift: shift, bits: bits) != referenceRequant(x, shift: shift, bits: bits) {
                    failures += 1
                }
            }
            #expect(IntegerArithmetic.saturated(x, bits: 8) == referenceSaturate(x, bits: 8))
        }
        #expect(failures == 0)
    }

    @Test func quantizeRoundsHalfAwayAndSaturates() {
        let q7 = TensorFormat(bits: 8, fracBits: 7)
        #expect(q7.quantize(0.5) == 64)
        #expect(q7.quantize(-1.0 / 256) == -1)  // -0.5 LSB rounds away from zero
        #expect(q7.quantize(1.0) == 127 && q7.quantize(-2) == -128)
        #expect(TensorFormat.fitting(maxAbs: 1.0, bits: 16) == TensorFormat(bits: 16, fracBits: 14))
        #expect(TensorFormat.fitting(maxAbs: 0.99, bits: 8) == TensorFormat(bits: 8, fracBits: 7))
        #expect(TensorFormat.fitting(maxAbs: 300, bits: 8) == TensorFormat(bits: 8, fracBits: -2))
    }
}
