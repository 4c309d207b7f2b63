import FixedPoint

/// A Mul of two 8-bit values into an 8-bit output by a right shift s of 1 to 7:
/// y = sat8(rshr(a·b, s)). On AVR (`mcu_mul_rq8_S`): `muls`, the rounding term added, then the
/// 16-bit value shifted left by 8 − s one bit at a time, each step's overflow flag saying exactly
/// whether the value still fits 16 bits; if all fit, the high byte is rshr(a·b, s) and lies in the
/// int8 range, and at the first that does not, the carry holds the value's sign, the side it
/// saturates to. |a·b| <= 2^14, so a·b + 2^(s−1) fits 16 bits. The integers are the semantics'.
public enum NarrowProduct {
    /// The shift s when `step` is such a Mul (an 8-bit tensor, array in flash or a scalar within
    /// the int8 range as its second operand), else nil.
    public static func shift(_ step: FixedStep, program: FixedProgram) -> Int? {
        guard case let .mul(plan) = step.kernel, step.output.bits == 8, step.inputs.first?.bits == 8,
              (1...7).contains(plan.shift) else { return nil }
        if step.inputs.count == 2 { return step.inputs[1].bits == 8 ? plan.shift : nil }
        guard let q = program.constants[plan.constant ?? ""] else { return nil }
        if q.values.count == 1 { return (-128...127).contains(q.values[0]) ? plan.shift : nil }
        return q.format.bits == 8 ? plan.shift : nil
    }
}
