/// Shape rules shared by the ops, for one node: input counts, weight roles and weight shapes.
struct NodeContext {
    let node: Node
    let graph: Graph

    func single(_ inputs: [Shape], rank: Int?) throws(ModelError) -> Shape {
        guard inputs.count == 1 else {
            throw .wrongInputCount(node: node.name, op: node.op.name, found: inputs.count, expected: "1")
        }
        if let rank, inputs[0].rank != rank {
            throw .wrongShape(tensor: node.inputs[0], node: node.name, found: inputs[0],
                              expected: "rank \(rank)" + (rank == 3 ? " [H,W,C]" : ""))
        }
        return inputs[0]
    }

    /// Every required role present; nothing outside required + optional.
    func roles(required: [String], optional: [String] = []) throws(ModelError) {
        for role in required where node.weights[role] == nil {
            throw .missingWeight(node: node.name, op: node.op.name, role: role)
        }
        for role in node.weights.keys.sorted() where !required.contains(role) && !optional.contains(role) {
            throw .unexpectedWeight(node: node.name, op: node.op.name, role: role, allowed: required + optional)
        }
        for (role, constant) in node.weights.sorted(by: { $0.key < $1.key }) where graph.constants[constant] == nil {
            throw .undefinedConstant(name: constant, node: node.name, role: role)
        }
    }

    func weight(_ role: String, rank: Int? = nil) throws(ModelError) -> Shape {
        guard let name = node.weights[role] else {
            throw .missingWeight(node: node.name, op: node.op.name, role: role)
        }
        guard let tensor = graph.constants[name] else {
            throw .undefinedConstant(name: name, node: node.name, role: role)
        }
        if let rank, tensor.shape.rank != rank {
            throw .wrongShape(tensor: name, node: node.name, found: tensor.shape, expected: "rank \(rank)")
        }
        return tensor.shape
    }

    func expect(_ role: String, _ shape: Shape) throws(ModelError) {
        let found = try weight(role)
        guard found == shape || (shape.isScalar && found.isScalar) else {
            throw .wrongShape(tensor: node.weights[role] ?? role, node: node.name, found: found, expected: "\(shape)")
        }
    }

    /// Add, Sub, Mul: two activations of one shape, or one activation and a constant `B` of its shape or scalar.
    func binary(_ inputs: [Shape]) throws(ModelError) -> Shape {
        switch inputs.count {
        case 2:
            try roles(required: [])
            guard inputs[0] == inputs[1] else {
                throw .wrongShape(tensor: node.inputs[1], node: node.name, found: inputs[1],
                                  expected: "\(inputs[0]), the shape of '\(node.inputs[0])'")
            }
        case 1:
            try roles(required: ["B"])
            let b = try weight("B")
            guard b == inputs[0] || b.isScalar else {
                throw .wrongShape(tensor: node.weights["B"] ?? "B", node: node.name, found: b,
                                  expected: "\(inputs[0]) or a scalar")
            }
        default:
            throw .wrongInputCount(node: node.name, op: node.op.name, found: inputs.count,
                                   expected: "2, or 1 with a constant B")
        }
        return inputs[0]
    }

    func convolution(_ window: Window, input x: Shape) throws(ModelError) -> Shape {
        try roles(required: ["W"], optional: ["b"])
        let channels = x.dims[2]
        let outChannels: Int
        let w: Shape
        if case .conv2D = node.op {
            w = try weight("W", rank: 4)
            guard w.dims[3] == channels else {
                throw .wrongShape(tensor: node.weights["W"] ?? "W", node: node.name, found: w,
                                  expected: "[O,kh,kw,\(channels)] (OHWI) for input \(x)")
            }
            outChannels = w.dims[0]
            try checkKernel(window, w.dims[1], w.dims[2], w)
        } else {
            w = try weight("W", rank: 3)
            guard w.dims[2] == channels else {
                throw .wrongShape(tensor: node.weights["W"] ?? "W", node: node.name, found: w,
                                  expected: "[kh,kw,\(channels)] for input \(x)")
            }
            outChannels = channels
            try checkKernel(window, w.dims[0], w.dims[1], w)
        }
        if node.weights["b"] != nil { try expect("b", Shape([outChannels])) }
        return try slide(window, over: x, channels: outChannels)
    }

    private func checkKernel(_ window: Window, _ kh: Int, _ kw: Int, _ w: Shape) throws(ModelError) {
        guard window.kernelHeight == kh, window.kernelWidth == kw else {
            throw .wrongShape(tensor: node.weights["W"] ?? "W", node: node.name, found: w,
                              expected: "a \(window.kernelHeight)x\(window.kernelWidth) kernel")
        }
    }

    func slide(_ window: Window, over x: Shape, channels: Int) throws(ModelError) -> Shape {
        guard window.kernelHeight >= 1, window.kernelWidth >= 1, window.strideHeight >= 1, window.strideWidth >= 1,
              min(window.padTop, window.padLeft, window.padBottom, window.padRight) >= 0 else {
            throw .invalidAttribute(node: node.name, attribute: "kernel/strides/pads",
                                    reason: "must be positive (pads zero or more)")
        }
        guard let size = window.outputSize(height: x.dims[0], width: x.dims[1]) else {
            throw .wrongShape(tensor: node.inputs[0], node: node.name, found: x,
                              expected: "at least \(window.kernelHeight)x\(window.kernelWidth) after padding")
        }
        return Shape([size.height, size.width, channels])
    }
}
