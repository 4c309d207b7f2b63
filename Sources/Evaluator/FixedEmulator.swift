import FixedPoint
import Foundation
import ModelIR

/// Runs a fixed-point program over a whole split at once, bit-exact with the emitted C.
///
/// Integers are held in Doubles. The BLAS path computes every linear op as one OpenBLAS GEMM per
/// chunk of samples (per timestep inside loops; im2col for convolutions), exact because the
/// program's bounds keep every sum below 2^52 (below 2^24 per block where it runs in Floats), and
/// applies the shift/round/saturate steps as vector loops. The scalar path runs each sample
/// through plain Swift integer loops, for cross-checking.
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
        return FixedKernels.quantize(split.inputs, scale: scale, lo: lo, hi: hi)
    }

    /// The integer outputs for every sample: `[count, outputs]` (or one class index per row).
    public func run(_ split: DatasetSplit, path: Path = .blas, observer: Observer? = nil) -> Batch {
        let inputs = quantizedInputs(split)
        let hasLoop = program.steps.contains { if case .loop = $0.kernel { true } else { false } }
        let features = program.graph.input.shape.elementCount
        if path == .blas, observer == nil, !program.graph.input.isSequence, !hasLoop, split.count > 0,
           inputs.count == split.count * features {
            return runInChunks(inputs, count: split.count)
        }
        return runWhole(inputs, split: split, path: path, observer: observer)
    }

    /// Every step over the whole split, each result kept for the observer.
    private func runWhole(_ inputs: [Double], split: DatasetSplit, path: Path, observer: Observer?) -> Batch {
        var values: [String: Batch] = [:]
        let graph = program.graph
        if !graph.input.isSequence {
            values[graph.input.name] = Batch(rows: split.count, columns: graph.input.shape.elementCount, values: inputs)
        }
        for stage in stages(program.steps, path: path) {
            let result: Batch
            if case let .loop(plan) = stage.step.kernel {
                let body = stages(plan.body, path: path)
                let runner = SequenceRunner(
                    stateNames: plan.states.map { ($0.name, $0.next, $0.shape.elementCount) },
                    stepInput: plan.stepInput, features: graph.input.shape.elementCount)
                let states = runner.run(inputs: inputs, count: split.count, maxSteps: split.maxSteps, lengths: split.lengths,
                                        observer: observer) { stepValues in
                    for inner in body {
                        let r = apply(inner, values: stepValues, path: path)
                        stepValues[inner.output] = r
                        observer?(inner.output, r)
                    }
                }
                result = states[plan.result] ?? Batch(zeros: split.count, columns: 0)
            } else {
                result = apply(stage, values: values, path: path)
            }
            values[stage.output] = result
            observer?(stage.output, result)
        }
        return values[graph.output] ?? Batch(zeros: split.count, columns: 0)
    }

    /// The BLAS path when nobody observes the intermediates: the samples in chunks small enough
    /// that every intermediate of a chunk stays in cache, and ReLUs folded into linear steps.
    private func runInChunks(_ inputs: [Double], count: Int) -> Batch {
        let graph = program.graph
        let schedule = BlasSchedule(program: program, steps: program.steps, fuse: true)
        let features = graph.input.shape.elementCount
        let chunk = chunkRows(schedule, count: count)
        var output: [Double] = []
        var columns = 0
        for start in stride(from: 0, to: count, by: chunk) {
            let rows = min(chunk, count - start)
            let x = Array(inputs[(start * features)..<((start + rows) * features)])
            var values = [graph.input.name: Batch(rows: rows, columns: features, values: x)]
            for stage in schedule.stages { values[stage.output] = apply(stage, values: values, path: .blas) }
            let y = values[graph.output] ?? Batch(zeros: rows, columns: 0)
            if start == 0 { output.reserveCapacity(count * y.columns) }
            output += y.values
            columns = y.columns
        }
        return Batch(rows: count, columns: columns, values: output)
    }

    /// Samples per chunk: the widest tensor of a chunk (a convolution's patches included) holds
    /// about 16K values, so a chunk's working set stays in L2; and no GEMM passes 2^18
    /// multiply-adds, below which OpenBLAS stays on the calling thread. (Its threads spin while
    /// they wait, which on a shared machine costs more than they bring for products this small,
    /// and one thread keeps the comparison with the scalar path fair.)
    private func chunkRows(_ schedule: BlasSchedule, count: Int) -> Int {
        var rows = count
        for stage in schedule.stages {
            let widest = max(program.graph.shapes[stage.output]?.elementCount ?? 1,
                             stage.linear.map { $0.positions * $0.inner } ?? 1, 1)
            rows = min(rows, 16_384 / widest)
            if let linear = stage.linear, linear.inner > 0 {
                rows = min(rows, (1 << 18) / max(linear.positions * linear.outputs * linear.inner, 1))
            }
        }
        return max(1, rows)
    }

    /// The steps as stages; only the BLAS path prepares their operators.
    private func stages(_ steps: [FixedStep], path: Path) -> [BlasSchedule.Stage] {
        if path == .blas { return BlasSchedule(program: program, steps: steps, fuse: false).stages }
        return steps.map { BlasSchedule.Stage(step: $0, output: $0.node.output) }
    }

    private func apply(_ stage: BlasSchedule.Stage, values: [String: Batch], path: Path) -> Batch {
        let step = stage.step
        let inputs = step.node.inputs.map { values[$0] ?? Batch(zeros: 0, columns: 0) }
        if path == .scalar { return ScalarFixedKernels.batch(step, inputs: inputs, program: program) }
        let x = inputs.first ?? Batch(zeros: 0, columns: 0)
        let out = step.output
        switch step.kernel {
        case let .linear(plan):
            // Without an operator (a bound past what Doubles requantize exactly): Int64 arithmetic.
            return stage.linear?.apply(x) ?? ScalarFixedKernels.linearBatch(x, plan, program: program, output: out)
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
            let runs = stage.windows ?? WindowRuns(input: input, window: window)
            return FixedKernels.maxPool(x, runs, shift: shift, inputBits: step.inputs.first?.bits ?? 16, output: out)
        case let .avgPool(window, input, multiplier, shift, accBits) where accBits < 64:
            let runs = stage.windows ?? WindowRuns(input: input, window: window)
            return FixedKernels.avgPool(x, runs, multiplier: multiplier, shift: shift, output: out)
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
        case let .squaredDistance(name, shiftX, shiftP, shift, _):
            guard let p = program.constants[name] else { return x }
            let input = step.inputs.first ?? out
            guard FixedKernels.squaredDistanceIsExact(p, input: input, shiftX: shiftX, shiftP: shiftP) else {
                return ScalarFixedKernels.batch(step, inputs: inputs, program: program)
            }
            return FixedKernels.squaredDistance(x, constant: p, shiftX: shiftX, shiftP: shiftP, shift: shift, output: out)
        case .zero:
            return Batch(zeros: x.rows, columns: program.graph.shapes[step.node.output]?.elementCount ?? 0)
        default:
            // 64-bit accumulators, whose bounds may pass 2^52: exact Int64 arithmetic, row by row.
            return ScalarFixedKernels.batch(step, inputs: inputs, program: program)
        }
    }
}
