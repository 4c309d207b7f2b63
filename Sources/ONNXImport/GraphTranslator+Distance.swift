import ModelIR

/// ProtoNN's squared distances to its prototypes as PyTorch exports them, followed through
/// `DistanceView` from the Unsqueeze to the ReduceSum, which becomes our SquaredDistance.
extension GraphTranslator {
    static let distancePattern = "an activation may be unsqueezed only to compute its squared distances from constant "
        + "prototypes: Unsqueeze(axes [1]), Sub of a constant [M, D], Pow 2 (or Mul by itself), ReduceSum(axes [-1], keepdims=0)"

    /// Unsqueeze of an activation: the start of squared distances, or refused.
    mutating func unsqueeze(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        let axes = try axisList(node, inputIndex: 1) ?? []
        guard x.dims.count == 1, axes == [1] || axes == [-2] else {
            throw node.unsupported("unsqueezes axes \(axes) of a per-sample \(x.dims); " + Self.distancePattern)
        }
        distanceViews[node.proto.output[0]] = DistanceView(input: x, stage: .unsqueezed, nodes: [node.described])
    }

    /// A node that reads a `DistanceView`: its next step, or refused with what may read it.
    mutating func distanceStep(_ node: NodeTranslation) throws(ONNXImportError) {
        let inputs = node.proto.input
        guard let source = inputs.first(where: { distanceViews[$0] != nil }), let view = distanceViews[source] else {
            throw node.unsupported("reads no squared-distance step")
        }
        let output = node.proto.output[0]
        switch (view.stage, node.op) {
        case (.unsqueezed, "Sub") where inputs.count == 2 && inputs[0] != inputs[1]:
            distanceViews[output] = try subtractingPrototypes(node, view, constantIndex: inputs[0] == source ? 1 : 0)
        case (.differences, "Pow") where inputs.first == source:
            let exponent = try requiredConstant(node, 1, role: "exponent")
            guard exponent.count == 1, exponent.values.first == 2 else {
                throw node.unsupported("raises \(view.description) to \(exponent.values); only the exponent 2 (a squared distance) is supported")
            }
            distanceViews[output] = view.next(.squares, node: node.described)
        case (.differences, "Mul") where inputs.count == 2 && inputs[0] == inputs[1]:
            distanceViews[output] = view.next(.squares, node: node.described)
        case (.squares, "ReduceSum") where inputs.first == source:
            try sumOverLastAxis(node, view, axesInputSince: 13)
        case (.differences, "ReduceSumSquare") where inputs.first == source:
            try sumOverLastAxis(node, view, axesInputSince: 18)
        default:
            throw node.unsupported("reads '\(source)', \(view.description), which only \(view.expected) may read; " + Self.distancePattern)
        }
    }

    /// `x.unsqueeze(1) - P` (or `P - x.unsqueeze(1)`: the squares are the same) with `P` a constant
    /// that broadcasts to `[1, M, D]`.
    private func subtractingPrototypes(_ node: NodeTranslation, _ view: DistanceView, constantIndex: Int) throws(ONNXImportError) -> DistanceView {
        let p = try requiredConstant(node, constantIndex, role: "prototypes")
        let features = view.input.count
        let count = p.dims.count >= 2 ? p.dims[p.dims.count - 2] : 1
        guard count > 0, let expanded = p.broadcast(to: [1, count, features]) else {
            throw node.unsupported("its constant of shape \(p.dims) does not broadcast with [N, 1, \(features)] to [N, M, \(features)]; "
                + "prototypes [M, \(features)] are expected")
        }
        _ = try weightValues(p, node: node, role: "prototypes")
        var view = view.next(.differences, node: node.described)
        view.prototypes = Self.permutingColumns(expanded, rows: count, order: view.input.order)
        view.prototypeCount = count
        return view
    }

    /// The sum over the last axis (`[N, M, D]` to `[N, M]`): our SquaredDistance with the prototypes as `P`.
    private mutating func sumOverLastAxis(_ node: NodeTranslation, _ view: DistanceView, axesInputSince: Int) throws(ONNXImportError) {
        let axes = try axisList(node, inputIndex: 1, inputSince: axesInputSince) ?? []
        guard axes == [-1] || axes == [2] else {
            throw node.unsupported("sums axes \(axes) of \(view.description); only the last axis ([-1] or [2]) of [N, M, D] is supported")
        }
        guard try node.attributes.int("keepdims", default: 1) == 0 else {
            throw node.attributes.invalid("keepdims", "must be 0: the distances are [N, M]")
        }
        let weights = ["P": Tensor(shape: Shape([view.prototypeCount, view.input.count]), values: view.prototypes)]
        emit(node, .squaredDistance, inputs: [view.input], weights: weights, dims: [view.prototypeCount], order: nil)
        report.folded.append("\(view.nodes.joined(separator: ", ")) and \(node.described): squared distances to \(view.prototypeCount) prototypes, "
            + "folded into one \(Op.squaredDistance.name) '\(pending.last?.name ?? node.name)'")
    }
}
