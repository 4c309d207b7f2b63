import FixedPoint

/// An Add of two 8-bit values into an 8-bit output with nothing to shift: y = sat8(a + b). The sum
/// of two int8 values needs nine bits, but the overflow flag of an 8-bit add says exactly when it
/// leaves the int8 range, and then the true sum has the sign of either operand. On AVR that is one
/// `add` and a branch not taken (`mcu_add_sat8`), not a widening to 16 bits and two compares.
///
/// It covers a Rounded addend (`RoundedAddend`: y = sat(a + rounded B), B's stored values 8-bit)
/// and a plain Add whose operands and result share one format (every shift 0, no subtraction),
/// of an 8-bit tensor, an 8-bit array in flash or a scalar within the int8 range. The integers are
/// the semantics' (requant(a + b, 0, 8) is the saturation of the sum).
public enum SaturatingAdd {
    public static func applies(to step: FixedStep, program: FixedProgram) -> Bool {
        guard case let .add(plan) = step.kernel, step.output.bits == 8, step.inputs.first?.bits == 8 else { return false }
        if RoundedAddend.applies(to: step, program: program) {
            guard let values = RoundedAddend.values(step, program: program) else { return false }
            if values.count == 1 { return (-128...127).contains(values[0]) }
            return program.constants[plan.constant ?? ""]?.format.bits == 8
        }
        guard !plan.subtract, plan.shiftA == 0, plan.shiftB == 0, plan.shift == 0 else { return false }
        if step.inputs.count == 2 { return step.inputs[1].bits == 8 }
        guard let q = program.constants[plan.constant ?? ""] else { return false }
        if q.values.count == 1 { return (-128...127).contains(q.values[0]) }
        return q.format.bits == 8
    }
}
