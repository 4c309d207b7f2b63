import Foundation
import ModelIR

/// Finds weights that fixed point cannot represent well: one huge value (an outlier, or a unit
/// mistake) sets a tensor's scale, and every other value of it rounds to 0 even at 16 bits. Such a
/// program ships at chance accuracy with nothing said, so the tool says which tensor, its range, and
/// how many of its values survive.
public enum WeightRangeCheck {
    /// One line per weight tensor of which more than `threshold` of its non-zero values round to 0
    /// at 16 bits under the scale its largest value needs.
    public static func warnings(_ graph: Graph, threshold: Double = 0.25) -> [String] {
        var lines: [String] = []
        for (name, tensor) in graph.constants.sorted(by: { $0.key < $1.key }) {
            let nonZero = tensor.values.filter { $0 != 0 }
            guard let largest = nonZero.map(abs).max(), largest.isFinite else { continue }
            // The fractional bits of a 16-bit format whose range just holds `largest`.
            let integerBits = max(0, Int(log2(largest).rounded(.up)) + 1)
            let fracBits = 15 - integerBits
            let step = Double(sign: .plus, exponent: -fracBits, significand: 1)
            let vanishing = nonZero.filter { abs($0) < step / 2 }.count
            guard Double(vanishing) > threshold * Double(nonZero.count) else { continue }
            let typical = nonZero.map(abs).sorted()[nonZero.count / 2]
            lines.append("weight '\(name)': its largest magnitude \(format(largest)) (median \(format(typical))) sets its scale, so \(vanishing) of its "
                         + "\(nonZero.count) non-zero values round to 0 even at 16 bits; an outlier or a unit mistake? The tuned program will "
                         + "not follow the float model")
        }
        return lines
    }

    private static func format(_ x: Double) -> String { x >= 1e4 || x < 1e-3 ? String(format: "%.3g", x) : String(format: "%.4f", x) }
}
