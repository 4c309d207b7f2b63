import FixedPoint

/// `IntegerArithmetic.requantized` on integers held in Doubles, as a loop the compiler vectorises.
///
/// For s ≥ 1 the rounding shift floor((x + 2^(s−1)) / 2^s) equals round-to-nearest((x + ½)·2^−s):
/// writing x = q·2^s + r with 0 ≤ r < 2^s, the fraction (r + ½)/2^s is never exactly ½, so there
/// is no tie, and it passes ½ exactly when r ≥ 2^(s−1). x + ½ and the scaling are exact while
/// |x| < 2^52, and adding and subtracting 1.5·2^52 rounds to the nearest integer without a libm
/// call. Callers guarantee the bound (`isExact(bound:)`); saturation is a clamp to [lo, hi].
struct Requantizer: Sendable {
    let shift: Int
    private(set) var lo: Double
    private(set) var hi: Double

    /// 1.5·2^52: adding it leaves a number of magnitude below 2^51 rounded to an integer.
    static let roundingMagic = 6_755_399_441_055_744.0

    init(shift: Int, format: TensorFormat) {
        self.shift = shift
        lo = Double(format.minInt)
        hi = Double(format.maxInt)
    }

    /// Whether every |x| up to `bound` is requantized exactly.
    static func isExact(bound: Double) -> Bool { bound < 0x1p52 }

    /// This requantizer followed by a clamp to [lo, hi] (a ReLU or ReLU6), or nil when the two
    /// ranges do not overlap and a single clamp would differ from the two in sequence.
    func clamped(lo clampLo: Int64, hi clampHi: Int64) -> Requantizer? {
        let newLo = max(lo, Double(clampLo)), newHi = min(hi, Double(clampHi))
        guard newLo <= newHi else { return nil }
        var r = self
        r.lo = newLo
        r.hi = newHi
        return r
    }

    /// requant of one value.
    @inline(__always)
    func callAsFunction(_ x: Double) -> Double {
        let y: Double
        if shift > 0 {
            y = ((x + 0.5) * FixedKernels.pow2d(-shift) + Self.roundingMagic) - Self.roundingMagic
        } else {
            y = x * FixedKernels.pow2d(-shift)
        }
        return Self.clamp(y, lo, hi)
    }

    /// Requantizes `values` in place.
    func apply(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let v = values.baseAddress else { return }
        apply(count: values.count, into: v) { v[$0] }
    }

    /// out[i] = requant(value(i)) for every i below `count`: the requantization fused with the
    /// pass that produces its input.
    @inline(__always)
    func apply(count: Int, into out: UnsafeMutablePointer<Double>, _ value: (Int) -> Double) {
        let scale = FixedKernels.pow2d(-shift), magic = Self.roundingMagic, lo = lo, hi = hi
        if shift > 0 {
            for i in 0..<count { out[i] = Self.clamp(((value(i) + 0.5) * scale + magic) - magic, lo, hi) }
        } else {
            for i in 0..<count { out[i] = Self.clamp(value(i) * scale, lo, hi) }
        }
    }

    func apply(_ values: inout [Double]) {
        values.withUnsafeMutableBufferPointer { apply($0) }
    }

    /// min(max(x, lo), hi), written as the comparisons SSE's maxpd/minpd implement (values here are
    /// never NaN), so the loops vectorise without blend sequences.
    @inline(__always)
    private static func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
        let y = x > lo ? x : lo
        return y < hi ? y : hi
    }
}
