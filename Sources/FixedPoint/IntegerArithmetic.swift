/// The integer primitives of the fixed-point semantics (docs/fixed-point.md), on Int64.
///
/// The emulator and the emitted C compute exactly these functions; tests compare the C versions
/// with these over every int8 pair and sampled int16 values, and these with a wider reference.
public enum IntegerArithmetic {
    /// `floor((x + 2^(s-1)) / 2^s)`: a right shift by `s >= 1` that rounds halves up.
    /// Overflow hazard: `x + 2^(s-1)` must fit the accumulator; the planner proves it does.
    @inline(__always)
    public static func shiftedRightRounding(_ x: Int64, by s: Int) -> Int64 {
        (x + (Int64(1) << (s - 1))) >> s
    }

    /// `x` clamped to the range of a signed `bits`-bit integer.
    @inline(__always)
    public static func saturated(_ x: Int64, bits: Int) -> Int64 {
        let hi = (Int64(1) << (bits - 1)) - 1, lo = -hi - 1
        return x > hi ? hi : (x < lo ? lo : x)
    }

    /// Rescales `x` from `fracBits + shift` to `fracBits` fractional bits and saturates to `bits`:
    /// a rounding right shift for `shift > 0`, an exact left shift (saturating) for `shift < 0`.
    @inline(__always)
    public static func requantized(_ x: Int64, shift: Int, bits: Int) -> Int64 {
        if shift > 0 {
            return shift >= 63 ? 0 : saturated(shiftedRightRounding(x, by: shift), bits: bits)
        }
        if shift == 0 { return saturated(x, bits: bits) }
        let k = -shift
        let hi = (Int64(1) << (bits - 1)) - 1, lo = -hi - 1
        if k >= bits { return x > 0 ? hi : (x < 0 ? lo : 0) }
        // x * 2^k saturates exactly when x lies outside [ceil(lo / 2^k), floor(hi / 2^k)].
        if x > hi >> k { return hi }
        if x < -((-lo) >> k) { return lo }
        return x * (Int64(1) << k)
    }
}
