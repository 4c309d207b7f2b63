import Evaluator
import FixedPoint
import Foundation
import ModelIR

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, well-mixed generator. Every random choice
/// of the random-graph tests comes from one of these, so a seed reproduces a case exactly on any
/// platform and Swift version (nothing here uses the standard library's `random(in:using:)`).
struct SplitMix64 {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (the modulo bias is below 2^-56 for the tiny ranges used here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func double(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func pick<T>(_ options: [T]) -> T { options[int(0...(options.count - 1))] }

    /// One of `options`, with probability proportional to its weight (weights may be zero).
    mutating func weighted<T>(_ options: [(T, Double)]) -> T {
        let total = options.reduce(0) { $0 + $1.1 }
        var r = unit() * total
        for (value, weight) in options where weight > 0 {
            if r < weight { return value }
            r -= weight
        }
        return options.last(where: { $0.1 > 0 })?.0 ?? options[0].0
    }
}

/// One random test case: a small valid graph, a split that feeds it, and a random config
/// around the data-driven formats. Everything derives from `seed`.
struct RandomGraphCase {
    enum Kind: String { case vector, image, recurrent }

    let seed: UInt64
    let kind: Kind
    let graph: Graph
    let split: DatasetSplit
    let config: QuantConfig
    /// Op names of the graph's nodes plus variant tags ("Add(2)", "Gemm+b", "FastGRNN/lowrank", ...).
    let features: Set<String>

    init(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var builder = RandomGraphBuilder(rng: rng)
        let kind = builder.rng.weighted([(Kind.vector, 0.35), (.image, 0.35), (.recurrent, 0.3)])
        let graph = try builder.graph(kind)
        rng = builder.rng
        let split = RandomGraphCase.data(for: graph, rng: &rng)
        self.seed = seed
        self.kind = kind
        self.graph = graph
        self.split = split
        self.features = builder.features
        self.config = try RandomGraphCase.config(for: graph, split: split, rng: &rng)
    }

    /// 6-20 samples uniform in [-3, 3] (some snapped to a 1/4 grid, so halves occur); sequences get
    /// 1-8 steps and random lengths, zero-padded past each length.
    static func data(for graph: Graph, rng: inout SplitMix64) -> DatasetSplit {
        let count = rng.int(6...20)
        let features = graph.input.shape.elementCount
        let maxSteps = graph.input.isSequence ? rng.int(1...8) : 1
        let lengths: [Int]? = graph.input.isSequence ? (0..<count).map { _ in rng.int(1...maxSteps) } : nil
        let snap = rng.chance(0.3)
        var inputs: [Double] = []
        for s in 0..<count {
            for t in 0..<maxSteps {
                for _ in 0..<features {
                    var v = rng.double(-3, 3)
                    if snap, rng.chance(0.5) { v = (v * 4).rounded() / 4 }
                    inputs.append(t < (lengths?[s] ?? maxSteps) ? v : 0)
                }
            }
        }
        let classes = max(graph.outputsClassIndex ? graph.shapes[graph.nodes.last?.inputs.first ?? ""]?.elementCount ?? 1
                                                  : graph.outputShape.elementCount, 1)
        return DatasetSplit(name: "random", inputs: inputs, labels: (0..<count).map { _ in rng.int(0...(classes - 1)) },
                            lengths: lengths, sampleShape: graph.input.shape, maxSteps: maxSteps)
    }

    /// Every tensor of the lowered graph: 8 or 16 bits at random, and the fractional bits that fit its
    /// profiled range plus an offset, mostly in -3...3, sometimes extreme (±8...±14), clamped into
    /// `FixedPointGraph.fracBitsRange`: too fine saturates, too coarse shifts everything out.
    static func config(for graph: Graph, split: DatasetSplit, rng: inout SplitMix64) throws -> QuantConfig {
        let lowered = try Lowering.lower(graph)
        var maxAbs = try Calibration.profile(graph, on: split).maxAbs
        // Calibration does not observe loop states; their range is that of their next value.
        for node in lowered.nodes {
            if case let .loop(loop) = node.op { for state in loop.states { maxAbs[state.name] = maxAbs[state.next] } }
        }
        let p16 = rng.pick([0.5, 0.5, 0.5, 0.8, 0.2, 1.0, 0.0])
        let extremeRate = rng.pick([0.0, 0.0, 0.04, 0.1, 0.2])
        var formats: [String: TensorFormat] = [:]
        for tensor in FixedPointGraph.tensors(of: lowered) {
            let bits = rng.chance(p16) ? 16 : 8
            let fit = TensorFormat.fitting(maxAbs: maxAbs[tensor] ?? 0, bits: bits).fracBits
            let offset: Int
            if rng.chance(extremeRate) {
                offset = (rng.chance(0.5) ? 1 : -1) * rng.int(8...14)
            } else {
                offset = rng.chance(0.4) ? 0 : rng.int(-3...3)
            }
            let range = FixedPointGraph.fracBitsRange
            formats[tensor] = TensorFormat(bits: bits, fracBits: min(max(fit + offset, range.lowerBound), range.upperBound))
        }
        return QuantConfig(formats: formats)
    }

    /// The graph in one line per node, for failure messages.
    var summary: String {
        var lines = ["seed \(seed) (\(kind.rawValue)): input \(graph.input.name) \(graph.input.shape)\(graph.input.isSequence ? " sequence" : ""), \(split.count) samples, \(split.maxSteps) steps"]
        for node in graph.nodes {
            let weights = node.weights.keys.sorted().map { "\($0) \(graph.constants[node.weights[$0] ?? ""]?.shape ?? Shape([]))" }
            lines.append("  \(node.name): \(node.op.name)\(attributes(node.op))(\(node.inputs.joined(separator: ", "))\(weights.isEmpty ? "" : "; " + weights.joined(separator: ", "))) -> \(node.output) \(graph.shapes[node.output] ?? Shape([]))")
        }
        return lines.joined(separator: "\n")
    }

    private func attributes(_ op: Op) -> String {
        func w(_ w: Window) -> String {
            "[k \(w.kernelHeight)x\(w.kernelWidth) s \(w.strideHeight),\(w.strideWidth) p \(w.padTop),\(w.padLeft),\(w.padBottom),\(w.padRight)]"
        }
        switch op {
        case let .scale(s): return "[\(s)]"
        case let .conv2D(window), let .depthwiseConv2D(window), let .maxPool(window), let .avgPool(window): return w(window)
        case let .reshape(shape): return "\(shape)"
        default: return ""
        }
    }
}

/// Builds one small random graph, recording which ops and variants it used.
struct RandomGraphBuilder {
    var rng: SplitMix64
    private(set) var features: Set<String> = []
    private var constants: [String: Tensor] = [:]
    private var nodes: [Node] = []
    private var shapes: [String: Shape] = [:]
    /// Activation tensors later nodes may read (never the sequence input).
    private var available: [String] = []
    private var exps = 0

    init(rng: SplitMix64) { self.rng = rng }

    mutating func graph(_ kind: RandomGraphCase.Kind) throws -> Graph {
        let input: Graph.Input
        var x: String
        switch kind {
        case .vector:
            input = .init(name: "x", shape: Shape([rng.int(1...6)]), isSequence: false)
            x = start(input)
            x = vectorChain(from: x, steps: rng.int(1...5))
        case .image:
            input = .init(name: "x", shape: Shape([rng.int(3...7), rng.int(3...7), rng.int(1...3)]), isSequence: false)
            x = start(input)
            for _ in 0..<rng.int(2...4) { x = imageStep(x) }
            if rng.chance(0.8) {
                x = emit(.flatten, [x], shape: Shape([elements(x)]))
            } else {
                x = emit(.reshape(Shape([elements(x)])), [x], shape: Shape([elements(x)]), tag: "Reshape/flat")
            }
            if rng.chance(0.95) { x = dense(x, outputs: rng.int(2...5)) }
            x = vectorChain(from: x, steps: rng.int(0...2))
        case .recurrent:
            input = .init(name: "x", shape: Shape([rng.int(1...4)]), isSequence: true)
            shapes[input.name] = input.shape
            x = recurrentCell(input: input, hidden: rng.int(2...6))
            if rng.chance(0.9) { x = dense(x, outputs: rng.int(2...5)) }
            x = vectorChain(from: x, steps: rng.int(0...2))
        }
        features.insert("kind/\(kind.rawValue)")
        if rng.chance(0.25) {
            x = emit(.argMax, [x], shape: Shape([]))
        }
        return try Graph.checked(name: "random", input: input, output: x, constants: constants, nodes: nodes)
    }

    // MARK: Bookkeeping

    private mutating func start(_ input: Graph.Input) -> String {
        shapes[input.name] = input.shape
        available.append(input.name)
        return input.name
    }

    private func shape(_ t: String) -> Shape { shapes[t] ?? Shape([]) }
    private func elements(_ t: String) -> Int { shape(t).elementCount }

    /// Weights in about [-1.5, 1.5]; some tensors scaled up (x4...x32) or down (/8.../512), some
    /// elements zero or outliers.
    private mutating func values(_ count: Int) -> [Double] {
        let r = rng.unit()
        let scale = r < 0.8 ? 1.0 : r < 0.9 ? Foundation.pow(2, rng.double(2, 5)) : Foundation.pow(2, -rng.double(3, 9))
        return (0..<count).map { _ in
            if rng.chance(0.04) { return 0 }
            let v = rng.double(-1.5, 1.5) * scale
            return rng.chance(0.03) ? v * 8 : v
        }
    }

    private mutating func constant(_ name: String, _ dims: [Int], values given: [Double]? = nil) -> String {
        let shape = Shape(dims)
        constants[name] = Tensor(shape: shape, values: given ?? values(shape.elementCount))
        return name
    }

    /// Appends a node; `weights` maps a role to the dims of a fresh random constant.
    @discardableResult
    private mutating func emit(_ op: Op, _ inputs: [String], weights: [(String, [Int])] = [], shape: Shape,
                               tag: String? = nil) -> String {
        let name = "n\(nodes.count)"
        let output = "t\(nodes.count)"
        var roles: [String: String] = [:]
        for (role, dims) in weights { roles[role] = constant("\(name).\(role)", dims) }
        nodes.append(Node(name: name, op: op, inputs: inputs, output: output, weights: roles))
        shapes[output] = shape
        available.append(output)
        features.insert(op.name)
        if let tag { features.insert(tag) }
        return output
    }

    // MARK: Vectors

    private mutating func vectorChain(from start: String, steps: Int) -> String {
        var x = start
        for _ in 0..<steps { x = vectorStep(x) }
        return rank1(x)
    }

    private mutating func rank1(_ x: String) -> String {
        shape(x).rank == 1 ? x : emit(.flatten, [x], shape: Shape([elements(x)]))
    }

    private mutating func dense(_ x: String, outputs: Int, allowMatMul: Bool = false) -> String {
        let x = rank1(x)
        let k = elements(x)
        if allowMatMul, rng.chance(0.35) {
            return emit(.matMul, [x], weights: [("W", [outputs, k])], shape: Shape([outputs]))
        }
        let bias = rng.chance(0.6)
        return emit(.gemm, [x], weights: [("W", [outputs, k])] + (bias ? [("b", [outputs])] : []), shape: Shape([outputs]),
                    tag: bias ? "Gemm+b" : "Gemm-b")
    }

    private mutating func vectorStep(_ x: String) -> String {
        let n = elements(x)
        let factor = (2...max(2, n / 2)).first { n % $0 == 0 && n / $0 >= 2 }
        let choice = rng.weighted([
            ("dense", 3.0), ("binary2", 3), ("binaryB", 3), ("unary", 5), ("squaredDistance", 1),
            ("reshape", shape(x).rank == 1 && factor != nil ? 0.6 : shape(x).rank != 1 ? 1.5 : 0),
        ])
        switch choice {
        case "dense": return dense(x, outputs: rng.int(1...6), allowMatMul: true)
        case "binary2":
            let other = partner(for: x)
            return binary(x, partner: other)
        case "binaryB": return binary(x, partner: nil)
        case "squaredDistance":
            let x = rank1(x)
            let m = rng.int(1...5)
            return emit(.squaredDistance, [x], weights: [("P", [m, elements(x)])], shape: Shape([m]))
        case "reshape":
            if shape(x).rank != 1 {
                return emit(.reshape(Shape([n])), [x], shape: Shape([n]), tag: "Reshape/flat")
            }
            let a = factor ?? 1
            return emit(.reshape(Shape([a, n / a])), [x], shape: Shape([a, n / a]), tag: "Reshape/2d")
        default: return unary(x)
        }
    }

    /// Relu, Relu6, Sigmoid, Tanh, Exp (at most two per graph) or Scale (positive or negative,
    /// sometimes tiny or large).
    private mutating func unary(_ x: String) -> String {
        let op = rng.weighted([
            (Op.relu, 1.0), (.relu6, 1), (.sigmoid, 1), (.tanh, 1), (.exp, exps < 2 ? 1 : 0), (.scale(0), 1.2),
        ])
        if op == .exp {
            exps += 1
            // Sometimes a wide input, so that Exp's coarse-input path (fewer than -13 fractional bits) runs.
            if rng.chance(0.3) {
                let wide = emit(.scale(rng.double(8, 64)), [x], shape: shape(x), tag: "Scale+")
                return emit(.exp, [wide], shape: shape(x), tag: "Exp/wide")
            }
        }
        if case .scale = op {
            var factor = rng.double(0.1, 3)
            let r = rng.unit()
            if r < 0.1 { factor = Foundation.pow(2, -rng.double(4, 12)) } else if r < 0.2 { factor = rng.double(8, 200) }
            let negative = rng.chance(0.5)
            return emit(.scale(negative ? -factor : factor), [x], shape: shape(x), tag: negative ? "Scale-" : "Scale+")
        }
        return emit(op, [x], shape: shape(x))
    }

    /// Add, Sub or Mul of `x` and `partner`, or of `x` and a constant B (x's shape, `[1]` or `[]`).
    private mutating func binary(_ x: String, partner: String?) -> String {
        let op = rng.pick([Op.add, .sub, .mul])
        if let partner {
            return emit(op, [x, partner], shape: shape(x), tag: "\(op.name)(2)")
        }
        let r = rng.unit()
        let (dims, tag) = r < 0.55 ? (shape(x).dims, "\(op.name)(B)") : r < 0.9 ? ([1], "\(op.name)(B1)") : ([], "\(op.name)(B0)")
        return emit(op, [x], weights: [("B", dims)], shape: shape(x), tag: tag)
    }

    /// A second operand of `x`'s shape: `x` itself, an earlier tensor of that shape, a unary op of
    /// one, or a new branch (a dense layer from an earlier vector; a shape-keeping convolution from
    /// an earlier image of the same height and width).
    private mutating func partner(for x: String) -> String {
        let target = shape(x)
        let same = available.filter { shape($0) == target }
        switch rng.weighted([("same", 1.0), ("unary", 1.2), ("branch", 1.5)]) {
        case "same":
            let t = rng.pick(same)
            features.insert(t == x ? "binary/self" : "binary/skip")
            return t
        case "unary":
            return unary(rng.pick(same))
        default:
            if target.rank == 1 {
                let sources = available.filter { shape($0).rank == 1 }
                features.insert("binary/dense-branch")
                return dense(rng.pick(sources), outputs: target.dims[0], allowMatMul: true)
            }
            if target.rank == 3 {
                let sources = available.filter { shape($0).rank == 3 && Array(shape($0).dims.prefix(2)) == Array(target.dims.prefix(2)) }
                let source = rng.pick(sources)
                let k = rng.pick([1, 3])
                let window = Window(kernelHeight: k, kernelWidth: k, padTop: k / 2, padLeft: k / 2, padBottom: k / 2, padRight: k / 2)
                let c = shape(source).dims[2], o = target.dims[2]
                features.insert("binary/conv-branch")
                if c == o, rng.chance(0.5) {
                    return emit(.depthwiseConv2D(window), [source], weights: [("W", [k, k, c]), ("b", [c])], shape: target)
                }
                return emit(.conv2D(window), [source], weights: [("W", [o, k, k, c])], shape: target)
            }
            return unary(rng.pick(same))
        }
    }

    // MARK: Images

    private mutating func imageStep(_ x: String) -> String {
        let dims = shape(x).dims
        let (h, w, c) = (dims[0], dims[1], dims[2])
        let canPool = h >= 2 && w >= 2
        let choice = rng.weighted([
            ("conv", 3.0), ("depthwise", 2), ("maxPool", canPool ? 2.5 : 0), ("avgPool", canPool ? 2.5 : 0),
            ("unary", 1.5), ("binaryB", 1), ("binary2", 1), ("reshape", 0.4),
        ])
        switch choice {
        case "conv", "depthwise":
            let window = convWindow(h: h, w: w)
            let size = window.outputSize(height: h, width: w) ?? (1, 1)
            let bias = rng.chance(0.6)
            var tags = [window.strideHeight > 1 || window.strideWidth > 1 ? "stride2" : "stride1"]
            tags.append(window.padTop + window.padLeft + window.padBottom + window.padRight > 0 ? "pad" : "nopad")
            tags.append(bias ? "+b" : "-b")
            if choice == "conv" {
                let o = rng.int(1...4)
                for t in tags { features.insert("Conv2D/\(t)") }
                return emit(.conv2D(window), [x], weights: [("W", [o, window.kernelHeight, window.kernelWidth, c])] + (bias ? [("b", [o])] : []),
                            shape: Shape([size.height, size.width, o]))
            }
            for t in tags { features.insert("DepthwiseConv2D/\(t)") }
            return emit(.depthwiseConv2D(window), [x], weights: [("W", [window.kernelHeight, window.kernelWidth, c])] + (bias ? [("b", [c])] : []),
                        shape: Shape([size.height, size.width, c]))
        case "maxPool", "avgPool":
            var (kh, kw) = rng.weighted([((2, 2), 1.0), ((3, 3), 1.0), ((2, 3), 0.25), ((3, 2), 0.25)])
            kh = min(kh, h)
            kw = min(kw, w)
            let window = Window(kernelHeight: kh, kernelWidth: kw, strideHeight: rng.int(1...3), strideWidth: rng.int(1...3))
            let size = window.outputSize(height: h, width: w) ?? (1, 1)
            let op: Op = choice == "maxPool" ? .maxPool(window) : .avgPool(window)
            return emit(op, [x], shape: Shape([size.height, size.width, c]), tag: "\(op.name)/\(kh)x\(kw)")
        case "binaryB": return binary(x, partner: nil)
        case "binary2":
            let other = partner(for: x)
            return binary(x, partner: other)
        case "reshape":
            // Another reading of the same buffer: swap height and width.
            return emit(.reshape(Shape([w, h, c])), [x], shape: Shape([w, h, c]), tag: "Reshape/3d")
        default: return unary(x)
        }
    }

    /// A kernel of 1...3 by 1...3, strides 1-2, pads 0-1 per side, that fits the input.
    private mutating func convWindow(h: Int, w: Int) -> Window {
        let pads = (0..<4).map { _ in rng.chance(0.4) ? 1 : 0 }
        let kh = min(rng.int(1...3), h + pads[0] + pads[2])
        let kw = min(rng.int(1...3), w + pads[1] + pads[3])
        return Window(kernelHeight: kh, kernelWidth: kw, strideHeight: rng.int(1...2), strideWidth: rng.int(1...2),
                      padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
    }

    // MARK: Recurrent cells

    private mutating func recurrentCell(input: Graph.Input, hidden: Int) -> String {
        let f = input.shape.dims[0]
        let name = "n\(nodes.count)", output = "t\(nodes.count)"
        var roles: [String: String] = [:]
        func add(_ role: String, _ dims: [Int], values: [Double]? = nil) {
            roles[role] = constant("\(name).\(role)", dims, values: values)
        }
        let cell = rng.weighted([("fastGRNN", 1.0), ("fastGRNN-lowrank", 1.0), ("gru", 1.0), ("lstm", 1.0)])
        let op: Op
        switch cell {
        case "fastGRNN", "fastGRNN-lowrank":
            op = .fastGRNN
            let lowW = cell == "fastGRNN-lowrank" && rng.chance(0.7)
            let lowU = cell == "fastGRNN-lowrank" && (!lowW || rng.chance(0.6))
            if lowW {
                let r = rng.int(1...3)
                add("W1", [hidden, r])
                add("W2", [r, f])
            } else {
                add("W", [hidden, f])
            }
            if lowU {
                let r = rng.int(1...3)
                add("U1", [hidden, r])
                add("U2", [r, hidden])
            } else {
                add("U", [hidden, hidden])
            }
            add("b_z", [hidden])
            add("b_h", [hidden])
            add("zeta", [1], values: [rng.double(-3, 3)])
            add("nu", [1], values: [rng.double(-6, 1)])
            features.insert(lowW || lowU ? "FastGRNN/lowrank" : "FastGRNN/full")
        default:
            op = cell == "gru" ? .gru : .lstm
            let gates = cell == "gru" ? 3 : 4
            add("W_ih", [gates * hidden, f])
            add("W_hh", [gates * hidden, hidden])
            add("b_ih", [gates * hidden])
            add("b_hh", [gates * hidden])
        }
        nodes.append(Node(name: name, op: op, inputs: [input.name], output: output, weights: roles))
        shapes[output] = Shape([hidden])
        available.append(output)
        features.insert(op.name)
        return output
    }
}
