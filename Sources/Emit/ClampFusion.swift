import FixedPoint
import ModelIR

/// A ReLU or ReLU6 right after a dense or convolution node, applied as that node stores each output
/// instead of in a pass of its own: one load, clamp and store per element fewer. Only where the
/// clamp would write over its input anyway (`Lifetimes` joins an elementwise output to an input
/// that dies at it), so the arena plan is the same: the layer's 8-bit output is read by nothing but
/// the clamp, which follows it at once, and the layer is emitted with `mcu_dot8_aN` or by channel
/// (`CEmitter.depthwiseWidth`).
public enum ClampFusion {
    /// The clamp step the linear `step` applies, if any.
    public static func clamp(after step: FixedStep, in program: FixedProgram, far: Set<String>) -> FixedStep? {
        guard case let .linear(plan) = step.kernel, step.output.bits == 8,
              CEmitter.dot8Width(plan, step: step, program: program, far: far) != nil
                || CEmitter.depthwiseWidth(plan, step: step, program: program, far: far) != nil else { return nil }
        for list in lists(program) {
            guard let i = list.firstIndex(where: { $0.node.name == step.node.name }), i + 1 < list.count else { continue }
            let next = list[i + 1]
            // Bounds that cross the int8 range (every ReLU): within it, the clamp is one of 16-bit values.
            guard case let .clamp(lo, hi, _) = next.kernel, max(lo, -128) <= min(hi, 127),
                  next.node.inputs == [step.node.output], next.output.bits <= 8,
                  uses(of: step.node.output, in: program) == 1 else { return nil }
            return next
        }
        return nil
    }

    /// Whether the clamp `step` is applied by the layer before it (and so emits no loop).
    public static func isAbsorbed(_ step: FixedStep, in program: FixedProgram, far: Set<String>) -> Bool {
        guard case .clamp = step.kernel else { return false }
        for list in lists(program) {
            guard let i = list.firstIndex(where: { $0.node.name == step.node.name }), i > 0 else { continue }
            return clamp(after: list[i - 1], in: program, far: far)?.node.name == step.node.name
        }
        return false
    }

    /// The top-level steps and every loop's body: the lists in which steps follow one another.
    private static func lists(_ program: FixedProgram) -> [[FixedStep]] {
        var lists = [program.steps]
        for step in program.steps { if case let .loop(plan) = step.kernel { lists.append(plan.body) } }
        return lists
    }

    /// Readers of `tensor`: node inputs, the graph's output, loop states and results.
    private static func uses(of tensor: String, in program: FixedProgram) -> Int {
        var count = program.allSteps.reduce(0) { $0 + $1.node.inputs.filter { $0 == tensor }.count }
        if program.graph.output == tensor { count += 1 }
        for step in program.steps {
            guard case let .loop(plan) = step.kernel else { continue }
            count += plan.states.filter { $0.next == tensor }.count + (plan.result == tensor ? 1 : 0)
        }
        return count
    }
}
