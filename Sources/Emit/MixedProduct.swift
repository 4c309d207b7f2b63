import FixedPoint

/// A Mul of an int16 and an int8 value (either order, the other operand a tensor or an array in
/// flash) into an 8-bit output by a right shift s of 8 to 16, with a 32-bit accumulator:
/// y = sat8(rshr(a·b, s)), a the int16 value. On an AVR (`mcu_mul16x8_rq8_S`) the product is two
/// 8 x 8-bit products: with ah = floor(a / 2^8) and al = a mod 2^8, a·b = 2^8·ah·b + al·b, so
///
///     floor((a·b + 2^(s−1)) / 2^8) = ah·b + floor((al·b + r) / 2^8) + c
///
/// with r = 2^7, c = 0 at s = 8 and r = 0, c = 2^(s−9) past it. |ah·b| <= 2^14, al·b + r fits 16
/// bits and c <= 2^7, so it is computed in 16 bits; then floor(v / 2^(s−8)) is the rounded shift by s
/// (floor(floor(t / 2^8) / 2^k) = floor(t / 2^(8+k))), saturated to int8. The AVR's assembly takes
/// ah·b as one `muls` and al·b as one unsigned `mul` less 2^8·al where b < 0, where the 32-bit
/// product was a call to libgcc's `__mulshisi3` and the requantization 32-bit compares and shifts
/// (a FastGRNN gate's products, about 50 cycles each fewer). The integers are the semantics'.
/// Cortex-M cores keep the 32-bit product, one multiply there.
///
/// A fused run (or a node that runs alone) takes this form only where it leaves no other product
/// of the run multiplying in 32 bits (`steps(of:groups:)`), a margin for the Uno's RAM: such a
/// product still calls libgcc, whose chain of routines (6-8 B) lies on top of the run's frame, and
/// the products' registers can deepen that frame (with `mulsu`, whose operands must lie in
/// r16-r23, an LSTM run's went from 16 to 24 B, past plain C's RAM; with the unsigned `mul` 18 B,
/// and no config tested grows). Where no libgcc multiply is left, its chain goes with it. (A node
/// read from a table of its outputs, `DirectLookup`, multiplies nothing: a FastGRNN gate's scaled
/// sigmoid.)
public enum MixedProduct {
    /// The nodes of `program` emitted as such products: every Mul that is one, in a run (`groups`,
    /// `ElementwiseFusion`) or alone, whose other products all fit 16 bits.
    public static func steps(of program: FixedProgram, groups: [ElementwiseFusion.Group]) -> Set<String> {
        Set(products(of: program, groups: groups).keys)
    }

    /// `steps(of:groups:)` with each product's shift and operand order (`of`), found once.
    public static func products(of program: FixedProgram, groups: [ElementwiseFusion.Group]) -> [String: (shift: Int, wideFirst: Bool)] {
        var chosen: [String: (shift: Int, wideFirst: Bool)] = [:]
        // Each fused run, and each other node as a run of its own.
        let fused = Set(groups.flatMap { $0.steps.map(\.node.name) })
        let runs = groups.map(\.steps) + program.allSteps.filter { !fused.contains($0.node.name) }.map { [$0] }
        for run in runs {
            let found = run.compactMap { step in of(step, program: program).map { (step.node.name, $0) } }
            guard !found.isEmpty else { continue }
            let products = Set(found.map(\.0))
            if !run.contains(where: { !products.contains($0.node.name) && multipliesIn32Bits($0) }) {
                for (name, operands) in found { chosen[name] = operands }
            }
        }
        return chosen
    }

    /// A product of 16-bit operands or a 32-bit accumulator (a libgcc call on AVR, unless it is one of
    /// these); a node read from a table of its every output (`DirectLookup`) multiplies nothing.
    static func multipliesIn32Bits(_ step: FixedStep) -> Bool {
        if DirectLookup.applies(to: step) { return false }
        switch step.kernel {
        case let .mul(plan): return plan.accBits > 16
        case let .scale(_, _, accBits): return accBits > 16
        case .exp: return true
        default: return false
        }
    }

    /// The shift s and whether the int16 operand is the first, when `step` is such a Mul; else nil.
    public static func of(_ step: FixedStep, program: FixedProgram) -> (shift: Int, wideFirst: Bool)? {
        guard case let .mul(plan) = step.kernel, step.output.bits == 8, plan.accBits == 32, (8...16).contains(plan.shift),
              let first = step.inputs.first?.bits else { return nil }
        let second: Int
        if step.inputs.count == 2 {
            second = step.inputs[1].bits
        } else {
            // An array; a scalar is left to the general form, which the compiler can fold.
            guard let q = program.constants[plan.constant ?? ""], q.values.count > 1 else { return nil }
            second = q.format.bits
        }
        switch (first, second) {
        case (16, 8): return (plan.shift, true)
        case (8, 16): return (plan.shift, false)
        default: return nil
        }
    }
}
