import FixedPoint
import Foundation

/// ONNX semantics written out directly on channels-first arrays, one sample at a time: the
/// independent side of the numerical tests.
enum NCHWReference {
    /// `Conv` with `weight [O, C/group, kh, kw]`, symmetric `pad`, on `x [C, H, W]`.
    static func conv(_ x: [Double], c: Int, h: Int, w: Int, weight: [Double], o: Int, k: Int, bias: [Double]?,
                     stride: Int, pad: Int, group: Int) -> (values: [Double], h: Int, w: Int) {
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        let perGroup = c / group, outPerGroup = o / group
        var out = [Double](repeating: 0, count: o * oh * ow)
        for f in 0..<o {
            let g = f / outPerGroup
            for y in 0..<oh {
                for x0 in 0..<ow {
                    var sum = bias?[f] ?? 0
                    for ci in 0..<perGroup {
                        let channel = g * perGroup + ci
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = y * stride + ky - pad, ix = x0 * stride + kx - pad
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                sum += x[(channel * h + iy) * w + ix] * weight[((f * perGroup + ci) * k + ky) * k + kx]
                            }
                        }
                    }
                    out[(f * oh + y) * ow + x0] = sum
                }
            }
        }
        return (out, oh, ow)
    }

    static func batchNorm(_ x: [Double], c: Int, scale: [Double], bias: [Double], mean: [Double], variance: [Double],
                          epsilon: Double) -> [Double] {
        let spatial = x.count / c
        return x.indices.map { i in
            let ch = i / spatial
            return scale[ch] * (x[i] - mean[ch]) / (variance[ch] + epsilon).squareRoot() + bias[ch]
        }
    }

    static func pool(_ x: [Double], c: Int, h: Int, w: Int, k: Int, stride: Int, max: Bool) -> (values: [Double], h: Int, w: Int) {
        let oh = (h - k) / stride + 1, ow = (w - k) / stride + 1
        var out: [Double] = []
        for ch in 0..<c {
            for y in 0..<oh {
                for x0 in 0..<ow {
                    var window: [Double] = []
                    for ky in 0..<k { for kx in 0..<k { window.append(x[(ch * h + y * stride + ky) * w + x0 * stride + kx]) } }
                    out.append(max ? (window.max() ?? 0) : window.reduce(0, +) / Double(window.count))
                }
            }
        }
        return (out, oh, ow)
    }

    /// `Gemm` with `B` as stored (`[K, N]`, or `[N, K]` when `transB`).
    static func gemm(_ a: [Double], b: [Double], n: Int, transB: Bool, c: [Double]?, alpha: Double = 1, beta: Double = 1) -> [Double] {
        let k = a.count
        return (0..<n).map { j in
            var sum = 0.0
            for i in 0..<k { sum += a[i] * (transB ? b[j * k + i] : b[i * n + j]) }
            return alpha * sum + beta * (c?[j] ?? 0)
        }
    }

    static func relu(_ x: [Double]) -> [Double] { x.map { Swift.max($0, 0) } }

    /// `[N, C, H, W]` samples as our `[N, H, W, C]`.
    static func channelsLast(_ x: [Double], samples: Int, c: Int, h: Int, w: Int) -> [Double] {
        var out: [Double] = []
        for s in 0..<samples {
            for y in 0..<h { for x0 in 0..<w { for ch in 0..<c { out.append(x[s * c * h * w + (ch * h + y) * w + x0]) } } }
        }
        return out
    }
}

/// Reproducible values from the project's seeded generator (SplitMix64).
struct SeededValues: RandomNumberGenerator {
    private var generator: SeededGenerator
    init(state: UInt64) { generator = SeededGenerator(seed: state) }
    mutating func next() -> UInt64 { generator.next() }
    /// Values in [-1, 1), rounded to float32 as the model file stores them.
    mutating func take(_ n: Int) -> [Double] { (0..<n).map { _ in Double(Float(Double.random(in: -1..<1, using: &self))) } }
}
