import Foundation

/// Evaluates, at import time, the ops of a subgraph that reads only constants: the
/// Shape/Gather/Unsqueeze/Concat chains PyTorch writes for `x.view(x.size(0), -1)` (tf2onnx: Shape,
/// Gather, Cast, Slice, Concat for a Keras Flatten), casts, and
/// arithmetic on weights (a transposed or scaled initializer).
struct ConstantFolder {
    static let ops: Set<String> = [
        "Constant", "Identity", "Dropout", "Cast", "Gather", "Slice", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Transpose",
        "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Reciprocal", "ConstantOfShape", "Sigmoid", "Tanh", "Exp",
    ]

    let path: String
    let opset: Int
    let node: String
    let op: String
    let attributes: NodeAttributes

    /// The node's outputs, from its inputs (nil where an optional input is absent).
    func fold(_ inputs: [ConstantValue?]) throws(ONNXImportError) -> ConstantValue {
        switch op {
        case "Constant": return try constant()
        case "Identity", "Dropout": return try input(inputs, 0)
        case "Cast": return try cast(try input(inputs, 0))
        case "Gather": return try gather(try input(inputs, 0), try input(inputs, 1))
        case "Slice": return try slice(inputs)
        case "Unsqueeze": return try unsqueeze(try input(inputs, 0), axes: try axes(inputs))
        case "Squeeze": return try squeeze(try input(inputs, 0), axes: try axes(inputs))
        case "Concat": return try concat(inputs.compactMap { $0 })
        case "Reshape": return try reshape(try input(inputs, 0), try input(inputs, 1))
        case "Transpose":
            let x = try input(inputs, 0)
            let permutation = try attributes.ints("perm") ?? Array(x.dims.indices.reversed())
            guard permutation.sorted() == Array(x.dims.indices) else { throw attributes.invalid("perm", "must permute the \(x.dims.count) axes") }
            return x.transposed(permutation)
        case "Add", "Sub", "Mul", "Div": return try arithmetic(try input(inputs, 0), try input(inputs, 1))
        case "Neg": return map(try input(inputs, 0)) { -$0 }
        case "Sqrt": return map(try input(inputs, 0)) { $0.squareRoot() }
        case "Reciprocal": return map(try input(inputs, 0)) { 1 / $0 }
        // A cell's `sigmoid(zeta)` of a weight; in double, as our lowering of FastGRNN computes it.
        case "Sigmoid": return map(try input(inputs, 0)) { 1 / (1 + Foundation.exp(-$0)) }
        case "Tanh": return map(try input(inputs, 0)) { Foundation.tanh($0) }
        case "Exp": return map(try input(inputs, 0)) { Foundation.exp($0) }
        case "ConstantOfShape":
            let shape = try dimensions(try input(inputs, 0), what: "shape")
            let fill = try attributes.tensor("value").map { (t: Onnx_TensorProto) throws(ONNXImportError) in
                try TensorReader(path: path).read(t, name: "\(node).value")
            } ?? ConstantValue(dims: [1], values: [0], type: .float)
            guard fill.count == 1 else { throw attributes.invalid("value", "must hold one value") }
            let count = try checkedCount(shape)
            return ConstantValue(dims: shape, values: Array(repeating: fill.values[0], count: count), type: fill.type)
        default:
            throw unsupported("cannot be evaluated at import time")
        }
    }

    private func unsupported(_ reason: String) -> ONNXImportError {
        .unsupportedUse(path: path, node: node, op: op, opset: opset, reason: reason)
    }

    private func input(_ inputs: [ConstantValue?], _ index: Int) throws(ONNXImportError) -> ConstantValue {
        guard index < inputs.count, let value = inputs[index] else { throw unsupported("input \(index + 1) is missing") }
        return value
    }

    private func map(_ x: ConstantValue, _ f: (Double) -> Double) -> ConstantValue {
        ConstantValue(dims: x.dims, values: x.values.map(f), type: x.type)
    }

    private func checkedCount(_ dims: [Int]) throws(ONNXImportError) -> Int {
        var count = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, product <= TensorReader.maxElements else { throw unsupported("shape \(dims) is too large") }
            count = product
        }
        return count
    }

    /// Integer values of a small 1-D tensor (axes, a shape), known at import time.
    private func dimensions(_ x: ConstantValue, what: String) throws(ONNXImportError) -> [Int] {
        try x.values.map { (v: Double) throws(ONNXImportError) -> Int in
            guard v.isFinite, v.rounded() == v, abs(v) < 1e15 else {
                throw unsupported("\(what) \(x.values) is not known at import time (it depends on the batch size) or not integral")
            }
            return Int(v)
        }
    }

    private func axis(_ value: Int, rank: Int) throws(ONNXImportError) -> Int {
        let normalized = value < 0 ? value + rank : value
        guard (0..<max(rank, 1)).contains(normalized) else { throw unsupported("axis \(value) is out of range for rank \(rank)") }
        return normalized
    }

    private func constant() throws(ONNXImportError) -> ConstantValue {
        if let tensor = try attributes.tensor("value") { return try TensorReader(path: path).read(tensor, name: node) }
        if let f = try attributes.float("value_float") { return ConstantValue(dims: [], values: [f], type: .float) }
        if let fs = try attributes.floats("value_floats") { return ConstantValue(dims: [fs.count], values: fs, type: .float) }
        if let i = try attributes.int("value_int") { return ConstantValue(dims: [], values: [Double(i)], type: .integer) }
        if let iz = try attributes.ints("value_ints") { return ConstantValue(dims: [iz.count], values: iz.map(Double.init), type: .integer) }
        throw unsupported("has no value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)")
    }

    private func cast(_ x: ConstantValue) throws(ONNXImportError) -> ConstantValue {
        let to = try attributes.int("to") ?? 0
        switch Onnx_TensorProto.DataType(rawValue: to) {
        case .float: return ConstantValue(dims: x.dims, values: x.values.map { Double(Float($0)) }, type: .float)
        case .double: return ConstantValue(dims: x.dims, values: x.values, type: .other("double"))
        case .int64, .int32: return ConstantValue(dims: x.dims, values: x.values.map { $0.rounded(.towardZero) }, type: .integer)
        case .bool: return ConstantValue(dims: x.dims, values: x.values.map { $0 == 0 ? 0 : 1 }, type: .boolean)
        default: throw attributes.invalid("to", "is data type \(to); supported casts: to float, double, int32, int64, bool")
        }
    }

    private func axes(_ inputs: [ConstantValue?]) throws(ONNXImportError) -> [Int]? {
        if opset >= 13 { return inputs.count > 1 ? try inputs[1].map { (v: ConstantValue) throws(ONNXImportError) in try dimensions(v, what: "axes") } : nil }
        return try attributes.ints("axes")
    }

    private func gather(_ data: ConstantValue, _ indices: ConstantValue) throws(ONNXImportError) -> ConstantValue {
        let rank = max(data.dims.count, 1)
        let dims = data.dims.isEmpty ? [data.count] : data.dims
        let gatherAxis = try axis(try attributes.int("axis", default: 0), rank: rank)
        let picks = try dimensions(indices, what: "indices")
        let outer = dims[..<gatherAxis].reduce(1, *)
        let inner = dims[(gatherAxis + 1)...].reduce(1, *)
        let size = dims[gatherAxis]
        guard ConstantValue.product([outer, picks.count, inner]) != nil else { throw unsupported("its result would be too large") }
        var values: [Double] = []
        for o in 0..<outer {
            for pick in picks {
                let index = pick < 0 ? pick + size : pick
                guard (0..<size).contains(index) else { throw unsupported("index \(pick) is out of range for a dimension of \(size)") }
                values += data.values[((o * size + index) * inner)..<((o * size + index + 1) * inner)]
            }
        }
        let outDims = Array(dims[..<gatherAxis]) + indices.dims + Array(dims[(gatherAxis + 1)...])
        return ConstantValue(dims: outDims, values: values, type: data.type)
    }

    /// Starts, ends, axes and steps are inputs from opset 10, attributes before; ends are often
    /// INT64_MAX ("to the end"), and every bound is clamped to its axis as ONNX specifies.
    private func slice(_ inputs: [ConstantValue?]) throws(ONNXImportError) -> ConstantValue {
        let x = try input(inputs, 0)
        var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset >= 10 {
            starts = try bounds(try input(inputs, 1), what: "starts")
            ends = try bounds(try input(inputs, 2), what: "ends")
            axes = try inputs.count > 3 ? inputs[3].map { (v: ConstantValue) throws(ONNXImportError) in try dimensions(v, what: "axes") } : nil
            steps = try inputs.count > 4 ? inputs[4].map { (v: ConstantValue) throws(ONNXImportError) in try dimensions(v, what: "steps") } : nil
        } else {
            starts = try attributes.ints("starts") ?? []
            ends = try attributes.ints("ends") ?? []
            axes = try attributes.ints("axes")
        }
        let axisList = axes ?? Array(starts.indices), stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, axisList.count == starts.count, stepList.count == starts.count else {
            throw unsupported("its starts, ends, axes and steps differ in length")
        }
        var first = Array(repeating: 0, count: x.dims.count), count = x.dims, step = Array(repeating: 1, count: x.dims.count)
        for i in starts.indices {
            let a = try axis(axisList[i], rank: x.dims.count)
            let (size, s) = (x.dims[a], stepList[i])
            guard s != 0 else { throw unsupported("has a step of 0") }
            let start = starts[i] < 0 ? starts[i] + size : starts[i], end = ends[i] < 0 ? ends[i] + size : ends[i]
            if s > 0 {
                first[a] = min(max(start, 0), size)
                count[a] = max(0, (min(max(end, 0), size) - first[a] + s - 1) / s)
            } else {
                first[a] = min(max(start, 0), size - 1)
                count[a] = max(0, (first[a] - min(max(end, -1), size - 1) - s - 1) / -s)
            }
            step[a] = s
        }
        return x.sliced(first: first, count: count, step: step)
    }

    /// A Slice's starts or ends: integers, the huge ones ("to the end") clamped.
    private func bounds(_ x: ConstantValue, what: String) throws(ONNXImportError) -> [Int] {
        try x.values.map { (v: Double) throws(ONNXImportError) -> Int in
            guard v.isFinite, v.rounded() == v else { throw unsupported("\(what) \(x.values) is not known at import time or not integral") }
            return Int(max(min(v, 1e15), -1e15))
        }
    }

    private func unsqueeze(_ x: ConstantValue, axes: [Int]?) throws(ONNXImportError) -> ConstantValue {
        guard let axes else { throw unsupported("has no axes") }
        let rank = x.dims.count + axes.count
        let normalized = try Set(axes.map { (a: Int) throws(ONNXImportError) in try axis(a, rank: rank) })
        guard normalized.count == axes.count else { throw unsupported("axes \(axes) repeat an axis") }
        var dims: [Int] = []
        var source = x.dims.makeIterator()
        for position in 0..<rank { dims.append(normalized.contains(position) ? 1 : (source.next() ?? 1)) }
        return ConstantValue(dims: dims, values: x.values, type: x.type)
    }

    private func squeeze(_ x: ConstantValue, axes: [Int]?) throws(ONNXImportError) -> ConstantValue {
        let chosen = try axes.map { (list: [Int]) throws(ONNXImportError) in
            try Set(list.map { (a: Int) throws(ONNXImportError) in try axis(a, rank: x.dims.count) })
        } ?? Set(x.dims.indices.filter { x.dims[$0] == 1 })
        for a in chosen where x.dims[a] != 1 { throw unsupported("cannot squeeze axis \(a) of size \(x.dims[a])") }
        let dims = x.dims.indices.filter { !chosen.contains($0) }.map { x.dims[$0] }
        return ConstantValue(dims: dims, values: x.values, type: x.type)
    }

    private func concat(_ parts: [ConstantValue]) throws(ONNXImportError) -> ConstantValue {
        guard let first = parts.first else { throw unsupported("has no inputs") }
        guard let rawAxis = try attributes.int("axis") else { throw attributes.invalid("axis", "is missing") }
        let rank = first.dims.count
        let concatAxis = try axis(rawAxis, rank: rank)
        for part in parts {
            let compatible = part.dims.count == rank && part.dims.indices.allSatisfy { $0 == concatAxis || part.dims[$0] == first.dims[$0] }
            guard compatible else { throw unsupported("inputs of shapes \(parts.map(\.dims)) cannot be joined on axis \(rawAxis)") }
        }
        let outer = first.dims[..<concatAxis].reduce(1, *)
        var values: [Double] = []
        for o in 0..<outer {
            for part in parts {
                let block = part.dims[concatAxis...].reduce(1, *)
                values += part.values[(o * block)..<((o + 1) * block)]
            }
        }
        var dims = first.dims
        dims[concatAxis] = parts.reduce(0) { $0 + $1.dims[concatAxis] }
        return ConstantValue(dims: dims, values: values, type: first.type)
    }

    private func reshape(_ x: ConstantValue, _ shape: ConstantValue) throws(ONNXImportError) -> ConstantValue {
        let target = try dimensions(shape, what: "shape")
        let allowZero = try attributes.int("allowzero", default: 0) == 1
        var dims = target.enumerated().map { i, d in d == 0 && !allowZero && i < x.dims.count ? x.dims[i] : d }
        let known = ConstantValue.product(dims.filter { $0 != -1 }) ?? -1
        if let free = dims.firstIndex(of: -1), known > 0, x.count % known == 0 { dims[free] = x.count / known }
        guard ConstantValue.product(dims) == x.count else {
            throw unsupported("cannot reshape \(x.dims) to \(target)")
        }
        return ConstantValue(dims: dims, values: x.values, type: x.type)
    }

    private func arithmetic(_ a: ConstantValue, _ b: ConstantValue) throws(ONNXImportError) -> ConstantValue {
        guard let dims = ConstantValue.broadcastShape(a.dims, b.dims), ConstantValue.product(dims) != nil, let av = a.broadcast(to: dims), let bv = b.broadcast(to: dims) else {
            throw unsupported("operands of shapes \(a.dims) and \(b.dims) do not broadcast")
        }
        let integer = a.type == .integer && b.type == .integer
        let values: [Double] = zip(av, bv).map { x, y in
            switch op {
            case "Add": return x + y
            case "Sub": return x - y
            case "Mul": return x * y
            default: return integer ? (x / y).rounded(.towardZero) : x / y
            }
        }
        return ConstantValue(dims: dims, values: values, type: a.type)
    }
}
