import FixedPoint

/// An Add or Sub of a constant B whose tensor operand is shifted left by exactly the
/// requantization's shift s: t = a·2^s ± B·2^sB, and since a·2^s is a multiple of 2^s,
///
///     rshr(t, s) = a + rshr(±B·2^sB, s)
///
/// (floor((a·2^s + c + 2^(s−1)) / 2^s) = a + floor((c + 2^(s−1)) / 2^s) for any integers). The
/// second term is computed here, once per element, and stored in B's place: on the device each
/// element is one addition and a saturation, without the two shifts (which an AVR does bit by bit).
/// The value is the same integer the emulator computes. It applies where B is read by this node
/// alone and its rounded values fit B's own type (sB <= s makes them no larger than B).
public enum RoundedAddend {
    /// Whether `step` is such an Add or Sub, with B read by no other node of `program`.
    public static func applies(to step: FixedStep, program: FixedProgram) -> Bool {
        stored(step, program: program) != nil
    }

    /// What is stored in B's place when `step` is such an Add or Sub (`values`), else nil: one
    /// computation for callers that need both the answer and the values.
    public static func stored(_ step: FixedStep, program: FixedProgram) -> [Int64]? {
        guard let values = values(step, program: program), case let .add(plan) = step.kernel, let name = plan.constant,
              let q = program.constants[name] else { return nil }
        let hi = (Int64(1) << (q.format.bits - 1)) - 1
        guard values.allSatisfy({ $0 >= -hi - 1 && $0 <= hi }) else { return nil }
        return program.allSteps.filter { $0.node.weights.values.contains(name) || $0.node.inputs.contains(name) }.count == 1 ? values : nil
    }

    /// rshr(±B_i·2^sB, s) for every element of B, or nil when `step` is not an Add or Sub of a
    /// constant whose tensor operand is shifted by the whole shift.
    public static func values(_ step: FixedStep, program: FixedProgram) -> [Int64]? {
        guard case let .add(plan) = step.kernel, step.node.inputs.count == 1, let name = plan.constant,
              let q = program.constants[name], plan.shift > 0, plan.shift < 32, plan.shiftA == plan.shift,
              plan.shiftB >= 0, plan.shiftB <= plan.shift else { return nil }
        return q.values.map { IntegerArithmetic.shiftedRightRounding((plan.subtract ? -$0 : $0) << plan.shiftB, by: plan.shift) }
    }

    /// The constants stored as their rounded addends in `program`, by name.
    public static func constants(of program: FixedProgram) -> [String: [Int64]] {
        var rounded: [String: [Int64]] = [:]
        for step in program.allSteps {
            if case let .add(plan) = step.kernel, let name = plan.constant, let values = stored(step, program: program) { rounded[name] = values }
        }
        return rounded
    }
}
