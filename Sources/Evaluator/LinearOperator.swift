import FixedPoint
import ModelIR

/// A linear step (dense, convolution, depthwise convolution) prepared once for the BLAS path:
/// weights and the aligned bias as Doubles, the convolution's gather, and the requantizer (with
/// any ReLU folded into its saturation). `apply` then runs one chunk of samples.
///
/// Dense and convolution are one GEMM each (im2col for the convolution; in Floats where
/// `BlockedSgemm` proves it exact) whose output is HWC, the channel innermost; the products are
/// added onto the bias and requantized in one more pass. A depthwise convolution has too little
/// work per output for a GEMM and sums its taps directly, run by run (`WindowRuns`).
struct LinearOperator: Sendable {
    enum Form: Sendable {
        case dense
        case conv(PatchGather)
        /// `tiled`: per tap, its C weights repeated `tileWidth / C` times, so a stride-1 run
        /// multiplies two contiguous vectors.
        case depthwise(WindowRuns, tiled: [Double], tileWidth: Int)
    }

    let form: Form
    /// Dense and conv: `[outputs, inner]` row-major; depthwise: `[taps, channels]`.
    let weights: [Double]
    /// Conv: the same product in Floats, where the weights and the input format prove it exact.
    let single: BlockedSgemm?
    let outputs: Int
    let inner: Int
    /// Elements of one input sample; any other batch is refused rather than read out of bounds.
    let inputColumns: Int
    /// One sample's output before any product: bias · 2^biasShift at every position, or zeros.
    /// The GEMM adds onto it (beta = 1), so the bias needs no pass of its own.
    let initial: [Double]
    let requantizer: Requantizer

    /// Nil when the weights are missing.
    init?(_ plan: Kernel.Linear, program: FixedProgram, input: TensorFormat, requantizer: Requantizer) {
        guard let w = program.constants[plan.weights] else { return nil }
        let weights = w.values.map(Double.init)
        self.weights = weights
        self.requantizer = requantizer
        let positions: Int
        switch plan.shape {
        case .dense:
            (form, outputs, inner, positions) = (.dense, w.shape.dims[0], w.shape.dims[1], 1)
            inputColumns = inner
        case let .conv2D(window, input):
            let gather = PatchGather(input: input, window: window)
            (form, outputs, inner, positions) = (.conv(gather), w.shape.dims[0], gather.patch, gather.positions)
            inputColumns = input.elementCount
        case let .depthwiseConv2D(window, input):
            let runs = WindowRuns(input: input, window: window), c = runs.channels
            let tileWidth = (runs.runs.map(\.pixels).max() ?? 0) * c
            var tiled = [Double](repeating: 0, count: runs.taps * tileWidth)
            for t in 0..<runs.taps {
                for e in 0..<tileWidth where t * c + e % c < weights.count { tiled[t * tileWidth + e] = weights[t * c + e % c] }
            }
            (form, outputs, inner, positions) = (.depthwise(runs, tiled: tiled, tileWidth: tileWidth), c, 0, runs.positions)
            inputColumns = input.elementCount
        }
        // Floats only for convolutions: their patches are gathered as Floats at no extra cost, while
        // a dense layer would need a conversion pass that costs more than sgemm saves (measured).
        if case .conv = form {
            single = BlockedSgemm(weights: w.values, outputs: outputs, inner: inner,
                                  inputMagnitude: Double(input.magnitude), maxBlocks: 4)
        } else {
            single = nil
        }
        let biasScale = FixedKernels.pow2d(plan.biasShift)
        let bias = plan.bias.flatMap { program.constants[$0] }?.values.map { Double($0) * biasScale } ?? []
        let outputs = outputs
        initial = (0..<(positions * outputs)).map { i in i % outputs < bias.count ? bias[i % outputs] : 0 }
    }

    /// Output positions per sample (1 for dense).
    var positions: Int {
        switch form {
        case .dense: 1
        case let .conv(gather): gather.positions
        case let .depthwise(runs, _, _): runs.positions
        }
    }

    /// The step's output for a chunk, or nil when `x` does not have the shape the step was planned for.
    func apply(_ x: Batch) -> Batch? {
        guard x.columns == inputColumns else { return nil }
        let rows = x.rows * positions
        if let single, case let .conv(gather) = form {
            let products = single.products(gather.gather(x, as: Float.self), rows: rows)
            let y = finish(products, blocks: single.blocks.count, samples: x.rows)
            return Batch(rows: x.rows, columns: positions * outputs, values: y)
        }
        var y = startingValues(samples: x.rows)
        switch form {
        case .dense:
            FloatKernels.gemm(rows: rows, n: outputs, k: inner, a: x.values, b: weights, c: &y, accumulate: true)
        case let .conv(gather):
            FloatKernels.gemm(rows: rows, n: outputs, k: inner, a: gather(x), b: weights, c: &y, accumulate: true)
        case let .depthwise(runs, tiled, tileWidth):
            Self.depthwise(x, runs, tiled: tiled, tileWidth: tileWidth, into: &y)
        }
        requantizer.apply(&y)
        return Batch(rows: x.rows, columns: positions * outputs, values: y)
    }

    /// requant(initial + Σ products) for every sample, the Float products of the blocks summed in
    /// Doubles; the requantization joins the pass over the last product.
    private func finish(_ products: [Float], blocks: Int, samples: Int) -> [Double] {
        let perSample = initial.count, size = samples * perSample
        guard size > 0, blocks > 0, products.count == blocks * size else { return [Double](repeating: 0, count: size) }
        return [Double](unsafeUninitializedCapacity: size) { y, initialized in
            products.withUnsafeBufferPointer { p in
                initial.withUnsafeBufferPointer { t in
                    guard let y0 = y.baseAddress, let p0 = p.baseAddress, let t0 = t.baseAddress else { return }
                    for s in 0..<samples {
                        let ys = y0 + s * perSample, ps = p0 + s * perSample
                        if blocks == 1 {
                            requantizer.apply(count: perSample, into: ys) { t0[$0] + Double(ps[$0]) }
                        } else {
                            for e in 0..<perSample { ys[e] = t0[e] + Double(ps[e]) }
                        }
                    }
                    guard blocks > 1 else { return }
                    for b in 1..<(blocks - 1) {
                        let pb = p0 + b * size
                        for i in 0..<size { y0[i] += Double(pb[i]) }
                    }
                    let last = p0 + (blocks - 1) * size
                    requantizer.apply(count: size, into: y0) { y0[$0] + Double(last[$0]) }
                }
            }
            initialized = size
        }
    }

    /// `initial` once per sample.
    private func startingValues(samples: Int) -> [Double] {
        let perSample = initial.count
        return [Double](unsafeUninitializedCapacity: samples * perSample) { buffer, initialized in
            initial.withUnsafeBufferPointer { tile in
                guard let t = tile.baseAddress, let b = buffer.baseAddress else { return }
                for s in 0..<samples { (b + s * perSample).initialize(from: t, count: perSample) }
            }
            initialized = samples * perSample
        }
    }

    /// Adds Σ over the taps inside the input of x·w to `y`, per sample, position and channel.
    private static func depthwise(_ x: Batch, _ runs: WindowRuns, tiled: [Double], tileWidth: Int, into y: inout [Double]) {
        let c = runs.channels, perSample = runs.positions * c, columns = x.columns, stride = runs.inputStride
        x.values.withUnsafeBufferPointer { src in
            tiled.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { out in
                    guard let x0 = src.baseAddress, let y0 = out.baseAddress, let w0 = w.baseAddress else { return }
                    for s in 0..<x.rows {
                        for run in runs.runs {
                            let o = y0 + s * perSample + run.output, i = x0 + s * columns + run.input
                            let wt = w0 + run.tap * tileWidth
                            if stride == c {
                                for e in 0..<(run.pixels * c) { o[e] += i[e] * wt[e] }
                            } else {
                                for p in 0..<run.pixels {
                                    let op = o + p * c, ip = i + p * stride
                                    for ch in 0..<c { op[ch] += ip[ch] * wt[ch] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
