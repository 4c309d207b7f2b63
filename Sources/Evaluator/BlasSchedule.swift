import FixedPoint
import ModelIR

/// The steps the BLAS path runs for one program, prepared once per run and reused for every chunk
/// of samples and every timestep: each linear step's `LinearOperator`, each pooling step's
/// `WindowRuns`, and, when asked to fuse, each ReLU/ReLU6 that only clamps a linear step's result
/// folded into that step's saturation (one pass over the data fewer).
///
/// A folded clamp's input tensor is never computed, so fusion is only for runs without an observer
/// and only where nothing else reads that tensor. A linear step whose bound is past 2^52 gets no
/// operator and runs in Int64.
struct BlasSchedule: Sendable {
    struct Stage: Sendable {
        let step: FixedStep
        /// The tensor this stage writes: the folded clamp's output when one was folded in.
        let output: String
        let linear: LinearOperator?
        let windows: WindowRuns?

        init(step: FixedStep, output: String, linear: LinearOperator? = nil, windows: WindowRuns? = nil) {
            self.step = step
            self.output = output
            self.linear = linear
            self.windows = windows
        }
    }

    let stages: [Stage]

    init(program: FixedProgram, steps: [FixedStep], fuse: Bool) {
        var readers: [String: Int] = [program.graph.output: 1]
        for step in steps { for input in step.node.inputs { readers[input, default: 0] += 1 } }
        var stages: [Stage] = []
        var i = 0
        while i < steps.count {
            let step = steps[i]
            guard case let .linear(plan) = step.kernel, Requantizer.isExact(bound: plan.bound) else {
                stages.append(Stage(step: step, output: step.node.output, windows: Self.windows(of: step)))
                i += 1
                continue
            }
            let requantizer = Requantizer(shift: plan.shift, format: step.output)
            let input = step.inputs.first ?? TensorFormat(bits: 16, fracBits: 0)
            if fuse, i + 1 < steps.count, readers[step.node.output] == 1,
               let folded = Self.foldedClamp(steps[i + 1], after: step, requantizer: requantizer) {
                stages.append(Stage(step: step, output: steps[i + 1].node.output,
                                    linear: LinearOperator(plan, program: program, input: input, requantizer: folded)))
                i += 2
            } else {
                stages.append(Stage(step: step, output: step.node.output,
                                    linear: LinearOperator(plan, program: program, input: input, requantizer: requantizer)))
                i += 1
            }
        }
        self.stages = stages
    }

    private static func windows(of step: FixedStep) -> WindowRuns? {
        switch step.kernel {
        case let .maxPool(window, input, _), let .avgPool(window, input, _, _, _): WindowRuns(input: input, window: window)
        default: nil
        }
    }

    /// `requantizer` with `next` folded in, if `next` is a clamp of `step`'s output that needs no
    /// requantization of its own (the same condition as the unfused clamp kernel's).
    private static func foldedClamp(_ next: FixedStep, after step: FixedStep, requantizer: Requantizer) -> Requantizer? {
        guard case let .clamp(lo, hi, shift) = next.kernel, next.node.inputs == [step.node.output],
              shift == 0, next.output.bits >= step.output.bits else { return nil }
        return requantizer.clamped(lo: lo, hi: hi)
    }
}
