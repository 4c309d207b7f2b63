/// A tensor whose value is known at import time: an initializer, a `Constant` node, or the result
/// of folding ops that read only such tensors. Dims are ONNX's (batch included where it has one).
///
/// Integers are held as `Double` (exact up to 2^53, far beyond any shape or index). The batch size,
/// which a `Shape` of an activation reports, is not known: it is `ConstantValue.batch`, a NaN, so
/// anything computed from it is NaN too and can never pass for a weight or a fixed dimension.
struct ConstantValue: Equatable {
    enum ElementType: Equatable {
        case float, integer, boolean
        case other(String)
    }

    static let batch = Double.nan

    var dims: [Int]
    var values: [Double]
    var type: ElementType

    var count: Int { values.count }
    var isScalarLike: Bool { values.count == 1 }

    init(dims: [Int], values: [Double], type: ElementType) {
        self.dims = dims
        self.values = values
        self.type = type
    }

    /// The product of `dims`, or nil when one is negative or it exceeds `limit` (a corrupted file
    /// must not make us allocate, or overflow, computing a size).
    static func product(_ dims: [Int], limit: Int = TensorReader.maxElements) -> Int? {
        var count = 1
        for d in dims {
            let (next, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, next <= limit else { return nil }
            count = next
        }
        return count
    }

    /// Row-major strides of `dims`.
    static func strides(_ dims: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: dims.count)
        var step = 1
        for axis in dims.indices.reversed() {
            strides[axis] = step
            step *= dims[axis]
        }
        return strides
    }

    /// The values broadcast (numpy rules) to `target`, or nil when they do not broadcast.
    func broadcast(to target: [Int]) -> [Double]? {
        guard dims.count <= target.count else { return nil }
        let padded = Array(repeating: 1, count: target.count - dims.count) + dims
        for (d, t) in zip(padded, target) where d != t && d != 1 { return nil }
        if padded == target { return values }
        // A broadcast axis repeats its one value: stride 0.
        let sourceStrides = Self.strides(padded)
        return Self.gather(values, shape: target, strides: target.indices.map { padded[$0] == 1 ? 0 : sourceStrides[$0] })
    }

    /// The elements `first[axis] + i * step[axis]`, `i` in `0..<count[axis]`, along each axis (in
    /// range: the caller has clamped them, as ONNX's Slice does).
    func sliced(first: [Int], count: [Int], step: [Int]) -> ConstantValue {
        let strides = Self.strides(dims)
        let offset = zip(first, strides).map { $0 * $1 }.reduce(0, +)
        let values = Self.gather(values, shape: count, strides: zip(strides, step).map { $0 * $1 }, offset: offset)
        return ConstantValue(dims: count, values: values, type: type)
    }

    /// The row-major array of `shape` whose element at index i reads `values[offset + sum(i[axis] * strides[axis])]`:
    /// a broadcast (stride 0 on a repeated axis), a transpose (the input's strides permuted) or a slice.
    private static func gather(_ values: [Double], shape: [Int], strides: [Int], offset: Int = 0) -> [Double] {
        let total = shape.reduce(1, *)
        var out = [Double](repeating: 0, count: total)
        var index = Array(repeating: 0, count: shape.count)
        for flat in 0..<total {
            var source = offset
            for axis in shape.indices { source += index[axis] * strides[axis] }
            out[flat] = values[source]
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// The broadcast shape of two operands, or nil.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// The tensor with its axes permuted: output axis `i` is input axis `permutation[i]`.
    func transposed(_ permutation: [Int]) -> ConstantValue {
        let inStrides = Self.strides(dims)
        let outDims = permutation.map { dims[$0] }
        return ConstantValue(dims: outDims, values: Self.gather(values, shape: outDims, strides: permutation.map { inStrides[$0] }), type: type)
    }
}

/// Index maps between ONNX's channels-first layout and ours (channels last).
enum ChannelsLast {
    /// For a per-sample `[C, H, W]` tensor stored as our `[H, W, C]`: entry `i` is the ONNX flat
    /// index of our flat index `i`.
    static func order(channels: Int, height: Int, width: Int) -> [Int] {
        var order: [Int] = []
        order.reserveCapacity(channels * height * width)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { order.append((c * height + y) * width + x) }
            }
        }
        return order
    }
}
