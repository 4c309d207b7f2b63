import ModelIR

/// Add, Sub, Mul, Div and the activations.
extension GraphTranslator {
    mutating func arithmetic(_ node: NodeTranslation) throws(ONNXImportError) {
        guard node.proto.input.count == 2 else { throw node.unsupported("has \(node.proto.input.count) inputs; 2 are expected") }
        let ours: Op = ["Add": .add, "Sub": .sub, "Mul": .mul][node.op] ?? .mul
        if let a = values[node.proto.input[0]], let b = values[node.proto.input[1]] {
            guard node.op != "Div" else { throw node.unsupported("divides two activations; only division by a constant is supported") }
            guard a.dims == b.dims, a.order == b.order else {
                throw node.unsupported("its operands have shapes \(a.dims) and \(b.dims); two activations must have one shape (no broadcasting)")
            }
            emit(node, ours, inputs: [a, b], dims: a.dims, order: a.order)
            return
        }
        let constantFirst = values[node.proto.input[0]] == nil
        let x = try activation(node, constantFirst ? 1 : 0)
        let c = try requiredConstant(node, constantFirst ? 0 : 1, role: "constant operand")
        _ = try weightValues(c, node: node, role: "constant operand")
        guard let expanded = c.broadcast(to: [1] + x.dims) else {
            throw node.unsupported("its constant of shape \(c.dims) does not broadcast to the input's per-sample shape \(x.dims)")
        }
        switch (node.op, constantFirst) {
        case ("Div", true):
            throw node.unsupported("divides a constant by an activation; only division by a constant is supported")
        case ("Div", false):
            guard expanded.allSatisfy({ $0 != 0 }) else { throw node.unsupported("divides by a constant that holds zero") }
            try scaleOrMultiply(node, x, expanded.map { 1 / $0 }, isScalar: c.isScalarLike)
        case ("Mul", _):
            try scaleOrMultiply(node, x, expanded, isScalar: c.isScalarLike)
        case ("Sub", true):
            // c - x = (-1) x + c
            let negated = emitIntermediate(node, .scale(-1), input: x, suffix: "_neg")
            emit(node, .add, inputs: [negated], weights: ["B": constantTensor(expanded, like: x, isScalar: c.isScalarLike)],
                 dims: x.dims, order: x.order)
        default:
            let shift = node.op == "Sub" ? expanded.map { -$0 } : expanded
            let input = constantFirst ? 1 : 0
            if isFoldable(node, input: input), let producer = x.producer, let perChannel = Self.perChannel(shift, dims: x.dims),
               foldAffine(into: producer, scale: nil, shift: perChannel) {
                values[node.proto.output[0]] = x
                report.folded.append("\(node.op) '\(node.name)' merged into the bias of \(pending[producer].op.name) '\(pending[producer].name)'")
                return
            }
            emit(node, ours, inputs: [x], weights: ["B": constantTensor(expanded, like: x, isScalar: c.isScalarLike)], dims: x.dims, order: x.order)
        }
    }

    private mutating func scaleOrMultiply(_ node: NodeTranslation, _ x: Value, _ factors: [Double], isScalar: Bool) throws(ONNXImportError) {
        if isScalar, let factor = factors.first {
            emit(node, .scale(factor), inputs: [x], dims: x.dims, order: x.order)
        } else {
            emit(node, .mul, inputs: [x], weights: ["B": constantTensor(factors, like: x, isScalar: false)], dims: x.dims, order: x.order)
        }
    }

    /// An operand for our Add/Sub/Mul: a scalar `[1]`, or every element in our order.
    private func constantTensor(_ expanded: [Double], like x: Value, isScalar: Bool) -> Tensor {
        if isScalar, let value = expanded.first { return Tensor(scalar: value) }
        return Tensor(shape: Shape(x.shape), values: Self.reordered(expanded, x.order))
    }

    /// The per-channel values of an operand that is constant over each channel (`[C]` for `[C]`,
    /// `[C]` for `[C, H, W]`), or nil.
    static func perChannel(_ expanded: [Double], dims: [Int]) -> [Double]? {
        guard let channels = dims.first, dims.count == 1 || dims.count == 3 else { return nil }
        let block = expanded.count / channels
        var out: [Double] = []
        for c in 0..<channels {
            let run = expanded[(c * block)..<((c + 1) * block)]
            guard let first = run.first, run.allSatisfy({ $0 == first }) else { return nil }
            out.append(first)
        }
        return out
    }

    mutating func unary(_ node: NodeTranslation, _ op: Op) throws(ONNXImportError) {
        let x = try activation(node, 0)
        emit(node, op, inputs: [x], dims: x.dims, order: x.order)
    }

    /// Clip to [0, 6] is ReLU6 and to [0, inf) ReLU; bounds are attributes before opset 11, inputs from it.
    mutating func clip(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        var low = -Double.infinity, high = Double.infinity
        if opset < 11 {
            low = try node.attributes.float("min") ?? low
            high = try node.attributes.float("max") ?? high
        } else {
            for (index, role) in [(1, "min"), (2, "max")] {
                guard let bound = try constant(node, index, role: role) else { continue }
                guard bound.count == 1, let value = bound.values.first, !value.isNaN else {
                    throw node.unsupported("its \(role) is not a single number")
                }
                if index == 1 { low = value } else { high = value }
            }
        }
        let unbounded = high >= Double(Float.greatestFiniteMagnitude)
        if low == 0, high == 6 {
            emit(node, .relu6, inputs: [x], dims: x.dims, order: x.order)
        } else if low == 0, unbounded {
            emit(node, .relu, inputs: [x], dims: x.dims, order: x.order)
        } else {
            throw node.unsupported("clips to [\(low), \(high)]; supported: [0, 6] (ReLU6) and [0, none] (ReLU)")
        }
    }
}
