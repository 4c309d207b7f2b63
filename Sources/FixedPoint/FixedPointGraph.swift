import ModelIR

/// Which tensors of a lowered graph carry a fixed-point format, and the rules that tie formats together.
public enum FixedPointGraph {
    /// Allowed fractional bits: wide enough for any weight or activation worth keeping, narrow enough
    /// that every shift in the emitted C stays far from its type's width.
    public static let fracBitsRange = -24...28

    /// Every tensor that needs a format, in a deterministic order: the input, then for each node its
    /// weights and output (loop states and temporaries included).
    public static func tensors(of graph: Graph) -> [String] {
        var seen = Set<String>(), order: [String] = []
        func add(_ name: String) { if seen.insert(name).inserted { order.append(name) } }
        add(graph.input.name)
        for node in graph.nodes {
            if case let .loop(loop) = node.op {
                add(loop.stepInput)
                for state in loop.states { add(state.name) }
                for inner in loop.body {
                    for role in inner.weights.keys.sorted() { add(inner.weights[role] ?? "") }
                    add(inner.output)
                }
            } else {
                for role in node.weights.keys.sorted() { add(node.weights[role] ?? "") }
            }
            add(node.output)
        }
        return order
    }

    /// Tensors whose format normalization sets from another tensor's: they are not choices.
    public static func tiedTensors(of graph: Graph) -> Set<String> {
        var tied = Set<String>()
        func tie(_ node: Node) {
            switch node.op {
            case .relu, .relu6, .maxPool, .flatten, .reshape, .argMax: tied.insert(node.output)
            default: break
            }
        }
        for node in graph.nodes {
            if case let .loop(loop) = node.op {
                tied.insert(loop.stepInput)
                loop.body.forEach(tie)
                for state in loop.states { tied.insert(state.next) }
                tied.insert(node.output)
            } else {
                tie(node)
            }
        }
        return tied
    }

    /// The config with the format equalities the semantics require (docs/fixed-point.md):
    /// a loop's step input has the sequence input's format; a state's next value and the loop's
    /// result have the state's format; ReLU, ReLU6, MaxPool, Flatten and Reshape keep their input's
    /// format; an ArgMax output is an index (int16 Q0); a bias has at most the fractional bits of
    /// its product. Fails if a tensor has no format or an invalid one.
    public static func normalized(_ config: QuantConfig, for graph: Graph) throws(FixedPointError) -> QuantConfig {
        var f = config.formats
        func format(_ name: String) throws(FixedPointError) -> TensorFormat {
            guard let format = f[name] else { throw .missingFormat(tensor: name) }
            return format
        }
        for name in tensors(of: graph) {
            let fmt = try format(name)
            guard fmt.bits == 8 || fmt.bits == 16 else { throw .invalidFormat(tensor: name, format: fmt, reason: "has \(fmt.bits) bits; allowed: 8, 16") }
            guard fracBitsRange.contains(fmt.fracBits) else {
                // Most often from data: a tensor whose values reach 2^(bits-1-fracBits) or more (or only tiny ones).
                // A config file may hold any Int: no cause when the exponent itself overflows.
                let (exponent, overflow) = (fmt.bits - 1).subtractingReportingOverflow(fmt.fracBits)
                let cause = overflow ? "" : fmt.fracBits < fracBitsRange.lowerBound
                    ? " (its values reach about 2^\(exponent): an outlier weight or input, or a layer that overflows, sets that scale)"
                    : " (its values are all below about 2^\(exponent))"
                throw .invalidFormat(tensor: name, format: fmt, reason: "has \(fmt.fracBits) fractional bits; allowed: \(fracBitsRange.lowerBound)...\(fracBitsRange.upperBound)" + cause)
            }
        }
        func tie(_ node: Node) throws(FixedPointError) {
            switch node.op {
            case .relu, .relu6, .maxPool, .flatten, .reshape:
                f[node.output] = try format(node.inputs[0])
            case .argMax:
                f[node.output] = TensorFormat(bits: 16, fracBits: 0)
            case .gemm, .conv2D, .depthwiseConv2D:
                if let bias = node.weights["b"], let w = node.weights["W"] {
                    let product = try format(w).fracBits + format(node.inputs[0]).fracBits
                    let b = try format(bias)
                    if b.fracBits > product { f[bias] = TensorFormat(bits: b.bits, fracBits: product) }
                }
            default: break
            }
        }
        for node in graph.nodes {
            if case let .loop(loop) = node.op {
                f[loop.stepInput] = try format(graph.input.name)
                for inner in loop.body { try tie(inner) }
                for state in loop.states { f[state.next] = try format(state.name) }
                f[node.output] = try format(loop.result)
            } else {
                try tie(node)
            }
        }
        return QuantConfig(formats: f.filter { Set(tensors(of: graph)).contains($0.key) })
    }
}
