import ModelIR

/// im2col as a pure gather: for every output position and patch element, the input element it
/// reads, with padding pointing at a zero placed just past the sample (index `columns`).
///
/// Each sample is first copied next to that zero, so the inner loop has no branch for padding.
struct PatchGather: Sendable {
    let positions: Int
    let patch: Int
    private let columns: Int
    private let map: [Int32]

    init(input: Shape, window: Window) {
        let (map, positions, patch) = FloatKernels.gatherMap(input: input, window: window)
        let columns = input.elementCount
        self.map = map.map { $0 >= 0 ? $0 : Int32(columns) }
        self.positions = positions
        self.patch = patch
        self.columns = columns
    }

    /// The patches of every sample: `[rows·positions, patch]` row-major.
    func callAsFunction(_ x: Batch) -> [Double] { gather(x, as: Double.self) }

    /// The patches in `T`; Floats are exact here, the values being integers of at most 16 bits.
    func gather<T: BinaryFloatingPoint>(_ x: Batch, as: T.Type) -> [T] {
        let perSample = map.count, rows = x.rows, columns = columns
        guard rows * perSample > 0 else { return [] }
        var padded = [T](repeating: 0, count: columns + 1)
        // Every element is written, so the array needs no zero-fill first.
        return [T](unsafeUninitializedCapacity: rows * perSample) { dst, initialized in
            x.values.withUnsafeBufferPointer { src in
                map.withUnsafeBufferPointer { m in
                    padded.withUnsafeMutableBufferPointer { pad in
                        guard let d0 = dst.baseAddress, let p = pad.baseAddress, let m = m.baseAddress else { return }
                        for r in 0..<rows {
                            if let s = src.baseAddress {
                                for i in 0..<columns { p[i] = T(s[r * columns + i]) }
                            }
                            let d = d0 + r * perSample
                            for k in 0..<perSample { d[k] = p[Int(m[k])] }
                        }
                    }
                }
            }
            initialized = rows * perSample
        }
    }
}
