/// How one tensor is stored: a signed integer of `bits` bits holding `value * 2^fracBits`.
public struct TensorFormat: Codable, Hashable, Sendable, CustomStringConvertible {
    /// 8 or 16.
    public var bits: Int
    /// Fractional bits; may be negative (coarse) or exceed `bits` (fine).
    public var fracBits: Int

    public init(bits: Int, fracBits: Int) {
        self.bits = bits
        self.fracBits = fracBits
    }

    enum CodingKeys: String, CodingKey { case bits, fracBits = "frac" }

    public var minInt: Int64 { -(Int64(1) << (bits - 1)) }
    public var maxInt: Int64 { (Int64(1) << (bits - 1)) - 1 }
    /// Largest magnitude an integer of this format can have: 2^(bits-1).
    public var magnitude: Int64 { Int64(1) << (bits - 1) }

    /// `round(v * 2^fracBits)` (halves away from zero), saturated to the format.
    public func quantize(_ v: Double) -> Int64 {
        let scaled = (v * pow2(fracBits)).rounded(.toNearestOrAwayFromZero)
        if scaled >= Double(maxInt) { return maxInt }
        if scaled <= Double(minInt) { return minInt }
        return Int64(scaled)
    }

    public func real(_ q: Int64) -> Double { Double(q) / pow2(fracBits) }

    /// The most fractional bits with which `maxAbs` still fits.
    public static func fitting(maxAbs: Double, bits: Int) -> TensorFormat {
        guard maxAbs > 0, maxAbs.isFinite else { return TensorFormat(bits: bits, fracBits: bits - 1) }
        let limit = Double((1 << (bits - 1)) - 1)
        // About floor(log2(limit / maxAbs)), from the exponents: for a subnormal maxAbs the ratio itself
        // is inf, whose exponent (Int.max) would leave the loops below counting for ever.
        var frac = limit.exponent - maxAbs.exponent
        while maxAbs * pow2(frac) > limit { frac -= 1 }
        while maxAbs * pow2(frac + 1) <= limit { frac += 1 }
        return TensorFormat(bits: bits, fracBits: frac)
    }

    public var description: String { "int\(bits) Q\(fracBits)" }
}

/// 2^e as a Double, exact for the exponents we use.
@inline(__always) func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
