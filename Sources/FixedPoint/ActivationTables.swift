import Foundation

/// Integer-only sigmoid, tanh and exp (docs/fixed-point.md, "Nonlinear functions").
///
/// Sigmoid and tanh read a table of f(|x|) in Q15 over a uniform grid and interpolate linearly;
/// symmetry gives negative inputs. Exp writes e^x = 2^(x·log2 e) = 2^n · 2^r and reads 2^r from
/// a 33-entry table. The tables are computed here once and emitted into the C unchanged, so the
/// emulator and the C share them by construction.
public enum ActivationTables {
    /// Table entries per function: indices 0...128 cover the grid, beyond it f saturates.
    public static let gridEntries = 129

    /// sigmoid(k / 8) in Q15, k = 0...128 (inputs 0...16).
    public static let sigmoid: [Int64] = (0..<gridEntries).map { k in
        min(32767, Int64((32768 / (1 + Foundation.exp(-Double(k) / 8))).rounded()))
    }
    public static let sigmoidStepLog2 = 3

    /// tanh(k / 16) in Q15, k = 0...128 (inputs 0...8).
    public static let tanh: [Int64] = (0..<gridEntries).map { k in
        min(32767, Int64((32768 * Foundation.tanh(Double(k) / 16)).rounded()))
    }
    public static let tanhStepLog2 = 4

    /// 2^(k/32) in Q14, k = 0...32 (values 16384...32768, stored as uint16 in C).
    public static let exp2: [Int64] = (0...32).map { k in Int64((16384 * Foundation.pow(2, Double(k) / 32)).rounded()) }
    public static let exp2StepLog2 = 5
    /// log2(e) in Q14.
    public static let log2eQ14: Int64 = 23638

    /// Interpolation uses at most this many fractional bits of the table position.
    public static let interpolationBits = 8

    /// f at a non-negative position `p` with `g` fractional bits below the table grid, from `table`
    /// (linear interpolation; index 128 and beyond saturate to the last entry).
    public static func lookup(_ table: [Int64], position p: Int64, fractionBits g: Int) -> Int64 {
        let last = Int64(table.count - 1)
        if g <= 0 {
            let k = -g
            // p << k reaches the last entry once p >= ceil(last / 2^k); shifting stays below 2^31.
            if k >= 8 || p >= (last + (Int64(1) << k) - 1) >> k { return p == 0 ? table[0] : table[Int(last)] }
            return table[Int(p << k)]
        }
        let index = p >> g
        if index >= last { return table[Int(last)] }
        var fraction = p & ((Int64(1) << g) - 1)
        var bitsUsed = g
        if g > interpolationBits {
            fraction >>= (g - interpolationBits)
            bitsUsed = interpolationBits
        }
        let lo = table[Int(index)], hi = table[Int(index) + 1]
        return lo + IntegerArithmetic.shiftedRightRounding((hi - lo) * fraction, by: bitsUsed)
    }

    /// sigmoid of `x` (with `fracBits` fractional bits), in Q15, 0...32768.
    public static func sigmoidQ15(_ x: Int64, fracBits: Int) -> Int64 {
        let t = lookup(sigmoid, position: abs(x), fractionBits: fracBits - sigmoidStepLog2)
        return x < 0 ? 32768 - t : t
    }

    /// tanh of `x`, in Q15, -32767...32767.
    public static func tanhQ15(_ x: Int64, fracBits: Int) -> Int64 {
        let t = lookup(tanh, position: abs(x), fractionBits: fracBits - tanhStepLog2)
        return x < 0 ? -t : t
    }

    /// e^x for `x` with `fracBits` fractional bits, saturated to `output`.
    ///
    /// t = x·log2(e) has F = fracBits + 14 fractional bits; n = floor(t / 2^F), r = t − n·2^F.
    /// m = 2^(r / 2^F) in Q14 from the table, and e^x ≈ m · 2^(n − 14).
    public static func exp(_ x: Int64, fracBits: Int, output: TensorFormat) -> Int64 {
        // Bring x to at most 16 and at least -13 fractional bits, so t and 2^F fit 31 bits.
        var x = x, fracBits = fracBits
        if fracBits > 16 {
            x = IntegerArithmetic.shiftedRightRounding(x, by: fracBits - 16)
            fracBits = 16
        } else if fracBits < -13 {
            x = IntegerArithmetic.requantized(x, shift: fracBits + 13, bits: 16)
            fracBits = -13
        }
        let f = fracBits + 14
        let t = x * log2eQ14
        let n = t >> f
        let r = t - n * (Int64(1) << f)
        let m = lookup(exp2, position: r, fractionBits: f - exp2StepLog2)
        // y = m · 2^(n + fy − 14): a right shift by s = 14 − n − fy when positive.
        let s = 14 - n - Int64(output.fracBits)
        if s > 30 { return 0 }
        return IntegerArithmetic.requantized(m, shift: Int(max(s, -62)), bits: output.bits)
    }
}
