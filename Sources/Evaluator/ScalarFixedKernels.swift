import FixedPoint
import ModelIR

/// The fixed-point kernels one sample at a time on Swift integers: the scalar path.
///
/// It shares only the primitive functions (`IntegerArithmetic`, `ActivationTables`) with the BLAS
/// path, so tests that compare the two check every loop, index and shift of the batched kernels.
enum ScalarFixedKernels {
    typealias IA = IntegerArithmetic

    /// One step on one sample. `inputs` are the node's activation inputs.
    static func apply(_ step: FixedStep, inputs: [[Int64]], program: FixedProgram) -> [Int64] {
        let x = inputs.first ?? []
        let out = step.output
        func constant(_ name: String?) -> [Int64] { program.constants[name ?? ""]?.values ?? [0] }
        switch step.kernel {
        case let .linear(plan):
            return linear(x, plan, program: program, output: out)
        case let .add(plan):
            let b = inputs.count == 2 ? inputs[1] : constant(plan.constant)
            return x.indices.map { i in
                let bi = b[b.count == 1 ? 0 : i] << plan.shiftB
                let t = (x[i] << plan.shiftA) + (plan.subtract ? -bi : bi)
                return IA.requantized(t, shift: plan.shift, bits: out.bits)
            }
        case let .mul(plan):
            let b = inputs.count == 2 ? inputs[1] : constant(plan.constant)
            return x.indices.map { IA.requantized(x[$0] * b[b.count == 1 ? 0 : $0], shift: plan.shift, bits: out.bits) }
        case let .scale(multiplier, shift, _):
            return x.map { IA.requantized($0 * multiplier, shift: shift, bits: out.bits) }
        case let .clamp(lo, hi, shift):
            return x.map { IA.requantized(min(max($0, lo), hi), shift: shift, bits: out.bits) }
        case let .maxPool(window, input, shift):
            return pool(x, window: window, input: input) { $0.max() ?? 0 }.map { IA.requantized($0, shift: shift, bits: out.bits) }
        case let .avgPool(window, input, multiplier, shift, _):
            return pool(x, window: window, input: input) { $0.reduce(0, +) }.map {
                IA.requantized($0 * multiplier, shift: shift, bits: out.bits)
            }
        case let .sigmoid(fracBits, shift):
            return x.map { IA.requantized(ActivationTables.sigmoidQ15($0, fracBits: fracBits), shift: shift, bits: out.bits) }
        case let .tanh(fracBits, shift):
            return x.map { IA.requantized(ActivationTables.tanhQ15($0, fracBits: fracBits), shift: shift, bits: out.bits) }
        case let .exp(fracBits):
            return x.map { ActivationTables.exp($0, fracBits: fracBits, output: out) }
        case .alias:
            return x
        case .argMax:
            var best = 0
            for i in x.indices where x[i] > x[best] { best = i }
            return [Int64(best)]
        case let .squaredDistance(name, shiftX, shiftP, shift, _):
            guard let p = program.constants[name] else { return [] }
            let d = p.shape.dims[1]
            return (0..<p.shape.dims[0]).map { j in
                var sum: Int64 = 0
                for i in 0..<d {
                    let diff = (x[i] << shiftX) - (p.values[j * d + i] << shiftP)
                    sum += diff * diff
                }
                return IA.requantized(sum, shift: shift, bits: out.bits)
            }
        case .zero:
            return Array(repeating: 0, count: program.graph.shapes[step.node.output]?.elementCount ?? 0)
        case .loop:
            return []  // run by the caller, which owns the sequence
        }
    }

    static func linear(_ x: [Int64], _ plan: Kernel.Linear, program: FixedProgram, output: TensorFormat) -> [Int64] {
        guard let w = program.constants[plan.weights] else { return [] }
        let bias = plan.bias.flatMap { program.constants[$0] }?.values
        func initial(_ o: Int) -> Int64 { bias.map { $0[o] << plan.biasShift } ?? 0 }
        var acc: [Int64]
        switch plan.shape {
        case .dense:
            let (n, k) = (w.shape.dims[0], w.shape.dims[1])
            acc = (0..<n).map { o in (0..<k).reduce(initial(o)) { $0 + w.values[o * k + $1] * x[$1] } }
        case let .conv2D(window, input):
            acc = convolve(x, input: input, window: window, outputs: w.shape.dims[0]) { o, ky, kx, c, v in
                w.values[((o * window.kernelHeight + ky) * window.kernelWidth + kx) * input.dims[2] + c] * v
            } initial: { initial($0) }
        case let .depthwiseConv2D(window, input):
            acc = convolve(x, input: input, window: window, outputs: input.dims[2], depthwise: true) { o, ky, kx, _, v in
                w.values[(ky * window.kernelWidth + kx) * input.dims[2] + o] * v
            } initial: { initial($0) }
        }
        return acc.map { IA.requantized($0, shift: plan.shift, bits: output.bits) }
    }

    /// Direct convolution, HWC in and out, zero padding. `term(o, ky, kx, c, x)` is one product.
    static func convolve(_ x: [Int64], input: Shape, window: Window, outputs: Int, depthwise: Bool = false,
                         term: (Int, Int, Int, Int, Int64) -> Int64, initial: (Int) -> Int64) -> [Int64] {
        let (h, wd, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        var y: [Int64] = []
        y.reserveCapacity(out.height * out.width * outputs)
        for oy in 0..<out.height {
            for ox in 0..<out.width {
                for o in 0..<outputs {
                    var sum = initial(o)
                    for ky in 0..<window.kernelHeight {
                        let iy = oy * window.strideHeight + ky - window.padTop
                        guard iy >= 0, iy < h else { continue }
                        for kx in 0..<window.kernelWidth {
                            let ix = ox * window.strideWidth + kx - window.padLeft
                            guard ix >= 0, ix < wd else { continue }
                            if depthwise {
                                sum += term(o, ky, kx, o, x[(iy * wd + ix) * c + o])
                            } else {
                                for ch in 0..<c { sum += term(o, ky, kx, ch, x[(iy * wd + ix) * c + ch]) }
                            }
                        }
                    }
                    y.append(sum)
                }
            }
        }
        return y
    }

    static func pool(_ x: [Int64], window: Window, input: Shape, reduce: ([Int64]) -> Int64) -> [Int64] {
        let (wd, c) = (input.dims[1], input.dims[2])
        let out = window.outputSize(height: input.dims[0], width: wd) ?? (0, 0)
        var y: [Int64] = []
        for oy in 0..<out.height {
            for ox in 0..<out.width {
                for ch in 0..<c {
                    var cell: [Int64] = []
                    for ky in 0..<window.kernelHeight {
                        for kx in 0..<window.kernelWidth {
                            cell.append(x[((oy * window.strideHeight + ky) * wd + ox * window.strideWidth + kx) * c + ch])
                        }
                    }
                    y.append(reduce(cell))
                }
            }
        }
        return y
    }

    /// A batch through `apply`, one row at a time (for kernels whose bounds pass 2^53).
    static func batch(_ step: FixedStep, inputs: [Batch], program: FixedProgram) -> Batch {
        let rows = inputs.first?.rows ?? 0
        var values: [Double] = []
        var columns = 0
        for r in 0..<rows {
            let y = apply(step, inputs: inputs.map { $0.row(r).map { Int64($0) } }, program: program)
            columns = y.count
            values += y.map(Double.init)
        }
        return Batch(rows: rows, columns: columns, values: values)
    }

    static func linearBatch(_ x: Batch, _ plan: Kernel.Linear, program: FixedProgram, output: TensorFormat) -> Batch {
        var values: [Double] = []
        var columns = 0
        for r in 0..<x.rows {
            let y = linear(x.row(r).map { Int64($0) }, plan, program: program, output: output)
            columns = y.count
            values += y.map(Double.init)
        }
        return Batch(rows: x.rows, columns: columns, values: values)
    }
}
