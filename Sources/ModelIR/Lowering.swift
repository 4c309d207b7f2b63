import Foundation

/// Rewrites every recurrent cell (FastGRNN, GRU, LSTM) as a `Loop` of primitive ops.
///
/// After lowering, every intermediate of a cell (gate pre-activations, gates, products) is a named
/// tensor with its own shape, so the evaluator, the fixed-point emulator and the C emitter need to
/// know only primitive ops and one loop construct. Derived constants (gate slices of PyTorch's
/// stacked matrices, pre-summed biases, `sigmoid(zeta)`) are added under the node's name.
public enum Lowering {
    public static func lower(_ graph: Graph) throws(ModelError) -> Graph {
        var constants = graph.constants
        var nodes: [Node] = []
        var taken = TakenNames(graph)
        for node in graph.nodes {
            switch node.op {
            case .fastGRNN, .gru, .lstm:
                var cell = CellBuilder(node: node, stepInput: "\(node.name).x_t", constants: graph.constants)
                let loop = cell.lower()
                // A cell's intermediates must not take a name the model uses: a clash would merge a
                // derived constant over the model's own, or give two C functions one name.
                let created = [loop.stepInput] + loop.states.map(\.name) + loop.body.map(\.name) + cell.derived.keys.sorted()
                for name in created { try taken.claim(name, cell: node) }
                constants.merge(cell.derived) { _, new in new }
                nodes.append(Node(name: node.name, op: .loop(loop), inputs: node.inputs, output: node.output))
            default:
                nodes.append(node)
            }
        }
        return try Graph.checked(name: graph.name, input: graph.input, output: graph.output,
                                 constants: constants, nodes: nodes)
    }
}

/// The names of a graph's nodes, tensors and constants, and those lowering has created so far.
struct TakenNames {
    private var uses: [String: String] = [:]

    init(_ graph: Graph) {
        for name in graph.constants.keys { uses[name] = "constant" }
        for name in graph.shapes.keys { uses[name] = "tensor" }
        for node in graph.nodes { uses[node.name] = "node" }
    }

    mutating func claim(_ name: String, cell: Node) throws(ModelError) {
        if let use = uses[name] { throw .loweringNameTaken(name: name, cell: cell.name, op: cell.op.name, usedBy: use) }
        uses[name] = "cell '\(cell.name)'"
    }
}

/// Builds the body of one recurrent cell. Tensor names are `<node>.<role>`.
struct CellBuilder {
    let node: Node
    let stepInput: String
    let constants: [String: Tensor]
    private(set) var body: [Node] = []
    private(set) var derived: [String: Tensor] = [:]

    init(node: Node, stepInput: String, constants: [String: Tensor]) {
        self.node = node
        self.stepInput = stepInput
        self.constants = constants
    }

    private func weight(_ role: String) -> Tensor {
        // Present and shaped: the shape checker ran on the file graph.
        constants[node.weights[role] ?? ""] ?? Tensor(scalar: 0)
    }

    private func name(_ local: String) -> String { "\(node.name).\(local)" }

    @discardableResult
    private mutating func emit(_ local: String, _ op: Op, _ inputs: [String], weights: [String: Tensor] = [:]) -> String {
        var roles: [String: String] = [:]
        for (role, tensor) in weights.sorted(by: { $0.key < $1.key }) {
            let constant = name("\(local).\(role)")
            derived[constant] = tensor
            roles[role] = constant
        }
        body.append(Node(name: name(local), op: op, inputs: inputs, output: name(local), weights: roles))
        return name(local)
    }

    private mutating func emitShared(_ local: String, _ op: Op, _ inputs: [String], role: String, original: String) -> String {
        body.append(Node(name: name(local), op: op, inputs: inputs, output: name(local), weights: [role: original]))
        return name(local)
    }

    /// `M · v`, or `M1 · (M2 · v)` for a low-rank factorisation, using the file's constants as they are.
    private mutating func product(_ local: String, _ v: String, full: String, low: (String, String)) -> String {
        if let w = node.weights[full] {
            return emitShared(local, .matMul, [v], role: "W", original: w)
        }
        let inner = emitShared("\(local)_r", .matMul, [v], role: "W", original: node.weights[low.1] ?? "")
        return emitShared(local, .matMul, [inner], role: "W", original: node.weights[low.0] ?? "")
    }

    mutating func lower() -> Loop {
        switch node.op {
        case .fastGRNN: return fastGRNN()
        case .gru: return gru()
        default: return lstm()
        }
    }

    /// h' = (σ(ζ)(1 − z) + σ(ν)) ⊙ c + z ⊙ h, with g = (σ(ζ) + σ(ν)) − σ(ζ) z.
    private mutating func fastGRNN() -> Loop {
        let h = name("h")
        let hidden = weight("b_z").shape.elementCount
        let wx = product("wx", stepInput, full: "W", low: ("W1", "W2"))
        let uh = product("uh", h, full: "U", low: ("U1", "U2"))
        let pre = emit("pre", .add, [wx, uh])
        let z = emit("z", .sigmoid, [emit("z_pre", .add, [pre], weights: ["B": weight("b_z")])])
        let c = emit("c", .tanh, [emit("c_pre", .add, [pre], weights: ["B": weight("b_h")])])
        let zeta = sigmoid(weight("zeta").values[0])
        let nu = sigmoid(weight("nu").values[0])
        let zs = emit("z_scaled", .scale(-zeta), [z])
        let g = emit("g", .add, [zs], weights: ["B": Tensor(scalar: zeta + nu)])
        let gc = emit("gc", .mul, [g, c])
        let zh = emit("zh", .mul, [z, h])
        let next = emit("h_next", .add, [gc, zh])
        return Loop(stepInput: stepInput, states: [.init(name: h, next: next, shape: Shape([hidden]))],
                    body: body, result: h)
    }

    /// PyTorch's GRU; h' = n + z ⊙ (h − n), which equals (1 − z) ⊙ n + z ⊙ h.
    private mutating func gru() -> Loop {
        let h = name("h")
        let hidden = weight("W_hh").shape.dims[1]
        let (wih, whh, bih, bhh) = (weight("W_ih"), weight("W_hh"), weight("b_ih"), weight("b_hh"))
        func gate(_ k: Int) -> Range<Int> { (k * hidden)..<((k + 1) * hidden) }
        var gates: [String] = []
        for (k, label) in ["r", "z"].enumerated() {
            let x = emit("\(label)_x", .gemm, [stepInput],
                         weights: ["W": wih.rows(gate(k)), "b": bih.slice(gate(k)).adding(bhh.slice(gate(k)))])
            let u = emit("\(label)_h", .matMul, [h], weights: ["W": whh.rows(gate(k))])
            gates.append(emit(label, .sigmoid, [emit("\(label)_pre", .add, [x, u])]))
        }
        let nx = emit("n_x", .gemm, [stepInput], weights: ["W": wih.rows(gate(2)), "b": bih.slice(gate(2))])
        let nh = emit("n_h", .gemm, [h], weights: ["W": whh.rows(gate(2)), "b": bhh.slice(gate(2))])
        let rn = emit("rn", .mul, [gates[0], nh])
        let n = emit("n", .tanh, [emit("n_pre", .add, [nx, rn])])
        let d = emit("d", .sub, [h, n])
        let zd = emit("zd", .mul, [gates[1], d])
        let next = emit("h_next", .add, [n, zd])
        return Loop(stepInput: stepInput, states: [.init(name: h, next: next, shape: Shape([hidden]))],
                    body: body, result: h)
    }

    /// PyTorch's LSTM: gates i, f, g, o; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').
    private mutating func lstm() -> Loop {
        let h = name("h"), c = name("c")
        let hidden = weight("W_hh").shape.dims[1]
        let (wih, whh, bih, bhh) = (weight("W_ih"), weight("W_hh"), weight("b_ih"), weight("b_hh"))
        var gates: [String] = []
        for (k, (label, activation)) in [("i", Op.sigmoid), ("f", .sigmoid), ("g", .tanh), ("o", .sigmoid)].enumerated() {
            let rows = (k * hidden)..<((k + 1) * hidden)
            let x = emit("\(label)_x", .gemm, [stepInput],
                         weights: ["W": wih.rows(rows), "b": bih.slice(rows).adding(bhh.slice(rows))])
            let u = emit("\(label)_h", .matMul, [h], weights: ["W": whh.rows(rows)])
            gates.append(emit(label, activation, [emit("\(label)_pre", .add, [x, u])]))
        }
        let fc = emit("fc", .mul, [gates[1], c])
        let ig = emit("ig", .mul, [gates[0], gates[2]])
        let cNext = emit("c_next", .add, [fc, ig])
        let hNext = emit("h_next", .mul, [gates[3], emit("c_tanh", .tanh, [cNext])])
        let shape = Shape([hidden])
        return Loop(stepInput: stepInput,
                    states: [.init(name: h, next: hNext, shape: shape), .init(name: c, next: cNext, shape: shape)],
                    body: body, result: h)
    }

    private func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
}
