import FixedPoint
import Foundation
import ModelIR

/// Runs a fixed-point program over a whole split at once, bit-exact with the emitted C.
///
/// Integers are held in Doubles. The BLAS path computes every linear op as one OpenBLAS GEMM over
/// the batch (per timestep inside loops; im2col for convolutions), exact because the program's
/// bounds keep every sum below 2^53, and applies the shift/round/saturate steps as vector loops.
/// The scalar path runs each sample through plain Swift integer loops, for cross-checking.
public struct FixedEmulator: Sendable {
    public enum Path: String, Sendable, CaseIterable { case blas, scalar }
    public typealias Observer = (_ tensor: String, _ values: Batch) -> Void

    public let program: FixedProgram

    public init(program: FixedProgram) { self.program = program }

    /// The split's inputs quantized to the program's input format (what the C receives).
    public func quantizedInputs(_ split: DatasetSplit) -> [Double] {
        let format = program.inputFormat
        let scale = Double(sign: .plus, exponent: format.fracBits, significand: 1)
        let lo = Double(format.minInt), hi = Double(format.maxInt)
        // TensorFormat.quantize, with the scale hoisted: round halves away from zero, then saturate.
        return split.inputs.map { min(max(($0 * scale).rounded(.toNearestOrAwayFromZero), lo), hi) }
    }

    /// The integer outputs for every sample: `[count, outputs]` (or one class index per row).
    public func run(_ split: DatasetSplit, path: Path = .blas, observer: Observer? = nil) -> Batch {
        let inputs = quantizedInputs(split)
        var values: [String: Batch] = [:]
        let graph = program.graph
        if !graph.input.isSequence {
            values[graph.input.name] = Batch(rows: split.count, columns: graph.input.shape.elementCount, values: inputs)
        }
        for step in program.steps {
            let result: Batch
            if case let .loop(plan) = step.kernel {
                let runner = SequenceRunner(
                    stateNames: plan.states.map { ($0.name, $0.next, $0.shape.elementCount) },
                    stepInput: plan.stepInput, features: graph.input.shape.elementCount)
                let states = runner.run(inputs: inputs, count: split.count, maxSteps: split.maxSteps, lengths: split.lengths,
                                        observer: observer) { stepValues in
                    for inner in plan.body {
                        let r = apply(inner, values: stepValues, path: path)
                        stepValues[inner.node.output] = r
                        observer?(inner.node.output, r)
                    }
                }
                result = states[plan.result] ?? Batch(zeros: split.count, columns: 0)
            } else {
                result = apply(step, values: values, path: path)
            }
            values[step.node.output] = result
            observer?(step.node.output, result)
        }
        return values[graph.output] ?? Batch(zeros: split.count, columns: 0)
    }

    private func apply(_ step: FixedStep, values: [String: Batch], path: Path) -> Batch {
        let inputs = step.node.inputs.map { values[$0] ?? Batch(zeros: 0, columns: 0) }
        if path == .scalar { return ScalarFixedKernels.batch(step, inputs: inputs, program: program) }
        let x = inputs.first ?? Batch(zeros: 0, columns: 0)
        let out = step.output
        switch step.kernel {
        case let .linear(plan):
            return FixedKernels.linear(x, plan, program: program, output: out)
        case let .add(plan) where plan.accBits < 64:
            return FixedKernels.add(x, inputs.count == 2 ? inputs[1] : nil, plan, program: program, output: out)
        case let .mul(plan) where plan.accBits < 64:
            return FixedKernels.mul(x, inputs.count == 2 ? inputs[1] : nil, plan, program: program, output: out)
        case let .scale(multiplier, shift, accBits) where accBits < 64:
            var y = x.values.map { $0 * Double(multiplier) }
            FixedKernels.requantize(&y, shift: shift, format: out)
            return Batch(rows: x.rows, columns: x.columns, values: y)
        case let .clamp(lo, hi, shift):
            // In the input's format and range already: only a change of format needs requantizing.
            let keeps = shift == 0 && out.bits >= (step.inputs.first?.bits ?? 16)
            let (l, h) = (Double(lo), Double(hi))
            var y = x.values
            for i in y.indices { y[i] = min(max(y[i], l), h) }
            if !keeps { FixedKernels.requantize(&y, shift: shift, format: out) }
            return Batch(rows: x.rows, columns: x.columns, values: y)
        case let .maxPool(window, input, shift):
            var y = FloatKernels.pool(x, input: input, window: window, .max)
            if !(shift == 0 && out.bits >= (step.inputs.first?.bits ?? 16)) {
                FixedKernels.requantize(&y.values, shift: shift, format: out)
            }
            return y
        case let .avgPool(window, input, multiplier, shift, accBits) where accBits < 64:
            return FixedKernels.avgPool(x, window: window, input: input, multiplier: multiplier, shift: shift, output: out)
        case let .sigmoid(fracBits, shift):
            return FixedKernels.map(x) { IntegerArithmetic.requantized(ActivationTables.sigmoidQ15($0, fracBits: fracBits), shift: shift, bits: out.bits) }
        case let .tanh(fracBits, shift):
            return FixedKernels.map(x) { IntegerArithmetic.requantized(ActivationTables.tanhQ15($0, fracBits: fracBits), shift: shift, bits: out.bits) }
        case let .exp(fracBits):
            return FixedKernels.map(x) { ActivationTables.exp($0, fracBits: fracBits, output: out) }
        case .alias:
            return x
        case .argMax:
            return FloatKernels.argMax(x)
        case let .squaredDistance(name, shiftX, shiftP, shift, accBits) where accBits < 64:
            guard let p = program.constants[name] else { return x }
            return FixedKernels.squaredDistance(x, constant: p, shiftX: shiftX, shiftP: shiftP, shift: shift, output: out)
        case .zero:
            return Batch(zeros: x.rows, columns: program.graph.shapes[step.node.output]?.elementCount ?? 0)
        default:
            // 64-bit accumulators whose bounds pass 2^53: exact Int64 arithmetic, row by row.
            return ScalarFixedKernels.batch(step, inputs: inputs, program: program)
        }
    }
}
