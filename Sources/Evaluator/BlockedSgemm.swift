import CBLAS

/// `A · Wᵀ` in single precision, exact: Floats hold every integer below 2^24, so a dot product of
/// integers is exact in any order, with or without FMA, while Σ|a·w| stays below 2^24.
///
/// The proof is per layer, from the actual integer weights and the largest |a| the input format
/// allows: the inner dimension is cut into blocks over which Σ|w| · max|a| < 2^24 for every output.
/// Each block is one sgemm on a strided view of A and W into its own Float product; the caller sums
/// the products in Doubles. Nil when a single product could reach 2^24 or more than `maxBlocks`
/// blocks would be needed.
struct BlockedSgemm: Sendable {
    /// `[outputs, inner]` row-major.
    let weights: [Float]
    let outputs: Int
    let inner: Int
    let blocks: [Range<Int>]

    /// Floats are exact up to 2^24; a partial sum must stay strictly below it.
    static let limit = 16_777_216.0

    init?(weights: [Int64], outputs: Int, inner: Int, inputMagnitude: Double, maxBlocks: Int) {
        guard outputs > 0, inner > 0, weights.count == outputs * inner else { return nil }
        func term(_ o: Int, _ k: Int) -> Double { Double(weights[o * inner + k].magnitude) * inputMagnitude }
        var blocks: [Range<Int>] = []
        var start = 0
        var sums = [Double](repeating: 0, count: outputs)
        for k in 0..<inner {
            guard (0..<outputs).allSatisfy({ term($0, k) < Self.limit }) else { return nil }
            if !(0..<outputs).allSatisfy({ sums[$0] + term($0, k) < Self.limit }) {
                blocks.append(start..<k)
                start = k
                sums = [Double](repeating: 0, count: outputs)
            }
            for o in 0..<outputs { sums[o] += term(o, k) }
        }
        blocks.append(start..<inner)
        guard blocks.count <= maxBlocks else { return nil }
        self.weights = weights.map(Float.init)
        self.outputs = outputs
        self.inner = inner
        self.blocks = blocks
    }

    /// One product per block, each `[rows, outputs]`, one after another: `a[rows, inner] · Wᵀ`
    /// over the block's columns.
    func products(_ a: [Float], rows: Int) -> [Float] {
        let size = rows * outputs
        guard size > 0 else { return [] }
        let (m, n, k) = (Int32(rows), Int32(outputs), Int32(inner))
        // sgemm with beta = 0 writes every element, so the buffer needs no zero-fill first.
        return [Float](unsafeUninitializedCapacity: blocks.count * size) { c, initialized in
            a.withUnsafeBufferPointer { pa in
                weights.withUnsafeBufferPointer { pw in
                    guard let a0 = pa.baseAddress, let w0 = pw.baseAddress, let c0 = c.baseAddress else { return }
                    for (b, block) in blocks.enumerated() {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, Int32(block.count),
                                    1, a0 + block.lowerBound, k, w0 + block.lowerBound, k, 0, c0 + b * size, n)
                    }
                }
            }
            initialized = blocks.count * size
        }
    }
}
