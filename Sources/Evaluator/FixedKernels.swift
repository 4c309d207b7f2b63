import FixedPoint
import Foundation
import ModelIR

/// The fixed-point kernels over a batch, on integers held exactly in Doubles.
///
/// Products and sums stay exact while below 2^53 in magnitude, which the program's bounds prove for
/// every kernel with an accumulator of at most 32 bits; wider ones fall back to Int64 arithmetic.
enum FixedKernels {
    /// requant on a Double holding an integer: the same function as `IntegerArithmetic.requantized`.
    @inline(__always)
    static func requantize(_ x: Double, shift: Int, lo: Double, hi: Double) -> Double {
        if shift > 0 {
            let r = ((x + pow2d(shift - 1)) * pow2d(-shift)).rounded(.down)
            return min(max(r, lo), hi)
        }
        if shift == 0 { return min(max(x, lo), hi) }
        return min(max(x * pow2d(-shift), lo), hi)
    }

    static func requantize(_ values: inout [Double], shift: Int, format: TensorFormat) {
        let lo = Double(format.minInt), hi = Double(format.maxInt)
        if shift > 0 {
            let half = pow2d(shift - 1), scale = pow2d(-shift)
            for i in values.indices { values[i] = min(max(((values[i] + half) * scale).rounded(.down), lo), hi) }
        } else {
            let scale = pow2d(-shift)
            for i in values.indices { values[i] = min(max(values[i] * scale, lo), hi) }
        }
    }

    /// `requantize` of `values[i] + bias[i % bias.count]` in one pass.
    static func requantize(_ values: inout [Double], bias: [Double]?, shift: Int, format: TensorFormat) {
        guard let bias, !bias.isEmpty else { return requantize(&values, shift: shift, format: format) }
        let lo = Double(format.minInt), hi = Double(format.maxInt), n = bias.count
        let half = shift > 0 ? pow2d(shift - 1) : 0, scale = pow2d(-shift)
        values.withUnsafeMutableBufferPointer { v in
            bias.withUnsafeBufferPointer { b in
                var j = 0
                for i in 0..<v.count {
                    let t = v[i] + b[j]
                    v[i] = shift > 0 ? min(max(((t + half) * scale).rounded(.down), lo), hi) : min(max(t * scale, lo), hi)
                    j += 1
                    if j == n { j = 0 }
                }
            }
        }
    }

    static func pow2d(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    /// The same computation in Int64, for accumulators whose bound is past 2^53.
    static func int64(_ values: [Double], _ body: ([Int64]) -> [Int64]) -> [Double] {
        body(values.map { Int64($0) }).map(Double.init)
    }

    static func linear(_ x: Batch, _ plan: Kernel.Linear, program: FixedProgram, output: TensorFormat) -> Batch {
        guard let w = program.constants[plan.weights] else { return Batch(zeros: x.rows, columns: 0) }
        let weights = Tensor(shape: w.shape, values: w.values.map(Double.init))
        let bias = plan.bias.flatMap { program.constants[$0] }.map {
            Tensor(shape: $0.shape, values: $0.values.map { Double($0) * pow2d(plan.biasShift) })
        }
        guard plan.bound < 9.0e15 else {
            return ScalarFixedKernels.linearBatch(x, plan, program: program, output: output)
        }
        var y: Batch
        switch plan.shape {
        case .dense: y = FloatKernels.dense(x, weights, nil)
        case let .conv2D(window, input): y = FloatKernels.conv2D(x, input: input, window: window, weights, nil)
        case let .depthwiseConv2D(window, input): y = FloatKernels.depthwiseConv2D(x, input: input, window: window, weights, nil)
        }
        // The bias joins the requantization pass (its channel is the innermost index, HWC).
        requantize(&y.values, bias: bias?.values, shift: plan.shift, format: output)
        return y
    }

    static func add(_ a: Batch, _ b: Batch?, _ plan: Kernel.Add, program: FixedProgram, output: TensorFormat) -> Batch {
        let sa = pow2d(plan.shiftA), sb = plan.subtract ? -pow2d(plan.shiftB) : pow2d(plan.shiftB)
        var out = a.values
        if let b {
            for i in out.indices { out[i] = out[i] * sa + b.values[i] * sb }
        } else {
            let c = program.constants[plan.constant ?? ""]?.values.map(Double.init) ?? [0]
            for i in out.indices { out[i] = out[i] * sa + c[c.count == 1 ? 0 : i % a.columns] * sb }
        }
        requantize(&out, shift: plan.shift, format: output)
        return Batch(rows: a.rows, columns: a.columns, values: out)
    }

    static func mul(_ a: Batch, _ b: Batch?, _ plan: Kernel.Mul, program: FixedProgram, output: TensorFormat) -> Batch {
        var out = a.values
        if let b {
            for i in out.indices { out[i] *= b.values[i] }
        } else {
            let c = program.constants[plan.constant ?? ""]?.values.map(Double.init) ?? [0]
            for i in out.indices { out[i] *= c[c.count == 1 ? 0 : i % a.columns] }
        }
        requantize(&out, shift: plan.shift, format: output)
        return Batch(rows: a.rows, columns: a.columns, values: out)
    }

    static func map(_ a: Batch, _ f: (Int64) -> Int64) -> Batch {
        Batch(rows: a.rows, columns: a.columns, values: a.values.map { Double(f(Int64($0))) })
    }

    static func avgPool(_ x: Batch, window: Window, input: Shape, multiplier: Int64, shift: Int, output: TensorFormat) -> Batch {
        var sums = FloatKernels.pool(x, input: input, window: window, .sum)
        let m = Double(multiplier)
        for i in sums.values.indices { sums.values[i] *= m }
        requantize(&sums.values, shift: shift, format: output)
        return sums
    }

    static func squaredDistance(_ x: Batch, constant: QuantizedTensor, shiftX: Int, shiftP: Int, shift: Int,
                                output: TensorFormat) -> Batch {
        let m = constant.shape.dims[0], d = constant.shape.dims[1]
        let sx = pow2d(shiftX)
        let p = constant.values.map { Double($0) * pow2d(shiftP) }
        var y = [Double](repeating: 0, count: x.rows * m)
        for r in 0..<x.rows {
            for j in 0..<m {
                var sum = 0.0
                for i in 0..<d {
                    let diff = x.values[r * d + i] * sx - p[j * d + i]
                    sum += diff * diff
                }
                y[r * m + j] = sum
            }
        }
        requantize(&y, shift: shift, format: output)
        return Batch(rows: x.rows, columns: m, values: y)
    }
}
