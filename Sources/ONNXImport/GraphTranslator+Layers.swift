import ModelIR

/// Gemm, MatMul, Conv, the pools and BatchNormalization.
extension GraphTranslator {
    /// `Y = alpha * A B' + beta * C` with `A` the activation: `W = alpha * B'` ([N, K]) and `b = beta * C`.
    mutating func gemm(_ node: NodeTranslation) throws(ONNXImportError) {
        let a = try activation(node, 0)
        guard a.dims.count == 1 else { throw node.unsupported("its input has per-sample shape \(a.dims); Gemm needs [N, K] rows") }
        guard try node.attributes.int("transA", default: 0) == 0 else {
            throw node.attributes.invalid("transA", "must be 0: the input is the batch of rows")
        }
        var b = try requiredConstant(node, 1, role: "B")
        guard b.dims.count == 2 else { throw node.unsupported("B has shape \(b.dims); a matrix is expected") }
        if try node.attributes.int("transB", default: 0) == 0 { b = b.transposed([1, 0]) }
        let alpha = try node.attributes.float("alpha") ?? 1
        let beta = try node.attributes.float("beta") ?? 1
        let (n, k) = (b.dims[0], b.dims[1])
        guard k == a.count else { throw node.unsupported("B has shape \(b.dims) (as [N, K]), which does not match the input's \(a.count) features") }
        var w = try weightValues(b, node: node, role: "B").map { $0 * alpha }
        w = Self.permutingColumns(w, rows: n, order: a.order)
        var weights = ["W": Tensor(shape: Shape([n, k]), values: w)]
        if let c = try constant(node, 2, role: "C") {
            guard let bias = c.broadcast(to: [n]) ?? (c.dims.first == 1 ? c.broadcast(to: [1, n]) : nil) else {
                throw node.unsupported("C has shape \(c.dims); a bias of \(n) values (or one) is expected")
            }
            _ = try weightValues(c, node: node, role: "C")
            weights["b"] = Tensor(shape: Shape([n]), values: bias.map { $0 * beta })
        }
        emit(node, .gemm, inputs: [a], weights: weights, dims: [n], order: nil)
    }

    /// `A B` with `B` a constant `[K, N]`: a Gemm without bias, so that a following Add becomes its bias.
    mutating func matMul(_ node: NodeTranslation) throws(ONNXImportError) {
        let a = try activation(node, 0)
        let b = try requiredConstant(node, 1, role: "right operand")
        guard a.dims.count == 1, b.dims.count == 2, b.dims[0] == a.count else {
            throw node.unsupported("multiplies a per-sample \(a.dims) by \(b.dims); supported: [N, K] times a constant [K, M]")
        }
        let w = b.transposed([1, 0])
        let values = Self.permutingColumns(try weightValues(w, node: node, role: "right operand"), rows: w.dims[0], order: a.order)
        emit(node, .gemm, inputs: [a], weights: ["W": Tensor(shape: Shape(w.dims), values: values)], dims: [w.dims[0]], order: nil)
    }

    /// A row-major matrix whose column `i` becomes ONNX column `order[i]`.
    static func permutingColumns(_ w: [Double], rows: Int, order: [Int]?) -> [Double] {
        guard let order else { return w }
        let columns = order.count
        var out = w
        for r in 0..<rows {
            for i in 0..<columns { out[r * columns + i] = w[r * columns + order[i]] }
        }
        return out
    }

    mutating func conv(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        guard x.dims.count == 3 else { throw node.unsupported("its input has per-sample shape \(x.dims); only 2-D convolutions on [N, C, H, W] are supported") }
        let w = try requiredConstant(node, 1, role: "weight")
        guard w.dims.count == 4 else { throw node.unsupported("its weight has shape \(w.dims); [O, C/group, kh, kw] is expected") }
        let (outChannels, perGroup, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        guard w.count > 0, kh <= Self.maxWindow, kw <= Self.maxWindow else { throw node.unsupported("its weight \(w.dims) is empty or too large") }
        let channels = x.dims[0]
        let group = try node.attributes.int("group", default: 1)
        let depthwise = group > 1 && group == channels && outChannels == channels && perGroup == 1
        guard group == 1 && perGroup == channels || depthwise else {
            throw node.unsupported("group \(group) with weight \(w.dims) on \(channels) channels is not supported; supported: group 1, "
                + "and depthwise (group = input channels = output channels)")
        }
        if let kernel = try node.attributes.ints("kernel_shape"), kernel != [kh, kw] {
            throw node.attributes.invalid("kernel_shape", "is \(kernel), but the weight's kernel is [\(kh), \(kw)]")
        }
        let window = try self.window(node, input: x, kernel: [kh, kw])
        let values = try weightValues(w, node: node, role: "weight")
        let kernel: Tensor
        if depthwise {
            // [C, 1, kh, kw] -> [kh, kw, C]
            let permuted = ConstantValue(dims: [channels, kh, kw], values: values, type: .float).transposed([1, 2, 0])
            kernel = Tensor(shape: Shape([kh, kw, channels]), values: permuted.values)
        } else {
            // OIHW -> OHWI
            let permuted = ConstantValue(dims: w.dims, values: values, type: .float).transposed([0, 2, 3, 1])
            kernel = Tensor(shape: Shape(permuted.dims), values: permuted.values)
        }
        var weights = ["W": kernel]
        if let b = try constant(node, 2, role: "bias") {
            guard b.count == outChannels else { throw node.unsupported("its bias has shape \(b.dims); \(outChannels) values are expected") }
            weights["b"] = Tensor(shape: Shape([outChannels]), values: try weightValues(b, node: node, role: "bias"))
        }
        guard let size = window.outputSize(height: x.dims[1], width: x.dims[2]) else {
            throw node.unsupported("its \(kh)x\(kw) kernel does not fit the \(x.dims[1])x\(x.dims[2]) input")
        }
        let dims = [outChannels, size.height, size.width]
        try checkSize(node, dims)
        emit(node, depthwise ? .depthwiseConv2D(window) : .conv2D(window), inputs: [x], weights: weights, dims: dims,
             order: ChannelsLast.order(channels: dims[0], height: dims[1], width: dims[2]))
    }

    /// Larger strides, pads or kernels than this are a corrupted file, not a model.
    static let maxWindow = 1 << 16

    /// Strides, pads (explicit or `auto_pad`) and dilations of a convolution or pool.
    func window(_ node: NodeTranslation, input x: Value, kernel: [Int]) throws(ONNXImportError) -> Window {
        let strides = try node.attributes.ints("strides") ?? [1, 1]
        guard strides.count == 2, strides.allSatisfy({ (1...Self.maxWindow).contains($0) }) else { throw node.attributes.invalid("strides", "must be two positive integers") }
        if let dilations = try node.attributes.ints("dilations"), dilations.contains(where: { $0 != 1 }) {
            throw node.attributes.invalid("dilations", "is \(dilations); only 1 is supported")
        }
        var pads = try node.attributes.ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ (0...Self.maxWindow).contains($0) }) else { throw node.attributes.invalid("pads", "must be four non-negative integers") }
        let autoPad = try node.attributes.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET", "":
            break
        case "VALID":
            pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            for axis in 0..<2 {
                let size = x.dims[axis + 1]
                let total = max(((size + strides[axis] - 1) / strides[axis] - 1) * strides[axis] + kernel[axis] - size, 0)
                let small = total / 2
                pads[axis] = autoPad == "SAME_UPPER" ? small : total - small
                pads[axis + 2] = total - pads[axis]
            }
        default:
            throw node.attributes.invalid("auto_pad", "is '\(autoPad)'; supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
        return Window(kernelHeight: kernel[0], kernelWidth: kernel[1], strideHeight: strides[0], strideWidth: strides[1],
                      padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
    }

    mutating func pool(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        guard x.dims.count == 3 else { throw node.unsupported("its input has per-sample shape \(x.dims); only 2-D pooling on [N, C, H, W] is supported") }
        try checkExtraOutputsUnused(node)
        guard let kernel = try node.attributes.ints("kernel_shape"), kernel.count == 2,
              kernel.allSatisfy({ (1...Self.maxWindow).contains($0) }) else {
            throw node.attributes.invalid("kernel_shape", "must be two positive integers")
        }
        let window = try self.window(node, input: x, kernel: kernel)
        guard [window.padTop, window.padLeft, window.padBottom, window.padRight] == [0, 0, 0, 0] else {
            throw node.attributes.invalid("pads", "must be zero: our pools do not pad")
        }
        guard let size = window.outputSize(height: x.dims[1], width: x.dims[2]) else {
            throw node.unsupported("its \(kernel[0])x\(kernel[1]) window does not fit the \(x.dims[1])x\(x.dims[2]) input")
        }
        if try node.attributes.int("ceil_mode", default: 0) == 1 {
            let exact = (x.dims[1] - kernel[0]) % window.strideHeight == 0 && (x.dims[2] - kernel[1]) % window.strideWidth == 0
            guard exact else { throw node.attributes.invalid("ceil_mode", "is 1 where rounding up adds a partial window; only 0 is supported") }
        }
        let dims = [x.dims[0], size.height, size.width]
        try checkSize(node, dims)
        emit(node, node.op == "MaxPool" ? .maxPool(window) : .avgPool(window), inputs: [x], dims: dims,
             order: ChannelsLast.order(channels: dims[0], height: dims[1], width: dims[2]))
    }

    /// A pool whose window is the whole map: `[N, C, H, W]` -> `[N, C, 1, 1]`.
    mutating func globalPool(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        guard x.dims.count == 3 else { throw node.unsupported("its input has per-sample shape \(x.dims); [N, C, H, W] is expected") }
        let window = Window(kernelHeight: x.dims[1], kernelWidth: x.dims[2], strideHeight: 1, strideWidth: 1)
        emit(node, node.op == "GlobalMaxPool" ? .maxPool(window) : .avgPool(window), inputs: [x], dims: [x.dims[0], 1, 1], order: nil)
    }

    /// `scale * (x - mean) / sqrt(var + epsilon) + B` is `s x + t` per channel: merged into the Conv or
    /// Gemm before it when that layer feeds nothing else, otherwise a Mul and an Add.
    mutating func batchNormalization(_ node: NodeTranslation) throws(ONNXImportError) {
        let x = try activation(node, 0)
        try checkExtraOutputsUnused(node)
        if try node.attributes.int("training_mode", default: 0) != 0 {
            throw node.attributes.invalid("training_mode", "must be 0: export the model in eval mode")
        }
        if try node.attributes.int("spatial", default: 1) != 1 { throw node.attributes.invalid("spatial", "must be 1") }
        let epsilon = try node.attributes.float("epsilon") ?? 1e-5
        guard let channels = x.dims.first else { throw node.unsupported("its input has no channel dimension") }
        var parameters: [[Double]] = []
        for (index, role) in ["scale", "B", "mean", "var"].enumerated() {
            let value = try requiredConstant(node, index + 1, role: role)
            guard value.count == channels else { throw node.unsupported("its \(role) has shape \(value.dims); \(channels) values are expected") }
            parameters.append(try weightValues(value, node: node, role: role))
        }
        let s = (0..<channels).map { parameters[0][$0] / (parameters[3][$0] + epsilon).squareRoot() }
        let t = (0..<channels).map { parameters[1][$0] - parameters[2][$0] * s[$0] }
        if isFoldable(node, input: 0), let producer = x.producer, foldAffine(into: producer, scale: s, shift: t) {
            values[node.proto.output[0]] = x
            report.folded.append("BatchNormalization '\(node.name)' merged into \(pending[producer].op.name) '\(pending[producer].name)'")
            return
        }
        let spatial = x.count / channels
        func perElement(_ v: [Double]) -> [Double] { Self.reordered(v.flatMap { Array(repeating: $0, count: spatial) }, x.order) }
        let scaled = emitIntermediate(node, .mul, input: x, weights: ["B": Tensor(shape: Shape(x.shape), values: perElement(s))], suffix: "_scale")
        emit(node, .add, inputs: [scaled], weights: ["B": Tensor(shape: Shape(x.shape), values: perElement(t))], dims: x.dims, order: x.order, suffix: "_shift")
    }

    /// Multiplies output channel `c` of a Gemm or convolution by `scale[c]` and adds `shift[c]` (nil scale: add only).
    /// False when the node is of another kind.
    mutating func foldAffine(into index: Int, scale: [Double]?, shift: [Double]) -> Bool {
        var node = pending[index]
        guard let w = node.weights["W"] else { return false }
        let channels = shift.count
        var weights = w.values
        switch node.op {
        case .gemm, .conv2D:
            guard w.shape.dims.first == channels else { return false }
            let block = w.values.count / channels
            if let scale { for i in weights.indices { weights[i] *= scale[i / block] } }
        case .depthwiseConv2D:
            guard w.shape.dims.last == channels else { return false }
            if let scale { for i in weights.indices { weights[i] *= scale[i % channels] } }
        default:
            return false
        }
        let bias = node.weights["b"]?.values ?? Array(repeating: 0, count: channels)
        node.weights["W"] = Tensor(shape: w.shape, values: weights)
        node.weights["b"] = Tensor(shape: Shape([channels]), values: (0..<channels).map { bias[$0] * (scale?[$0] ?? 1) + shift[$0] })
        pending[index] = node
        return true
    }

    func checkSize(_ node: NodeTranslation, _ dims: [Int]) throws(ONNXImportError) {
        guard let count = ConstantValue.product(dims, limit: Shape.maxElements), count > 0 else {
            throw node.unsupported("its output would have per-sample shape \(dims): empty, or more than 2^20 elements")
        }
    }

    /// Values in ONNX order put in our order.
    static func reordered(_ values: [Double], _ order: [Int]?) -> [Double] {
        guard let order else { return values }
        return order.map { values[$0] }
    }
}
