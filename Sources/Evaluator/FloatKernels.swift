import CBLAS
import ModelIR

/// The float kernels of the reference evaluator, each over a whole batch.
/// Matrix products go to OpenBLAS (`dgemm`); the rest are plain loops.
enum FloatKernels {
    /// `y = x · Wᵀ (+ b)`: x `[B,K]`, W `[N,K]` row-major, b `[N]`.
    static func dense(_ x: Batch, _ w: Tensor, _ b: Tensor?) -> Batch {
        let n = w.shape.dims[0], k = w.shape.dims[1]
        var y = [Double](repeating: 0, count: x.rows * n)
        if let b {
            for r in 0..<x.rows { y.replaceSubrange((r * n)..<((r + 1) * n), with: b.values) }
        }
        gemm(rows: x.rows, n: n, k: k, a: x.values, b: w.values, c: &y, accumulate: b != nil)
        return Batch(rows: x.rows, columns: n, values: y)
    }

    /// C[rows,n] (+)= A[rows,k] · B[n,k]ᵀ.
    static func gemm(rows: Int, n: Int, k: Int, a: [Double], b: [Double], c: inout [Double], accumulate: Bool) {
        guard rows > 0, n > 0, k > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(k),
                                1.0, pa.baseAddress, Int32(k), pb.baseAddress, Int32(k),
                                accumulate ? 1.0 : 0.0, pc.baseAddress, Int32(n))
                }
            }
        }
    }

    static func elementwise(_ a: Batch, _ b: Batch, _ f: (Double, Double) -> Double) -> Batch {
        Batch(rows: a.rows, columns: a.columns, values: zip(a.values, b.values).map(f))
    }

    /// `a ∘ B` for a constant B of one sample's shape or a scalar.
    static func elementwise(_ a: Batch, constant: Tensor, _ f: (Double, Double) -> Double) -> Batch {
        var out = a.values
        let c = constant.values
        if c.count == 1 {
            for i in out.indices { out[i] = f(out[i], c[0]) }
        } else {
            for i in out.indices { out[i] = f(out[i], c[i % a.columns]) }
        }
        return Batch(rows: a.rows, columns: a.columns, values: out)
    }

    static func map(_ a: Batch, _ f: (Double) -> Double) -> Batch {
        Batch(rows: a.rows, columns: a.columns, values: a.values.map(f))
    }

    /// Convolution by im2col: one `[B·H'·W', kh·kw·C]` patch matrix times `Wᵀ`. Input and output are HWC.
    static func conv2D(_ x: Batch, input: Shape, window: Window, _ w: Tensor, _ b: Tensor?) -> Batch {
        let (h, wd, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        let patch = window.kernelHeight * window.kernelWidth * c
        let positions = out.height * out.width
        var cols = [Double](repeating: 0, count: x.rows * positions * patch)
        for s in 0..<x.rows {
            let base = s * h * wd * c
            for oy in 0..<out.height {
                for ox in 0..<out.width {
                    var dst = ((s * positions) + oy * out.width + ox) * patch
                    for ky in 0..<window.kernelHeight {
                        let iy = oy * window.strideHeight + ky - window.padTop
                        for kx in 0..<window.kernelWidth {
                            let ix = ox * window.strideWidth + kx - window.padLeft
                            if iy >= 0, iy < h, ix >= 0, ix < wd {
                                let src = base + (iy * wd + ix) * c
                                for ch in 0..<c { cols[dst + ch] = x.values[src + ch] }
                            }
                            dst += c
                        }
                    }
                }
            }
        }
        let y = dense(Batch(rows: x.rows * positions, columns: patch, values: cols),
                      Tensor(shape: Shape([w.shape.dims[0], patch]), values: w.values), b)
        return Batch(rows: x.rows, columns: positions * w.shape.dims[0], values: y.values)
    }

    /// Depthwise convolution (one filter per channel, multiplier 1), W `[kh,kw,C]`.
    static func depthwiseConv2D(_ x: Batch, input: Shape, window: Window, _ w: Tensor, _ b: Tensor?) -> Batch {
        let (h, wd, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        var y = [Double](repeating: 0, count: x.rows * out.height * out.width * c)
        for s in 0..<x.rows {
            for oy in 0..<out.height {
                for ox in 0..<out.width {
                    let dst = ((s * out.height + oy) * out.width + ox) * c
                    for ch in 0..<c {
                        var sum = b?.values[ch] ?? 0
                        for ky in 0..<window.kernelHeight {
                            let iy = oy * window.strideHeight + ky - window.padTop
                            guard iy >= 0, iy < h else { continue }
                            for kx in 0..<window.kernelWidth {
                                let ix = ox * window.strideWidth + kx - window.padLeft
                                guard ix >= 0, ix < wd else { continue }
                                sum += x.values[((s * h + iy) * wd + ix) * c + ch]
                                    * w.values[(ky * window.kernelWidth + kx) * c + ch]
                            }
                        }
                        y[dst + ch] = sum
                    }
                }
            }
        }
        return Batch(rows: x.rows, columns: out.height * out.width * c, values: y)
    }

    enum Pooling { case max, average, sum }

    /// Max, average or sum pooling without padding.
    static func pool(_ x: Batch, input: Shape, window: Window, _ mode: Pooling) -> Batch {
        let max = mode == .max
        let (h, wd, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        let area = Double(window.kernelHeight * window.kernelWidth)
        var y = [Double](repeating: 0, count: x.rows * out.height * out.width * c)
        for s in 0..<x.rows {
            for oy in 0..<out.height {
                for ox in 0..<out.width {
                    for ch in 0..<c {
                        var acc = max ? -Double.infinity : 0
                        for ky in 0..<window.kernelHeight {
                            for kx in 0..<window.kernelWidth {
                                let iy = oy * window.strideHeight + ky, ix = ox * window.strideWidth + kx
                                let v = x.values[((s * h + iy) * wd + ix) * c + ch]
                                acc = max ? Swift.max(acc, v) : acc + v
                            }
                        }
                        y[((s * out.height + oy) * out.width + ox) * c + ch] = mode == .average ? acc / area : acc
                    }
                }
            }
        }
        return Batch(rows: x.rows, columns: out.height * out.width * c, values: y)
    }

    /// ‖x − P_m‖² for every row x and prototype m.
    static func squaredDistance(_ x: Batch, _ p: Tensor) -> Batch {
        let m = p.shape.dims[0], d = p.shape.dims[1]
        var y = [Double](repeating: 0, count: x.rows * m)
        for r in 0..<x.rows {
            for j in 0..<m {
                var sum = 0.0
                for i in 0..<d {
                    let diff = x.values[r * d + i] - p.values[j * d + i]
                    sum += diff * diff
                }
                y[r * m + j] = sum
            }
        }
        return Batch(rows: x.rows, columns: m, values: y)
    }

    static func argMax(_ x: Batch) -> Batch {
        Batch(rows: x.rows, columns: 1, values: x.argMaxRows().map(Double.init))
    }
}
