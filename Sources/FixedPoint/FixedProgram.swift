import Foundation
import ModelIR

/// A graph under a config, resolved: quantized weights and, for every node, the kernel with its
/// shifts and the accumulator width proven from the weights' integers and the inputs' ranges.
///
/// Both the emulator and the C emitter consume this one value, so they cannot disagree about a
/// shift or a width; they only have to agree on each kernel's integer semantics.
public struct FixedProgram: Sendable {
    public let graph: Graph
    public let config: QuantConfig
    public let constants: [String: QuantizedTensor]
    public let steps: [FixedStep]

    /// - Parameters:
    ///   - graph: a checked graph; recurrent cells are lowered here.
    ///   - config: a format for every tensor of the lowered graph; normalized here.
    public init(graph: Graph, config: QuantConfig) throws(FixedPointError) {
        let lowered: Graph
        do { lowered = try Lowering.lower(graph) } catch { throw .unsupported(node: graph.name, reason: error.description) }
        let normalized = try FixedPointGraph.normalized(config, for: lowered)
        var constants: [String: QuantizedTensor] = [:]
        for node in lowered.allNodes {
            for name in node.weights.values {
                guard let tensor = lowered.constants[name], let format = normalized.formats[name] else {
                    throw .missingFormat(tensor: name)
                }
                constants[name] = QuantizedTensor(name: name, tensor: tensor, format: format)
            }
        }
        let builder = KernelBuilder(graph: lowered, formats: normalized.formats, constants: constants)
        self.graph = lowered
        self.config = normalized
        self.constants = constants
        self.steps = try lowered.nodes.map { (node: Node) throws(FixedPointError) -> FixedStep in try builder.step(for: node) }
    }

    public func format(_ tensor: String) -> TensorFormat {
        config.formats[tensor] ?? TensorFormat(bits: 16, fracBits: 0)
    }

    public var inputFormat: TensorFormat { format(graph.input.name) }
    public var outputFormat: TensorFormat { format(graph.output) }

    /// Every step, loop bodies included, in execution order.
    public var allSteps: [FixedStep] {
        steps.flatMap { step -> [FixedStep] in
            if case let .loop(plan) = step.kernel { return [step] + plan.body }
            return [step]
        }
    }
}

/// Resolves one node's kernel: shifts from the formats, accumulator width from a worst-case bound.
struct KernelBuilder {
    let graph: Graph
    let formats: [String: TensorFormat]
    let constants: [String: QuantizedTensor]

    private func format(_ name: String) -> TensorFormat { formats[name] ?? TensorFormat(bits: 16, fracBits: 0) }

    func step(for node: Node) throws(FixedPointError) -> FixedStep {
        let output = format(node.output)
        let inputs = node.inputs.map(format)
        return FixedStep(node: node, kernel: try kernel(for: node, output: output, inputs: inputs), output: output, inputs: inputs)
    }

    /// The narrowest C integer type (16, 32 or 64 bits) holding every value up to `bound` in magnitude.
    private func accumulatorBits(_ bound: Double, node: Node) throws(FixedPointError) -> Int {
        if bound < 32767 { return 16 }
        if bound < 2_147_483_647 { return 32 }
        if bound < 4.0e18 { return 64 }
        throw .unsupported(node: node.name, reason: "the accumulator could reach \(bound), more than 64 bits hold; the formats are too far apart")
    }

    /// A kernel whose shift discards every bit of values up to `bound` always outputs zero.
    /// (x + 2^(s-1)) >> s is 0 for every |x| < 2^(s-1).
    private func isAlwaysZero(bound: Double, shift: Int) -> Bool { shift >= 1 && bound < pow2(shift - 1) }

    private func rounding(_ shift: Int) -> Double { shift > 0 ? pow2(shift - 1) : 0 }

    private func kernel(for node: Node, output: TensorFormat, inputs: [TensorFormat]) throws(FixedPointError) -> Kernel {
        let x = inputs.first ?? output
        let inputShape = graph.shapes[node.inputs.first ?? ""] ?? Shape([])
        switch node.op {
        case .gemm, .matMul, .conv2D, .depthwiseConv2D:
            return try linear(node, x: x, output: output, inputShape: inputShape)
        case .add, .sub:
            let b = node.inputs.count == 2 ? inputs[1] : constants[node.weights["B"] ?? ""]?.format ?? x
            let m = max(x.fracBits, b.fracBits)
            let shift = m - output.fracBits
            let raw = Double(x.magnitude) * pow2(m - x.fracBits) + Double(b.magnitude) * pow2(m - b.fracBits)
            if isAlwaysZero(bound: raw, shift: shift) { return .zero }
            return .add(.init(subtract: node.op == .sub, constant: node.inputs.count == 2 ? nil : node.weights["B"],
                              shiftA: m - x.fracBits, shiftB: m - b.fracBits, shift: shift,
                              accBits: try accumulatorBits(raw + rounding(shift), node: node)))
        case .mul:
            let b = node.inputs.count == 2 ? inputs[1] : constants[node.weights["B"] ?? ""]?.format ?? x
            let shift = x.fracBits + b.fracBits - output.fracBits
            let raw = Double(x.magnitude) * Double(b.magnitude)
            if isAlwaysZero(bound: raw, shift: shift) { return .zero }
            return .mul(.init(constant: node.inputs.count == 2 ? nil : node.weights["B"], shift: shift,
                              accBits: try accumulatorBits(raw + rounding(shift), node: node)))
        case let .scale(factor):
            let multiplier = TensorFormat.fitting(maxAbs: abs(factor), bits: 16)
            let q = multiplier.quantize(factor)
            let shift = x.fracBits + multiplier.fracBits - output.fracBits
            let raw = Double(x.magnitude) * Double(abs(q))
            if isAlwaysZero(bound: raw, shift: shift) || q == 0 { return .zero }
            return .scale(multiplier: q, shift: shift, accBits: try accumulatorBits(raw + rounding(shift), node: node))
        case .relu:
            return .clamp(lo: 0, hi: x.maxInt, shift: x.fracBits - output.fracBits)
        case .relu6:
            return .clamp(lo: 0, hi: min(x.maxInt, x.quantize(6)), shift: x.fracBits - output.fracBits)
        case let .maxPool(window):
            return .maxPool(window: window, input: inputShape, shift: x.fracBits - output.fracBits)
        case let .avgPool(window):
            // m = round(2^14 / area): exact for power-of-two areas, within 0.1% for areas up to 7x7,
            // and area · 2^15 · m stays below 2^30, so the sum fits 32 bits.
            let area = window.kernelHeight * window.kernelWidth
            let fm = 14
            let multiplier = max(1, Int64((pow2(fm) / Double(area)).rounded()))
            let shift = x.fracBits + fm - output.fracBits
            let raw = Double(area) * Double(x.magnitude) * Double(multiplier)
            if isAlwaysZero(bound: raw, shift: shift) { return .zero }
            return .avgPool(window: window, input: inputShape, multiplier: multiplier, shift: shift,
                            accBits: try accumulatorBits(raw + rounding(shift), node: node))
        case .sigmoid: return .sigmoid(inputFracBits: x.fracBits, shift: 15 - output.fracBits)
        case .tanh: return .tanh(inputFracBits: x.fracBits, shift: 15 - output.fracBits)
        case .exp: return .exp(inputFracBits: x.fracBits)
        case .flatten, .reshape:
            guard x == output else {
                throw .invalidFormat(tensor: node.output, format: output, reason: "must equal its input's format \(x) (\(node.op.name) is a view)")
            }
            return .alias
        case .argMax: return .argMax
        case .squaredDistance:
            guard let p = node.weights["P"], let prototypes = constants[p] else { throw .missingFormat(tensor: node.weights["P"] ?? "P") }
            let m = max(x.fracBits, prototypes.format.fracBits)
            let shift = 2 * m - output.fracBits
            let d = prototypes.shape.dims[1]
            let largestP = Double(prototypes.maxAbs) * pow2(m - prototypes.format.fracBits)
            let difference = Double(x.magnitude) * pow2(m - x.fracBits) + largestP
            let raw = Double(d) * difference * difference
            if isAlwaysZero(bound: raw, shift: shift) { return .zero }
            return .squaredDistance(constant: p, shiftX: m - x.fracBits, shiftP: m - prototypes.format.fracBits, shift: shift,
                                    accBits: try accumulatorBits(raw + rounding(shift), node: node))
        case let .loop(loop):
            let body = try loop.body.map { (inner: Node) throws(FixedPointError) -> FixedStep in try step(for: inner) }
            return .loop(LoopPlan(stepInput: loop.stepInput, states: loop.states, body: body, result: loop.result))
        case .fastGRNN, .gru, .lstm:
            throw .unsupported(node: node.name, reason: "recurrent cells must be lowered first")
        }
    }

    private func linear(_ node: Node, x: TensorFormat, output: TensorFormat, inputShape: Shape) throws(FixedPointError) -> Kernel {
        guard let wName = node.weights["W"], let w = constants[wName] else { throw .missingFormat(tensor: node.weights["W"] ?? "W") }
        let bias = node.weights["b"].flatMap { constants[$0] }
        let product = w.format.fracBits + x.fracBits
        let biasShift = bias.map { product - $0.format.fracBits } ?? 0
        let shift = product - output.fracBits
        // Per output: |bias·2^biasShift| + Σ|w|·max|x|; a row of W (dense) or a filter (conv).
        let outputs: Int, perOutput: Int
        let shape: Kernel.Linear.Shape
        switch node.op {
        case let .conv2D(window):
            (outputs, perOutput, shape) = (w.shape.dims[0], w.shape.elementCount / w.shape.dims[0], .conv2D(window, input: inputShape))
        case let .depthwiseConv2D(window):
            (outputs, perOutput, shape) = (w.shape.dims[2], w.shape.dims[0] * w.shape.dims[1], .depthwiseConv2D(window, input: inputShape))
        default:
            (outputs, perOutput, shape) = (w.shape.dims[0], w.shape.dims[1], .dense)
        }
        var raw = 0.0
        for o in 0..<outputs {
            var sum = 0.0
            for k in 0..<perOutput {
                // Dense and conv weights are output-major; depthwise [kh,kw,C] is channel-minor.
                let index = node.op.isDepthwise ? k * outputs + o : o * perOutput + k
                sum += Double(abs(w.values[index]))
            }
            let b = bias.map { Double(abs($0.values[o])) * pow2(biasShift) } ?? 0
            raw = max(raw, sum * Double(x.magnitude) + b)
        }
        if isAlwaysZero(bound: raw, shift: shift) { return .zero }
        let bound = raw + rounding(shift)
        return .linear(.init(shape: shape, weights: wName, bias: bias?.name, biasShift: biasShift, shift: shift,
                             accBits: try accumulatorBits(bound, node: node), bound: bound))
    }
}

extension Op {
    var isDepthwise: Bool { if case .depthwiseConv2D = self { true } else { false } }
}
