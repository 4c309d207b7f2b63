import FixedPoint
import Foundation
import ModelIR

/// The fixed-point kernels over a batch, on integers held exactly in Doubles.
///
/// Products and sums are exact below 2^53 in magnitude and `Requantizer` below 2^52, which the
/// program's bounds prove for every kernel with an accumulator of at most 32 bits; wider ones fall
/// back to Int64 arithmetic (except squared distances, whose bound is checked here). The linear
/// kernels are in `LinearOperator`.
enum FixedKernels {
    /// Requantizes in place; every kernel calling this has an accumulator of at most 32 bits.
    static func requantize(_ values: inout [Double], shift: Int, format: TensorFormat) {
        Requantizer(shift: shift, format: format).apply(&values)
    }

    static func pow2d(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    /// `TensorFormat.quantize` of every value with the scale hoisted: min(max(round(v·scale), lo), hi),
    /// halves away from zero, without a libm call per element.
    ///
    /// Saturating first changes nothing (lo and hi are integers and rounding is monotone); the
    /// saturated value c is below 2^51, so adding and subtracting 1.5·2^52 rounds it to the nearest
    /// integer r, ties to even; at a tie (|c − r| = ½) the result is c ± ½ away from zero instead.
    /// NaN stays NaN, as with `rounded`.
    static func quantize(_ values: [Double], scale: Double, lo: Double, hi: Double) -> [Double] {
        let magic = Requantizer.roundingMagic
        return [Double](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { src in
                for i in 0..<src.count {
                    let c = Swift.min(Swift.max(src[i] * scale, lo), hi)
                    let r = (c + magic) - magic
                    let away = c + Double(signOf: c, magnitudeOf: 0.5)
                    out[i] = abs(c - r) == 0.5 ? away : r
                }
            }
            initialized = values.count
        }
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

    /// y = requant(max over the window, shift); only a change of format needs the requantization.
    static func maxPool(_ x: Batch, _ runs: WindowRuns, shift: Int, inputBits: Int, output: TensorFormat) -> Batch {
        var y = pool(x, runs, initial: -.infinity) { $0 > $1 ? $0 : $1 }
        if !(shift == 0 && output.bits >= inputBits) { requantize(&y.values, shift: shift, format: output) }
        return y
    }

    /// y = requant(multiplier · Σ window, shift).
    static func avgPool(_ x: Batch, _ runs: WindowRuns, multiplier: Int64, shift: Int, output: TensorFormat) -> Batch {
        var sums = pool(x, runs, initial: 0, +)
        let m = Double(multiplier)
        sums.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] *= m }
        }
        requantize(&sums.values, shift: shift, format: output)
        return sums
    }

    /// Reduces every window (pools have no padding) run by run, channels innermost.
    @inline(__always)
    private static func pool(_ x: Batch, _ runs: WindowRuns, initial: Double,
                             _ combine: (Double, Double) -> Double) -> Batch {
        let c = runs.channels, perSample = runs.positions * c, columns = x.columns, stride = runs.inputStride
        var y = [Double](repeating: initial, count: x.rows * perSample)
        x.values.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { out in
                guard let x0 = src.baseAddress, let y0 = out.baseAddress else { return }
                for s in 0..<x.rows {
                    for run in runs.runs {
                        let o = y0 + s * perSample + run.output, i = x0 + s * columns + run.input
                        for p in 0..<run.pixels {
                            let op = o + p * c, ip = i + p * stride
                            for ch in 0..<c { op[ch] = combine(op[ch], ip[ch]) }
                        }
                    }
                }
            }
        }
        return Batch(rows: x.rows, columns: perSample, values: y)
    }

    /// Whether every sum of `squaredDistance` is below 2^52, so Doubles compute and requantize it
    /// exactly: d · (max|x|·2^shiftX + max|P|·2^shiftP)², the bound the accumulator width came from.
    static func squaredDistanceIsExact(_ p: QuantizedTensor, input: TensorFormat, shiftX: Int, shiftP: Int) -> Bool {
        guard p.shape.rank == 2 else { return false }
        let difference = Double(input.magnitude) * pow2d(shiftX) + Double(p.maxAbs) * pow2d(shiftP)
        return Requantizer.isExact(bound: Double(p.shape.dims[1]) * difference * difference)
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
