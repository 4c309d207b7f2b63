import ModelIR

/// Flatten, Reshape, the ops that compute nothing at inference, and the classifier's last ops.
extension GraphTranslator {
    mutating func flatten(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        let rank = x.dims.count + 1
        let axis = try node.attributes.int("axis", default: 1)
        guard (axis < 0 ? axis + rank : axis) == 1 else {
            throw node.attributes.invalid("axis", "is \(axis); only 1 (keep the batch, flatten each sample) is supported")
        }
        flattenOrAlias(node, x)
    }

    private mutating func flattenOrAlias(_ node: NodeTranslation, _ x: Value) {
        if x.dims.count == 1 {
            alias(node, x, why: "its input is already flat")
        } else {
            // Our element order (with its `order` map) carries over: the next Gemm's columns are permuted to match.
            emit(node, .flatten, inputs: [x], dims: [x.count], order: x.order)
        }
    }

    mutating func reshape(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        let shape = try requiredConstant(node, 1, role: "shape")
        if x.isChannelsLast, x.producer == nil, isOneChannelToNCHW(shape.values, dims: x.dims) {
            values[node.proto.output[0]] = Value(name: x.name, dims: [1, x.dims[0], x.dims[1]], order: nil, producer: nil)
            report.removed.append("Reshape '\(node.name)': it turns the one-channel NHWC input into NCHW, the same buffer")
            return
        }
        guard let batch = shape.values.first else { throw node.unsupported("its target shape is empty; [N, ...] is expected") }
        let allowZero = try node.attributes.int("allowzero", default: 0) == 1
        var target: [Int] = []
        var free: Int?
        for (index, entry) in shape.values.enumerated().dropFirst() {
            guard entry.isFinite, entry.rounded() == entry, entry >= -1, entry <= Double(TensorReader.maxElements) else {
                throw node.unsupported("its target shape \(shape.values) depends on the batch size or is not a list of sizes "
                    + "outside the batch dimension")
            }
            var size = Int(entry)
            if size == 0, !allowZero {
                guard index - 1 < x.dims.count else { throw node.unsupported("its target shape copies dimension \(index), which the input lacks") }
                size = x.dims[index - 1]
            }
            if size == -1 {
                guard free == nil else { throw node.unsupported("its target shape has two -1 entries") }
                free = target.count
            }
            target.append(size)
        }
        let known = ConstantValue.product(target.filter { $0 != -1 }) ?? -1
        if let free {
            guard batch.isNaN || batch >= 0, known > 0, x.count % known == 0 else {
                throw node.unsupported("cannot infer the -1 of \(shape.values) per sample of \(x.dims)")
            }
            target[free] = x.count / known
        }
        guard ConstantValue.product(target) == x.count else {
            throw node.unsupported("its target shape \(shape.values) does not hold a sample of \(x.dims) (the first entry is the batch)")
        }
        if target == x.dims {
            alias(node, x, why: "it keeps the shape")
        } else if target.count == 1 {
            flattenOrAlias(node, x)
        } else if x.order == nil, target.count != 3 || target[0] == 1 || target[1] * target[2] == 1 {
            let order = target.count == 3 ? ChannelsLast.order(channels: target[0], height: target[1], width: target[2]) : nil
            let shaped = Value(name: "", dims: target, order: nil, producer: nil).shape
            emit(node, .reshape(Shape(shaped)), inputs: [x], dims: target, order: order)
        } else {
            throw node.unsupported("reshapes \(x.dims) to \(target), which in our channels-last layout needs a transpose; "
                + "supported: flattening, and reshapes that do not move channels")
        }
    }

    /// A Transpose that only relabels how our buffer is read, such as an NHWC input transposed to
    /// NCHW, or an NCHW image transposed to NHWC before a Keras Flatten (our layout is channels last
    /// either way): its output keeps our shape, and a 3-D output is an image held channels last
    /// (NHWC: `Value.isChannelsLast`). One that would move data in our layout needs a node we do
    /// not have, and is refused.
    mutating func transpose(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        if let layout = x.sequence {
            // Swapping T and N of the sequence input only changes which RNN layout reads it.
            let perm = try node.attributes.ints("perm") ?? [2, 1, 0]
            guard perm == [1, 0, 2] else { throw node.unsupported("perm \(perm) of the sequence input; supported: [1, 0, 2]") }
            var value = x
            value.sequence = layout.swapped
            values[node.proto.output[0]] = value
            report.removed.append("Transpose '\(node.name)': it swaps the sequence's time and batch axes, which only the RNN's layout sees")
            return
        }
        let rank = x.dims.count + 1
        let perm = try node.attributes.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else { throw node.attributes.invalid("perm", "is \(perm); it must permute the \(rank) axes") }
        guard perm[0] == 0 else { throw node.unsupported("perm \(perm) moves the batch axis; only the axes of a sample may move") }
        let axes = perm.dropFirst().map { $0 - 1 }
        // ONNX flat index of each element before the transpose -> its flat index after.
        let sources = ConstantValue(dims: x.dims, values: (0..<x.count).map(Double.init), type: .float).transposed(axes).values
        var after = [Int](repeating: 0, count: x.count)
        for (index, source) in sources.enumerated() { after[Int(source)] = index }
        let order = (x.order ?? Array(0..<x.count)).map { after[$0] }
        var value = Value(name: x.name, dims: axes.map { x.dims[$0] }, order: Self.normalized(order), producer: x.producer)
        // Our 3-D ops read an NCHW image held channels last: the relabelled tensor must be one, or an
        // NCHW image transposed to NHWC, whose ONNX order is then ours.
        let standard = value.dims.count == 3
            ? Self.normalized(ChannelsLast.order(channels: value.dims[0], height: value.dims[1], width: value.dims[2]))
            : value.order
        value.isChannelsLast = value.dims.count == 3 && value.order == nil && standard != nil
        guard value.shape == x.shape, value.order == standard || value.isChannelsLast else {
            throw node.unsupported("perm \(perm) of a per-sample \(x.dims) moves data in our channels-last layout; supported: "
                + "an NHWC image transposed to NCHW or back, and transposes that leave our channels-last tensor as it is")
        }
        values[node.proto.output[0]] = value
        report.removed.append("Transpose '\(node.name)': it only relabels the layout, which is channels last here"
            + (value.isChannelsLast ? " (NHWC: only a Flatten, Reshape or Transpose may read it)" : ""))
    }

    /// Identity and Dropout compute nothing at inference.
    mutating func passThrough(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        try checkExtraOutputsUnused(node)
        alias(node, x, why: "it computes nothing at inference")
    }

    private mutating func alias(_ node: NodeTranslation, _ x: Value, why: String) {
        values[node.proto.output[0]] = x
        report.removed.append("\(node.op) '\(node.name)': \(why)")
    }

    /// Softmax and LogSoftmax keep the order of the logits: at the end of a classifier they change no
    /// class, and are dropped so that the model's output is the logits.
    mutating func finalSoftmax(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        let defaultAxis = opset < 13 ? 1 : -1
        let axis = try node.attributes.int("axis", default: defaultAxis)
        guard x.dims.count == 1, axis == 1 || axis == -1 else {
            throw node.unsupported("normalises axis \(axis) of a per-sample \(x.dims); only the class axis of [N, classes] is supported")
        }
        guard isTerminal(node.proto.output[0]) else {
            throw node.unsupported("is supported only at the end of the model, where it changes no class and is dropped")
        }
        alias(node, x, why: "at the output it changes no class; the model now returns the logits before it")
        report.notes.append("\(node.op) '\(node.name)' at the output was dropped: the imported model returns logits, and the class "
            + "(the largest) is the same")
    }

    mutating func argMax(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        let axis = try node.attributes.int("axis", default: 0)
        guard x.dims.count == 1, x.order == nil, axis == 1 || axis == -1 else {
            throw node.unsupported("takes axis \(axis) of a per-sample \(x.dims); only the class axis of [N, classes] is supported")
        }
        guard try node.attributes.int("select_last_index", default: 0) == 0 else {
            throw node.attributes.invalid("select_last_index", "must be 0: ties go to the lowest index")
        }
        guard isTerminal(node.proto.output[0]) else { throw node.unsupported("is supported only at the end of the model") }
        emit(node, .argMax, inputs: [x], dims: [], order: nil)
    }
}
