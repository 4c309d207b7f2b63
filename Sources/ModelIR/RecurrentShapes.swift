/// Weight roles and shapes of the recurrent cells, as written in model files (docs/model-format.md).
struct RecurrentShapes {
    let context: NodeContext
    let graph: Graph

    private var node: Node { context.node }

    func check(_ inputs: [Shape]) throws(ModelError) -> Shape {
        guard node.inputs == [graph.input.name], graph.input.isSequence else {
            throw .sequenceMisuse(node: node.name, reason:
                "\(node.op.name) must read the sequence input (a model input with \"sequence\": true)")
        }
        let features = try context.single(inputs, rank: 1).dims[0]
        switch node.op {
        case .fastGRNN: return try fastGRNN(features: features)
        case .gru: return try gated(features: features, gates: 3)
        default: return try gated(features: features, gates: 4)
        }
    }

    /// FastGRNN: W or W1 W2, U or U1 U2, b_z, b_h, zeta, nu.
    private func fastGRNN(features: Int) throws(ModelError) -> Shape {
        let wRoles = node.weights["W"] != nil ? ["W"] : ["W1", "W2"]
        let uRoles = node.weights["U"] != nil ? ["U"] : ["U1", "U2"]
        try context.roles(required: wRoles + uRoles + ["b_z", "b_h", "zeta", "nu"])
        let hidden = try factored(wRoles, columns: features)
        guard try factored(uRoles, columns: hidden) == hidden else {
            throw .wrongShape(tensor: node.weights[uRoles[0]] ?? "U", node: node.name,
                              found: try context.weight(uRoles[0]), expected: "\(hidden) rows, the hidden size set by W")
        }
        try context.expect("b_z", Shape([hidden]))
        try context.expect("b_h", Shape([hidden]))
        try context.expect("zeta", Shape([1]))
        try context.expect("nu", Shape([1]))
        return Shape([hidden])
    }

    /// Rows of `M` (one role) or of `M1 · M2` (two roles), checking that it has `columns` columns.
    private func factored(_ roles: [String], columns: Int) throws(ModelError) -> Int {
        if roles.count == 1 {
            let m = try context.weight(roles[0], rank: 2)
            guard m.dims[1] == columns else {
                throw .wrongShape(tensor: node.weights[roles[0]] ?? roles[0], node: node.name, found: m,
                                  expected: "[H,\(columns)]")
            }
            return m.dims[0]
        }
        let left = try context.weight(roles[0], rank: 2)
        let right = try context.weight(roles[1], rank: 2)
        guard right.dims[1] == columns, left.dims[1] == right.dims[0] else {
            throw .wrongShape(tensor: node.weights[roles[1]] ?? roles[1], node: node.name, found: right,
                              expected: "[\(left.dims[1]),\(columns)] to follow \(roles[0]) \(left)")
        }
        return left.dims[0]
    }

    /// GRU (3 gates) and LSTM (4 gates) in PyTorch's layout.
    private func gated(features: Int, gates: Int) throws(ModelError) -> Shape {
        try context.roles(required: ["W_ih", "W_hh", "b_ih", "b_hh"])
        let wih = try context.weight("W_ih", rank: 2)
        guard wih.dims[0] % gates == 0, wih.dims[0] > 0, wih.dims[1] == features else {
            throw .wrongShape(tensor: node.weights["W_ih"] ?? "W_ih", node: node.name, found: wih,
                              expected: "[\(gates)H,\(features)]")
        }
        let hidden = wih.dims[0] / gates
        try context.expect("W_hh", Shape([gates * hidden, hidden]))
        try context.expect("b_ih", Shape([gates * hidden]))
        try context.expect("b_hh", Shape([gates * hidden]))
        return Shape([hidden])
    }
}
