import ModelIR

/// Composes chains of scalar affine ops (a `Scale`, or an `Add` of one constant number) into at most
/// one `Scale` and one `Add`.
///
/// PyTorch writes FastGRNN's gate `sigmoid(zeta) * (1 - z) + sigmoid(nu)` as Sub, Mul and Add; we
/// translate `1 - z` into two nodes, so the chain is four where our lowering of the native cell
/// writes `(-sigmoid(zeta)) z + (sigmoid(zeta) + sigmoid(nu))` as two. In a loop each node runs
/// every step and takes a tensor, a scale and code of its own: the composed pair is the same
/// function with the rounding of the native cell (`-1 * a` and `1 * a` are exact).
enum ScalarAffineChains {
    typealias PendingNode = GraphTranslator.PendingNode

    struct Composed {
        var nodes: [PendingNode]
        /// `"<op> '<name>'"` of the nodes composed away.
        var removed: Set<String>
        /// Each chain composed, in words.
        var chains: [String]
    }

    /// `nodes` with every chain of two or more scalar affine ops composed; a chain passes through a
    /// tensor only where nothing else reads it and it is not in `keeping` (a loop state's next value).
    static func compose(_ nodes: [PendingNode], keeping: Set<String>) -> Composed {
        var readers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs { readers[input, default: []].append(index) }
        }
        let producer = Dictionary(nodes.enumerated().map { ($1.output, $0) }, uniquingKeysWith: { first, _ in first })
        /// True when `index` is affine and its output goes on only into the next affine op of a chain.
        func linksToNext(_ index: Int) -> Bool {
            let output = nodes[index].output
            guard affine(nodes[index]) != nil, !keeping.contains(output), let next = readers[output], next.count == 1 else { return false }
            return affine(nodes[next[0]]) != nil
        }
        var replaced: [Int: [PendingNode]] = [:]
        var dropped: Set<Int> = []
        var chains: [String] = []
        for (end, node) in nodes.enumerated() where affine(node) != nil && !linksToNext(end) {
            // Walk back from the chain's last node while the tensor before it feeds only it.
            var chain = [end]
            while let first = chain.first, let input = nodes[first].inputs.first, let before = producer[input], linksToNext(before) {
                chain.insert(before, at: 0)
            }
            guard chain.count >= 2 else { continue }
            var a = 1.0, b = 0.0
            for index in chain {
                guard let (scale, shift) = affine(nodes[index]) else { continue }
                a *= scale
                b = b * scale + shift
            }
            let first = nodes[chain[0]], last = nodes[end]
            var composed: [PendingNode] = []
            if a != 1 {
                var scale = first
                scale.op = .scale(a)
                scale.weights = [:]
                if b != 0 { scale.output = first.output } else { scale.output = last.output }
                composed.append(scale)
            }
            if b != 0 {
                var add = last
                add.op = .add
                add.inputs = [composed.last?.output ?? first.inputs[0]]
                add.weights = ["B": Tensor(scalar: b)]
                composed.append(add)
            }
            guard !composed.isEmpty, composed.count < chain.count else { continue }
            replaced[end] = composed
            dropped.formUnion(chain.dropLast())
            chains.append("\(chain.map { "\(nodes[$0].op.name) '\(nodes[$0].name)'" }.joined(separator: ", ")) composed into "
                + composed.map { "\($0.op.name) '\($0.name)'" }.joined(separator: " and "))
        }
        var out: [PendingNode] = []
        var removed: Set<String> = []
        for (index, node) in nodes.enumerated() {
            if let composed = replaced[index] {
                out += composed
            } else if !dropped.contains(index) {
                out.append(node)
            }
        }
        let kept = Set(out.map(\.name))
        for node in nodes where !kept.contains(node.name) { removed.insert("\(node.op.name) '\(node.name)'") }
        return Composed(nodes: out, removed: removed, chains: chains)
    }

    /// `x -> scale * x + shift` for a one-input Scale or an Add of one constant number; nil otherwise.
    private static func affine(_ node: PendingNode) -> (scale: Double, shift: Double)? {
        guard node.inputs.count == 1 else { return nil }
        switch node.op {
        case let .scale(factor) where node.weights.isEmpty:
            return (factor, 0)
        case .add:
            guard node.weights.count == 1, let b = node.weights["B"], b.values.count == 1 else { return nil }
            return (1, b.values[0])
        default:
            return nil
        }
    }
}
