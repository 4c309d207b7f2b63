import Foundation
import ModelIR

/// Raw sensor values (int16, in the dataset's raw units) to the program's input format, in integer
/// arithmetic: the dataset's normalisation (`x = gain[c] * (raw - offset[c])`) and the input
/// quantization (`round(x * 2^f)`, saturated) folded into one multiply, add and shift per channel:
///
///     q = saturate((raw * multiplier[c] + bias[c]) >> shift[c])
///
/// with `multiplier = round(gain * 2^(f + shift))` and
/// `bias = round(-offset * gain * 2^(f + shift)) + 2^(shift - 1)` (the half that makes the floor
/// shift round). The emitted C (`RawInputEmitter`) and `quantize(_:channel:)` compute exactly this,
/// so the two are bit-exact; the result differs from quantizing the float normalisation only by the
/// rounding of `multiplier` and `bias` (at most a quantum or so, `maxError(...)` measures it).
///
/// Widths, proved rather than checked: `|multiplier| <= 2^15 - 1` and `|raw| <= 2^15`, so
/// `|raw * multiplier| < 2^30`; `|bias| <= 2^30`; the sum stays below 2^31 in magnitude and the
/// whole computation fits an `int32_t` (on AVR, where `int` has 16 bits, every operand is cast to
/// `int32_t` first). Nothing is shifted left at run time; the right shift of a negative sum is
/// floor division, as the emitted code's compile-time check requires. Each channel's shift is the
/// largest (at most 30) that keeps both bounds: the most precise multiplier that fits.
public struct RawInputQuantizer: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        public var multiplier: Int32
        public var bias: Int32
        public var shift: Int
    }

    public let format: TensorFormat
    public let channels: [Channel]

    public static let maxShift = 30
    static let maxMultiplier = Double(Int16.max)
    static let maxBias = Double(1 << 30)

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// One raw unit moves the input by more than an int16 multiplier can say, even unshifted.
        case gainTooLarge(channel: Int, gain: Double, fracBits: Int)

        public var description: String {
            switch self {
            case let .gainTooLarge(channel, gain, fracBits):
                "channel \(channel)'s normalisation gain \(gain) times 2^\(fracBits) (the input's fractional bits) exceeds 32767: one raw unit would span the whole input range"
            }
        }
    }

    public init(normalisation: Normalisation, channels count: Int, format: TensorFormat) throws(Failure) {
        var channels: [Channel] = []
        for c in 0..<count {
            let (gain, offset) = normalisation.gainAndOffset(channel: c)
            var chosen: Channel?
            for shift in stride(from: Self.maxShift, through: 0, by: -1) {
                let scale = gain * pow(2, Double(format.fracBits + shift))
                let multiplier = scale.rounded(.toNearestOrAwayFromZero)
                let bias = (-offset * scale).rounded(.toNearestOrAwayFromZero) + (shift > 0 ? pow(2, Double(shift - 1)) : 0)
                guard abs(multiplier) <= Self.maxMultiplier, abs(bias) <= Self.maxBias else { continue }
                chosen = Channel(multiplier: Int32(multiplier), bias: Int32(bias), shift: shift)
                break
            }
            guard let chosen else { throw .gainTooLarge(channel: c, gain: gain, fracBits: format.fracBits) }
            channels.append(chosen)
        }
        self.format = format
        self.channels = channels
    }

    /// The input integer for raw value `raw` of channel `channel`, as the emitted C computes it.
    public func quantize(_ raw: Int16, channel: Int) -> Int64 {
        let c = channels[channel]
        let sum = Int64(raw) * Int64(c.multiplier) + Int64(c.bias)  // |sum| < 2^31: an int32_t in C
        return min(max(sum >> Int64(c.shift), format.minInt), format.maxInt)
    }

    /// Quantizes a flat run of raw values laid out channel-last (the channel of element `i` is `i % channels`).
    public func quantize(_ raw: [Int16]) -> [Int64] {
        raw.enumerated().map { quantize($0.element, channel: $0.offset % channels.count) }
    }
}
