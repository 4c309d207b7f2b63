/// Checks a graph and infers the shape of every tensor.
///
/// It enforces, for every node: the number of inputs, that each input is defined before use,
/// the weight roles of the op (none missing, none unknown), the shape of every weight, and the
/// sequence rules (only recurrent ops read the sequence input; nothing else may).
struct ShapeChecker {
    let graph: Graph

    func inferShapes() throws(ModelError) -> [String: Shape] {
        try checkSize(graph.input.name, graph.input.shape, node: nil)
        var shapes: [String: Shape] = [graph.input.name: graph.input.shape]
        for node in graph.nodes {
            if graph.input.isSequence, node.inputs.contains(graph.input.name), !node.op.isRecurrent {
                throw .sequenceMisuse(node: node.name, reason:
                    "reads the sequence input '\(graph.input.name)'; only FastGRNN, GRU and LSTM may")
            }
            let shape: Shape
            if case let .loop(loop) = node.op {
                shape = try checkLoop(loop, node: node, shapes: &shapes)
            } else {
                shape = try outputShape(of: node, shapes: shapes)
            }
            try define(node.output, shape, node: node, in: &shapes)
        }
        guard shapes[graph.output] != nil, graph.output != graph.input.name || !graph.input.isSequence else {
            throw .undefinedOutput(name: graph.output)
        }
        return shapes
    }

    private func define(_ name: String, _ shape: Shape, node: Node, in shapes: inout [String: Shape]) throws(ModelError) {
        guard shapes[name] == nil, graph.constants[name] == nil else {
            throw .duplicateTensor(name: name, node: node.name)
        }
        try checkSize(name, shape, node: node.name)
        shapes[name] = shape
    }

    /// A shape from the model file (the input, or one a window or Reshape makes) may ask for any size.
    private func checkSize(_ name: String, _ shape: Shape, node: String?) throws(ModelError) {
        guard let count = shape.checkedElementCount, count <= Shape.maxElements else {
            throw .tooLarge(tensor: name, node: node, shape: shape, path: nil)
        }
    }

    private func checkLoop(_ loop: Loop, node: Node, shapes: inout [String: Shape]) throws(ModelError) -> Shape {
        guard node.inputs == [graph.input.name], graph.input.isSequence else {
            throw .sequenceMisuse(node: node.name, reason: "a loop must read the sequence input '\(graph.input.name)'")
        }
        try define(loop.stepInput, graph.input.shape, node: node, in: &shapes)
        for state in loop.states { try define(state.name, state.shape, node: node, in: &shapes) }
        for inner in loop.body {
            try define(inner.output, try outputShape(of: inner, shapes: shapes), node: inner, in: &shapes)
        }
        for state in loop.states where shapes[state.next] != state.shape {
            throw .wrongShape(tensor: state.next, node: node.name, found: shapes[state.next] ?? Shape([]),
                              expected: "\(state.shape), the shape of state '\(state.name)'")
        }
        guard let result = loop.states.first(where: { $0.name == loop.result }) else {
            throw .undefinedOutput(name: loop.result)
        }
        return result.shape
    }

    // MARK: - One node

    private func outputShape(of node: Node, shapes: [String: Shape]) throws(ModelError) -> Shape {
        let inputs = try node.inputs.map { (name: String) throws(ModelError) -> Shape in
            guard let shape = shapes[name] else { throw .undefinedTensor(name: name, node: node.name) }
            return shape
        }
        let context = NodeContext(node: node, graph: graph)
        switch node.op {
        case .gemm, .matMul:
            let x = try context.single(inputs, rank: 1)
            let w = try context.weight("W", rank: 2)
            guard w.dims[1] == x.dims[0] else {
                throw .wrongShape(tensor: node.weights["W"] ?? "W", node: node.name, found: w,
                                  expected: "[N,\(x.dims[0])] to match input '\(node.inputs[0])' \(x)")
            }
            if node.op == .gemm {
                try context.roles(required: ["W"], optional: ["b"])
                if node.weights["b"] != nil { try context.expect("b", Shape([w.dims[0]])) }
            } else {
                try context.roles(required: ["W"])
            }
            return Shape([w.dims[0]])
        case .add, .sub, .mul:
            return try context.binary(inputs)
        case .scale, .relu, .relu6, .sigmoid, .tanh, .exp:
            try context.roles(required: [])
            return try context.single(inputs, rank: nil)
        case let .conv2D(window), let .depthwiseConv2D(window):
            return try context.convolution(window, input: try context.single(inputs, rank: 3))
        case let .maxPool(window), let .avgPool(window):
            try context.roles(required: [])
            let x = try context.single(inputs, rank: 3)
            return try context.slide(window, over: x, channels: x.dims[2])
        case .flatten:
            try context.roles(required: [])
            return Shape([try context.single(inputs, rank: nil).elementCount])
        case let .reshape(target):
            try context.roles(required: [])
            let x = try context.single(inputs, rank: nil)
            guard target.checkedElementCount == x.elementCount, target.dims.allSatisfy({ $0 > 0 }) else {
                throw .invalidAttribute(node: node.name, attribute: "shape",
                                        reason: "is \(target), which does not hold the \(x.elementCount) elements of \(x)")
            }
            return target
        case .argMax:
            try context.roles(required: [])
            _ = try context.single(inputs, rank: 1)
            return Shape([])
        case .squaredDistance:
            try context.roles(required: ["P"])
            let x = try context.single(inputs, rank: 1)
            let p = try context.weight("P", rank: 2)
            guard p.dims[1] == x.dims[0] else {
                throw .wrongShape(tensor: node.weights["P"] ?? "P", node: node.name, found: p,
                                  expected: "[M,\(x.dims[0])] to match input \(x)")
            }
            return Shape([p.dims[0]])
        case .fastGRNN, .gru, .lstm:
            return try RecurrentShapes(context: context, graph: graph).check(inputs)
        case .loop:
            throw .sequenceMisuse(node: node.name, reason: "a loop cannot be nested in a loop")
        }
    }
}
