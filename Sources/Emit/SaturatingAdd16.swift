import FixedPoint

/// An Add or Sub into a 16-bit output with nothing to shift after it, whose two terms (each
/// operand times its power of two) each fit int16 though their sum may not: y = sat16(a' ± b'),
/// with a 32-bit accumulator in the semantics. The 16-bit add (or subtract) overflows exactly when
/// the true result leaves the int16 range, and then that result has the sign of a' (the terms'
/// common sign for a sum, a' against b' for a difference). On an AVR (`mcu_add_sat16`,
/// `mcu_sub_sat16`, `__builtin_add_overflow`) that is a 16-bit add and 16-bit compares, not a
/// widening to 32 bits and 32-bit compares (36 cycles fewer an element for two such sums in a
/// FastGRNN gate loop). The integers are the semantics'.
/// A rounded addend (`RoundedAddend`) keeps its own form. Cortex-M cores keep the 32-bit sum and
/// its saturation (SSAT there).
public enum SaturatingAdd16 {
    /// Whether `step` is such an Add or Sub: output int16, shift 0, a 32-bit accumulator, and both
    /// terms within int16 by their types or, for a constant, by their values.
    public static func applies(to step: FixedStep, program: FixedProgram) -> Bool {
        guard case let .add(plan) = step.kernel, step.output.bits == 16, plan.shift == 0, plan.accBits == 32,
              let a = step.inputs.first?.bits, a + plan.shiftA <= 16, plan.shiftB < 16,
              !RoundedAddend.applies(to: step, program: program) else { return false }
        if step.inputs.count == 2 { return step.inputs[1].bits + plan.shiftB <= 16 }
        guard let q = program.constants[plan.constant ?? ""] else { return false }
        return q.values.allSatisfy { v in
            let term = v << plan.shiftB
            return term >> plan.shiftB == v && term >= -32_768 && term <= 32_767
        }
    }
}
