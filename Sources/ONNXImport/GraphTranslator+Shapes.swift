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
