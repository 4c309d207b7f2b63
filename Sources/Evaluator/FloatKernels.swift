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
            b.values.withUnsafeBufferPointer { bias in
                y.withUnsafeMutableBufferPointer { out in
                    for r in 0..<x.rows { for j in 0..<n { out[r * n + j] = bias[j] } }
                }
            }
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

    /// For each output position and patch element, the input element it reads (-1 for padding).
    static func gatherMap(input: Shape, window: Window) -> (map: [Int32], positions: Int, patch: Int) {
        let (h, wd, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        let patch = window.kernelHeight * window.kernelWidth * c
        var map = [Int32](repeating: -1, count: out.height * out.width * patch)
        var k = 0
        for oy in 0..<out.height {
            for ox in 0..<out.width {
                for ky in 0..<window.kernelHeight {
                    let iy = oy * window.strideHeight + ky - window.padTop
                    for kx in 0..<window.kernelWidth {
                        let ix = ox * window.strideWidth + kx - window.padLeft
                        let inside = iy >= 0 && iy < h && ix >= 0 && ix < wd
                        for ch in 0..<c {
                            if inside { map[k] = Int32((iy * wd + ix) * c + ch) }
                            k += 1
                        }
                    }
                }
            }
        }
        return (map, out.height * out.width, patch)
    }

    /// The patches of every sample: `[B·positions, patch]`, zeros where the window reads padding.
    static func im2col(_ x: Batch, input: Shape, window: Window) -> (cols: [Double], positions: Int, patch: Int) {
        let (map, positions, patch) = gatherMap(input: input, window: window)
        let perSample = map.count
        // Every element is written (padding as zero), so the array needs no zero-fill first.
        let cols = [Double](unsafeUninitializedCapacity: x.rows * perSample) { dst, initialized in
            x.values.withUnsafeBufferPointer { src in
                map.withUnsafeBufferPointer { m in
                    for s in 0..<x.rows {
                        let base = s * x.columns, out = s * perSample
                        for k in 0..<perSample { dst[out + k] = m[k] >= 0 ? src[base + Int(m[k])] : 0 }
                    }
                }
            }
            initialized = x.rows * perSample
        }
        return (cols, positions, patch)
    }

    /// Convolution by im2col: one `[B·H'·W', kh·kw·C]` patch matrix times `Wᵀ`. Input and output are HWC.
    static func conv2D(_ x: Batch, input: Shape, window: Window, _ w: Tensor, _ b: Tensor?) -> Batch {
        let (cols, positions, patch) = im2col(x, input: input, window: window)
        let y = dense(Batch(rows: x.rows * positions, columns: patch, values: cols),
                      Tensor(shape: Shape([w.shape.dims[0], patch]), values: w.values), b)
        return Batch(rows: x.rows, columns: positions * w.shape.dims[0], values: y.values)
    }

    /// Depthwise convolution (one filter per channel, multiplier 1), W `[kh,kw,C]`: patches, then
    /// per channel a dot product with its filter.
    static func depthwiseConv2D(_ x: Batch, input: Shape, window: Window, _ w: Tensor, _ b: Tensor?) -> Batch {
        let c = input.dims[2]
        let (cols, positions, patch) = im2col(x, input: input, window: window)
        let taps = patch / c
        var y = [Double](repeating: 0, count: x.rows * positions * c)
        cols.withUnsafeBufferPointer { p in
            w.values.withUnsafeBufferPointer { f in
                y.withUnsafeMutableBufferPointer { out in
                    for r in 0..<(x.rows * positions) {
                        let row = r * patch, dst = r * c
                        for ch in 0..<c {
                            var sum = b?.values[ch] ?? 0
                            for t in 0..<taps { sum += p[row + t * c + ch] * f[t * c + ch] }
                            out[dst + ch] = sum
                        }
                    }
                }
            }
        }
        return Batch(rows: x.rows, columns: positions * c, values: y)
    }

    enum Pooling { case max, average, sum }

    /// Max, average or sum pooling without padding.
    static func pool(_ x: Batch, input: Shape, window: Window, _ mode: Pooling) -> Batch {
        let c = input.dims[2]
        let (map, positions, patch) = gatherMap(input: input, window: window)
        let taps = patch / c
        let area = Double(taps)
        var y = [Double](repeating: 0, count: x.rows * positions * c)
        x.values.withUnsafeBufferPointer { src in
            map.withUnsafeBufferPointer { m in
                y.withUnsafeMutableBufferPointer { out in
                    for s in 0..<x.rows {
                        let base = s * x.columns
                        for pos in 0..<positions {
                            let row = pos * patch, dst = (s * positions + pos) * c
                            for ch in 0..<c {
                                var acc = mode == .max ? -Double.infinity : 0
                                for t in 0..<taps {
                                    let v = src[base + Int(m[row + t * c + ch])]
                                    acc = mode == .max ? Swift.max(acc, v) : acc + v
                                }
                                out[dst + ch] = mode == .average ? acc / area : acc
                            }
                        }
                    }
                }
            }
        }
        return Batch(rows: x.rows, columns: positions * c, values: y)
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
