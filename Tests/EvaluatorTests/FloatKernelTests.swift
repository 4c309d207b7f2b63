import Testing
@testable import Evaluator
import ModelIR

/// Each batched kernel against a direct, independent computation.
@Suite struct FloatKernelTests {
    /// A reproducible pseudo-random sequence in [-1, 1).
    struct Values {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 52) - 1
        }
        mutating func take(_ n: Int) -> [Double] { (0..<n).map { _ in next() } }
    }

    @Test(arguments: [(1, 0), (1, 1), (2, 1), (2, 0)])
    func convolutionMatchesTheDefinition(stride: Int, pad: Int) {
        var random = Values(state: UInt64(stride * 10 + pad))
        let (h, w, c, o, k) = (7, 6, 3, 4, 3)
        let window = Window(kernelHeight: k, kernelWidth: k, strideHeight: stride, strideWidth: stride,
                            padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
        let x = Batch(rows: 2, columns: h * w * c, values: random.take(2 * h * w * c))
        let weights = Tensor(shape: Shape([o, k, k, c]), values: random.take(o * k * k * c))
        let bias = Tensor(shape: Shape([o]), values: random.take(o))
        let y = FloatKernels.conv2D(x, input: Shape([h, w, c]), window: window, weights, bias)
        let out = window.outputSize(height: h, width: w)!
        var expected: [Double] = []
        for s in 0..<2 {
            for oy in 0..<out.height {
                for ox in 0..<out.width {
                    for f in 0..<o {
                        var sum = bias.values[f]
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = oy * stride + ky - pad, ix = ox * stride + kx - pad
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                for ch in 0..<c {
                                    let input: Double = x.values[s * h * w * c + (iy * w + ix) * c + ch]
                                    let weight: Double = weights.values[((f * k + ky) * k + kx) * c + ch]
                                    sum += input * weight
                                }
                            }
                        }
                        expected.append(sum)
                    }
                }
            }
        }
        #expect(y.values.count == expected.count)
        #expect(zip(y.values, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func depthwiseConvolutionByHand() {
        // 2x2 input, 2 channels, 2x2 kernel, no padding: one output per channel.
        let x = Batch(rows: 1, columns: 8, values: [1, 10, 2, 20, 3, 30, 4, 40])
        let w = Tensor(shape: Shape([2, 2, 2]), values: [1, 0, 1, 0, 1, 0, 1, 1])
        let y = FloatKernels.depthwiseConv2D(x, input: Shape([2, 2, 2]), window: Window(kernelHeight: 2, kernelWidth: 2), w,
                                             Tensor(shape: Shape([2]), values: [0.5, -1]))
        let expected: [Double] = [10.5, 39]  // channel 0: 1+2+3+4 + 0.5; channel 1: 40 - 1
        #expect(y.values == expected)
    }

    @Test func poolingByHand() {
        let x = Batch(rows: 1, columns: 4, values: [1, -2, 5, 3])  // 2x2x1
        let window = Window(kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        #expect(FloatKernels.pool(x, input: Shape([2, 2, 1]), window: window, .max).values == [5])
        #expect(FloatKernels.pool(x, input: Shape([2, 2, 1]), window: window, .average).values == [7.0 / 4])
    }

    @Test func denseAndSquaredDistanceByHand() {
        let x = Batch(rows: 2, columns: 2, values: [1, 2, -1, 0.5])
        let w = Tensor(shape: Shape([3, 2]), values: [1, 0, 0, 1, 2, -1])
        #expect(FloatKernels.dense(x, w, Tensor(shape: Shape([3]), values: [0, 1, 2])).values == [1, 3, 2, -1, 1.5, -0.5])
        let p = Tensor(shape: Shape([2, 2]), values: [0, 0, 1, 1])
        #expect(FloatKernels.squaredDistance(x, p).values == [5, 1, 1.25, 4.25])
    }

    @Test func argMaxTakesTheLowestIndexOnTies() {
        let x = Batch(rows: 2, columns: 3, values: [1, 3, 3, -1, -1, -2])
        #expect(x.argMaxRows() == [1, 0])
    }
}
