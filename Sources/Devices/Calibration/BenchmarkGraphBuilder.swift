import FixedPoint
import Foundation
import ModelIR

/// Builds one benchmark model of a family, with weights of roughly unit gain (uniform in
/// ±√(3 / fan-in)) so that activations stay in the ranges trained models have.
struct BenchmarkGraphBuilder {
    var generator: SeededGenerator
    private var constants: [String: Tensor] = [:]
    private var nodes: [Node] = []
    private var shapes: [String: Shape] = [:]

    /// Weights of some programs are smaller than unit gain, as trained weights often are, which
    /// makes narrow (16-bit) accumulators provable.
    private var weightScale = 1.0

    init(generator: SeededGenerator) { self.generator = generator }

    mutating func graph(_ family: BenchmarkSuite.Family) throws(ModelError) -> Graph {
        weightScale = generator.pick([1.0, 1.0, 0.4, 0.15])
        let input: Graph.Input
        var x: String
        switch family {
        case .wide:
            // 33,000 to 131,000 weights: far at 16 bits, and at 8 bits from 32,768 of them.
            input = .init(name: "x", shape: Shape([generator.int(150...360)]), isSequence: false)
            x = start(input)
            x = dense(x, outputs: generator.int(220...360), bias: generator.chance(0.7))
            x = activation(x)
            x = dense(x, outputs: generator.int(2...10), bias: true)
        case .mlp:
            input = .init(name: "x", shape: Shape([generator.size(8...96)]), isSequence: false)
            x = start(input)
            for _ in 0..<generator.int(1...3) {
                x = dense(x, outputs: generator.size(4...64), bias: generator.chance(0.85))
                x = activation(x)
            }
            x = dense(x, outputs: generator.int(2...10), bias: true)
        case .cnn:
            input = .init(name: "x", shape: Shape([generator.int(6...12), generator.int(6...12), generator.pick([1, 1, 2, 3])]), isSequence: false)
            x = start(input)
            for _ in 0..<generator.int(1...3) {
                x = convolution(x)
                // A depthwise-separable block: the depthwise convolution, then a pointwise one.
                if case .depthwiseConv2D? = nodes.last?.op, generator.chance(0.6) { x = pointwise(x) }
                if generator.chance(0.7) { x = emit(generator.pick([Op.relu, .relu, .relu6]), [x], shape: shape(x)) }
                let dims = shape(x).dims
                if dims[0] >= 4, dims[1] >= 4, generator.chance(0.5) {
                    let window = Window(kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
                    let op: Op = generator.chance(0.5) ? .maxPool(window) : .avgPool(window)
                    x = emit(op, [x], shape: Shape([dims[0] / 2, dims[1] / 2, dims[2]]))
                }
            }
            x = emit(.flatten, [x], shape: Shape([shape(x).elementCount]))
            x = dense(x, outputs: generator.int(2...10), bias: true)
        case .recurrent:
            input = .init(name: "x", shape: Shape([generator.size(1...16)]), isSequence: true)
            shapes[input.name] = input.shape
            x = recurrentCell(input: input, hidden: generator.size(4...32))
            x = dense(x, outputs: generator.int(2...10), bias: true)
        case .protonn:
            input = .init(name: "x", shape: Shape([generator.size(16...64)]), isSequence: false)
            x = start(input)
            x = dense(x, outputs: generator.int(4...16), bias: false)
            let prototypes = generator.size(4...32)
            x = emit(.squaredDistance, [x], weights: [("P", [prototypes, shape(x).elementCount], 1.0)], shape: Shape([prototypes]))
            x = emit(.scale(-generator.double(0.05, 0.5)), [x], shape: shape(x))
            x = emit(.exp, [x], shape: shape(x))
            x = emit(.matMul, [x], weights: [("W", [generator.int(2...10), prototypes], 1.0)], shape: Shape([0]))
        case .elementwise:
            input = .init(name: "x", shape: Shape([generator.size(8...256)]), isSequence: false)
            x = start(input)
            var earlier = [x]
            for _ in 0..<generator.int(3...6) {
                x = elementwise(x, earlier: earlier)
                earlier.append(x)
            }
        }
        return try Graph.checked(name: "benchmark", input: input, output: x, constants: constants, nodes: nodes)
    }

    // MARK: Bookkeeping

    private mutating func start(_ input: Graph.Input) -> String {
        shapes[input.name] = input.shape
        return input.name
    }

    private func shape(_ t: String) -> Shape { shapes[t] ?? Shape([]) }

    /// Uniform in ±`scale` (times the program's weight scale).
    private mutating func values(_ count: Int, scale: Double) -> [Double] {
        let s = scale * weightScale
        return (0..<count).map { _ in generator.double(-s, s) }
    }

    /// Appends a node; `weights` gives each role its dims and scale.
    @discardableResult
    private mutating func emit(_ op: Op, _ inputs: [String], weights: [(String, [Int], Double)] = [], shape: Shape) -> String {
        let name = "n\(nodes.count)", output = "t\(nodes.count)"
        var roles: [String: String] = [:]
        for (role, dims, scale) in weights {
            let constant = "\(name).\(role)"
            constants[constant] = Tensor(shape: Shape(dims), values: values(Shape(dims).elementCount, scale: scale))
            roles[role] = constant
        }
        nodes.append(Node(name: name, op: op, inputs: inputs, output: output, weights: roles))
        // MatMul's output size comes from its weight.
        if case .matMul = op, let w = weights.first { shapes[output] = Shape([w.1[0]]) } else { shapes[output] = shape }
        return output
    }

    private static func gain(_ fanIn: Int) -> Double { (3.0 / Double(max(fanIn, 1))).squareRoot() }

    // MARK: Layers

    private mutating func dense(_ x: String, outputs: Int, bias: Bool) -> String {
        let k = shape(x).elementCount
        let w = ("W", [outputs, k], Self.gain(k))
        if !bias && generator.chance(0.5) { return emit(.matMul, [x], weights: [w], shape: Shape([outputs])) }
        return emit(.gemm, [x], weights: [w] + (bias ? [("b", [outputs], 0.2)] : []), shape: Shape([outputs]))
    }

    private mutating func activation(_ x: String) -> String {
        let op = generator.pick([Op.relu, .relu, .relu6, .tanh, .sigmoid, .flatten])
        if op == .flatten { return x }
        return emit(op, [x], shape: shape(x))
    }

    private mutating func convolution(_ x: String) -> String {
        let dims = shape(x).dims
        let (h, w, c) = (dims[0], dims[1], dims[2])
        let depthwise = c > 1 && generator.chance(0.5)
        let k = depthwise ? 3 : generator.pick([1, 3, 3, 5])
        let stride = generator.pick([1, 1, 2])
        let pad = generator.chance(0.6) ? k / 2 : 0
        let window = Window(kernelHeight: k, kernelWidth: k, strideHeight: stride, strideWidth: stride,
                            padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
        guard let size = window.outputSize(height: h, width: w), size.height >= 1, size.width >= 1 else { return x }
        let bias = generator.chance(0.8)
        if depthwise {
            return emit(.depthwiseConv2D(window), [x], weights: [("W", [k, k, c], Self.gain(k * k))] + (bias ? [("b", [c], 0.2)] : []),
                        shape: Shape([size.height, size.width, c]))
        }
        let o = generator.size(c > 1 ? 4...24 : 2...16)
        return emit(.conv2D(window), [x], weights: [("W", [o, k, k, c], Self.gain(k * k * c))] + (bias ? [("b", [o], 0.2)] : []),
                    shape: Shape([size.height, size.width, o]))
    }

    private mutating func pointwise(_ x: String) -> String {
        let dims = shape(x).dims
        let o = generator.size(2...16)
        return emit(.conv2D(Window(kernelHeight: 1, kernelWidth: 1)), [x],
                    weights: [("W", [o, 1, 1, dims[2]], Self.gain(dims[2]))] + (generator.chance(0.7) ? [("b", [o], 0.2)] : []),
                    shape: Shape([dims[0], dims[1], o]))
    }

    private mutating func elementwise(_ x: String, earlier: [String]) -> String {
        let n = shape(x).elementCount
        switch generator.int(0...7) {
        case 0, 1:
            let op = generator.pick([Op.add, .sub, .mul])
            // Never x with itself: x - x folds to nothing, which no trained model computes.
            guard let partner = earlier.filter({ $0 != x }).isEmpty ? nil : generator.pick(earlier.filter { $0 != x }) else {
                return emit(op, [x], weights: [("B", [n], 1.5)], shape: shape(x))
            }
            return emit(op, [x, partner], shape: shape(x))
        case 2:
            return emit(generator.pick([Op.add, .sub, .mul]), [x], weights: [("B", [1], 1.5)], shape: shape(x))
        case 3:
            return emit(generator.pick([Op.add, .sub, .mul]), [x], weights: [("B", [n], 1.5)], shape: shape(x))
        case 4:
            let factor = generator.double(0.1, 4) * (generator.chance(0.5) ? -1 : 1)
            return emit(.scale(factor), [x], shape: shape(x))
        default:
            return emit(generator.pick([Op.relu, .relu6, .tanh, .sigmoid]), [x], shape: shape(x))
        }
    }

    private mutating func recurrentCell(input: Graph.Input, hidden: Int) -> String {
        let f = input.shape.dims[0]
        let name = "n\(nodes.count)", output = "t\(nodes.count)"
        var roles: [String: String] = [:]
        func add(_ role: String, _ dims: [Int], scale: Double, values given: [Double]? = nil) {
            let constant = "\(name).\(role)"
            constants[constant] = Tensor(shape: Shape(dims), values: given ?? values(Shape(dims).elementCount, scale: scale))
            roles[role] = constant
        }
        let op: Op
        switch generator.int(0...3) {
        case 0, 1:
            op = .fastGRNN
            if generator.chance(0.4) {
                let r = generator.int(2...6)
                add("W1", [hidden, r], scale: Self.gain(r))
                add("W2", [r, f], scale: Self.gain(f))
                add("U1", [hidden, r], scale: Self.gain(r))
                add("U2", [r, hidden], scale: Self.gain(hidden))
            } else {
                add("W", [hidden, f], scale: Self.gain(f))
                add("U", [hidden, hidden], scale: Self.gain(hidden))
            }
            add("b_z", [hidden], scale: 0.5)
            add("b_h", [hidden], scale: 0.5)
            add("zeta", [1], scale: 1, values: [generator.double(-2, 2)])
            add("nu", [1], scale: 1, values: [generator.double(-6, 0)])
        default:
            let gru = generator.chance(0.5)
            op = gru ? .gru : .lstm
            let gates = gru ? 3 : 4
            add("W_ih", [gates * hidden, f], scale: Self.gain(f))
            add("W_hh", [gates * hidden, hidden], scale: Self.gain(hidden))
            add("b_ih", [gates * hidden], scale: 0.2)
            add("b_hh", [gates * hidden], scale: 0.2)
        }
        nodes.append(Node(name: name, op: op, inputs: [input.name], output: output, weights: roles))
        shapes[output] = Shape([hidden])
        return output
    }
}
