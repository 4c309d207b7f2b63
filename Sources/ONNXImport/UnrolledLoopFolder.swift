import ModelIR

/// Folds a loop over the steps that an exporter unrolled (`for t in range(T): h = cell(x[:, t], h)`
/// traced by `torch.onnx.export`) back into one `.loop` node, so that its weights and scales are
/// shared by every step and the emitted C runs the cell once per step.
///
/// The translated graph holds T copies of the cell. Each of our nodes belongs to the latest step
/// whose input it depends on (the zero initial state counts as step 0), which splits the nodes
/// into T copies; the last copy is followed by the nodes after the loop (the classifier). What
/// step 0 computes from the zero state alone (`U h0`) begins a step, so its counterparts (`U h`,
/// which that rule places one step early) move to the step they begin. Step 1
/// is the template: each input of its nodes is the step's input, a tensor of the same step, or
/// one computed at step 0, which makes it a state. Every other step must repeat the template node
/// for node: the same ops with the same constants, reading its own step's input, its own tensors,
/// and the previous step's states (step 0: the zero initial state). Anything else (a constant that
/// differs at one step, a tensor read two steps later, an intermediate read after the loop) is an
/// error naming the node: folding it would change what the model computes.
struct UnrolledLoopFolder {
    typealias PendingNode = GraphTranslator.PendingNode

    /// Where an input of a template node comes from.
    enum InputRole: Equatable {
        case stepInput
        /// The output of the template's node at this position.
        case sameStep(Int)
        /// The output of the previous step's node at this position: a state.
        case previousStep(Int)
    }

    struct Folded {
        /// The loop node, then the nodes after the loop.
        var nodes: [PendingNode]
        /// Our names of the nodes and tensors folded away.
        var removed: Set<String>
        /// `"<op> '<name>'"` of every node folded away, as the report's mappings list them.
        var removedNodes: Set<String>
        /// `"<op> '<name>'"` of a template node whose op the fold changed -> what it is in the loop.
        var changedNodes: [String: String]
        var cell: ONNXImportReport.RecurrentCell
        /// Chains of scalar affine ops in the cell composed into one Scale and one Add, in words.
        var composedChains: [String]
    }

    let path: String
    let opset: Int
    /// The file's fixed number of steps.
    let steps: Int
    /// Our tensor name of each step picked from the input -> the step and the ONNX node that picked it.
    let stepSlices: [String: (step: Int, node: String)]
    /// The zero initial states -> per-sample dims.
    let initialStates: [String: [Int]]
    /// The per-sample dims of every tensor our nodes write.
    let dims: [String: [Int]]
    let sequenceInput: String
    /// Our name of the graph's output tensor.
    let output: String

    func fold(_ pending: [PendingNode], names: inout LegalNames) throws(ONNXImportError) -> Folded {
        let copies = try copiesByStep(pending)
        let template = copies[1]
        let roles = try inputRoles(pending, template: template, stepZero: copies[0])
        for step in 0..<steps where step != 1 {
            try check(step, copies: copies, template: template, roles: roles, pending: pending)
        }
        var stateSlots: [Int] = []
        for role in roles.joined() {
            if case let .previousStep(j) = role, !stateSlots.contains(j) { stateSlots.append(j) }
        }
        stateSlots.sort()
        try checkOnlyStatesCrossSteps(pending, copies: copies, stateSlots: stateSlots)
        let tail = Array(copies[steps - 1].dropFirst(template.count))
        let result = try finalState(pending, last: Array(copies[steps - 1].prefix(template.count)), tail: tail, stateSlots: stateSlots)

        let lastState = pending[copies[steps - 1][result]].output
        let (loopNode, composed) = makeLoop(pending, template: template, roles: roles, stateSlots: stateSlots, result: result,
                                            output: lastState, names: &names)

        var removed = Set(stepSlices.keys).union(initialStates.keys)
        var removedNodes = composed.removed
        for (step, copy) in copies.enumerated() where step != 1 {
            for index in copy.prefix(template.count) {
                removed.insert(pending[index].name)
                if pending[index].output != lastState { removed.insert(pending[index].output) }
                removedNodes.insert("\(pending[index].op.name) '\(pending[index].name)'")
            }
        }
        var changedNodes: [String: String] = [:]
        let original = Dictionary(template.map { (pending[$0].name, pending[$0].op) }, uniquingKeysWith: { first, _ in first })
        for node in composed.nodes {
            if let op = original[node.name], op != node.op { changedNodes["\(op.name) '\(node.name)'"] = "\(node.op.name) '\(node.name)'" }
        }
        let perStep = Set(template.map { pending[$0].source }).count + Set(stepSlices.values.filter { $0.step == 1 }.map(\.node)).count
        var states: [String] = []
        if case let .loop(loop) = loopNode.op { states = loop.states.map { "'\($0.name)' \($0.shape)" } }
        let cell = ONNXImportReport.RecurrentCell(steps: steps, onnxNodesPerStep: perStep, loop: loopNode.name,
                                                  bodyNodes: composed.nodes.count, states: states)
        return Folded(nodes: [loopNode] + tail.map { pending[$0] }, removed: removed, removedNodes: removedNodes,
                      changedNodes: changedNodes, cell: cell, composedChains: composed.chains)
    }

    /// The loop node: the template's nodes, reading the loop's step input and states, its scalar
    /// affine chains composed; its output is `output`, the last step's final state.
    private func makeLoop(_ pending: [PendingNode], template: [Int], roles: [[InputRole]], stateSlots: [Int], result: Int,
                          output: String, names: inout LegalNames) -> (PendingNode, ScalarAffineChains.Composed) {
        let loopName = names.claim("cell", fallback: "cell")
        let stepInput = names.claim("\(loopName).x_t", fallback: "x_t")
        var stateNames: [Int: String] = [:]
        for (k, j) in stateSlots.enumerated() {
            stateNames[j] = names.claim(stateSlots.count == 1 ? "\(loopName).h" : "\(loopName).state\(k)", fallback: "state")
        }
        var body: [PendingNode] = []
        for (i, index) in template.enumerated() {
            var node = pending[index]
            for (k, role) in roles[i].enumerated() {
                switch role {
                case .stepInput: node.inputs[k] = stepInput
                case let .previousStep(j): node.inputs[k] = stateNames[j] ?? node.inputs[k]
                case .sameStep: break
                }
            }
            // As our lowering writes a cell's products: a weight product without bias is a MatMul.
            if node.op == .gemm, node.weights["b"] == nil { node.op = .matMul }
            body.append(node)
        }
        let states = stateSlots.map { j in
            let next = pending[template[j]].output
            return Loop.State(name: stateNames[j] ?? next, next: next, shape: Shape(dims[next] ?? []))
        }
        let composed = ScalarAffineChains.compose(body, keeping: Set(states.map(\.next)))
        let loop = Loop(stepInput: stepInput, states: states, body: [], result: stateNames[result] ?? output)
        let node = PendingNode(name: loopName, op: .loop(loop), inputs: [sequenceInput], output: output, weights: [:],
                               source: loopName, sourceOp: "Loop", body: composed.nodes)
        return (node, composed)
    }

    // MARK: - Splitting the nodes into steps

    /// The indices of our nodes, by the latest step they depend on; every step must be read.
    private func copiesByStep(_ pending: [PendingNode]) throws(ONNXImportError) -> [[Int]] {
        let picked = Set(stepSlices.values.map(\.step))
        let firstPick = stepSlices.values.map(\.node).min() ?? "Gather"
        guard steps >= 2 else {
            throw .unsupportedUse(path: path, node: firstPick, op: "Gather", opset: opset, reason: "picks a step of a sequence of "
                + "\(steps) step; a loop unrolled over the steps needs at least 2")
        }
        if let missing = (0..<steps).first(where: { !picked.contains($0) }) {
            throw .unsupportedUse(path: path, node: firstPick, op: "Gather", opset: opset, reason: "the model picks steps of its "
                + "\(steps)-step input one by one but never step \(missing); a loop unrolled over the steps reads every step")
        }
        var step: [String: Int] = initialStates.mapValues { _ in 0 }
        for (name, slice) in stepSlices { step[name] = slice.step }
        // Tensors computed from the initial state alone: how step 0, and so every step, begins.
        var fromInitialState = Set(initialStates.keys)
        var copies = Array(repeating: [Int](), count: steps)
        for (index, node) in pending.enumerated() {
            // Every activation is a step, an initial state or an earlier node's output: each has a step.
            let latest = node.inputs.compactMap { step[$0] }.max() ?? 0
            step[node.output] = latest
            copies[latest].append(index)
            if node.inputs.allSatisfy(fromInitialState.contains) { fromInitialState.insert(node.output) }
        }
        var readers: [String: [Int]] = [:]
        for (index, node) in pending.enumerated() {
            for input in node.inputs { readers[input, default: []].append(index) }
        }
        let opening = copies[0].filter { fromInitialState.contains(pending[$0].output) }
        for t in 0..<(steps - 1) {
            let moving = Set(nextStepOpening(copies[t], opening: opening, readers: readers, pending: pending))
            copies[t].removeAll { moving.contains($0) }
            copies[t + 1] = (copies[t + 1] + moving).sorted()
        }
        return copies
    }

    /// The nodes of `copy` that begin the next step: the counterparts of what step 0 computes from
    /// the initial state alone (`U h0`), computed here from this step's new state (`U h`). Placed by
    /// their latest input they land one step early, and the step would carry `U h` instead of `h`;
    /// where step 0 begins tells where every step begins. Empty when there is no such counterpart.
    private func nextStepOpening(_ copy: [Int], opening: [Int], readers: [String: [Int]], pending: [PendingNode]) -> [Int] {
        let inCopy = Set(copy.map { pending[$0].output })
        var image: [String: String] = [:]
        var matched: [Int] = []
        for first in opening {
            let model = pending[first]
            let found = copy.first { index in
                let node = pending[index]
                guard !matched.contains(index), node.op == model.op, node.weights == model.weights,
                      node.inputs.count == model.inputs.count else { return false }
                return zip(node.inputs, model.inputs).allSatisfy { ours, theirs in
                    if let bound = image[theirs] { return ours == bound }
                    return initialStates[theirs] != nil && inCopy.contains(ours)
                }
            }
            guard let index = found else { return [] }
            for (ours, theirs) in zip(pending[index].inputs, model.inputs) where image[theirs] == nil { image[theirs] = ours }
            image[model.output] = pending[index].output
            matched.append(index)
        }
        // What begins the next step is read by nothing of this one.
        let moving = Set(matched)
        let copyNodes = Set(copy)
        for index in matched {
            for reader in readers[pending[index].output] ?? [] where copyNodes.contains(reader) && !moving.contains(reader) { return [] }
        }
        return matched
    }

    /// What each input of each template node reads.
    private func inputRoles(_ pending: [PendingNode], template: [Int], stepZero: [Int]) throws(ONNXImportError) -> [[InputRole]] {
        var sameStep: [String: Int] = [:]
        var previous: [String: Int] = [:]
        for (j, index) in stepZero.enumerated() { previous[pending[index].output] = j }
        var roles: [[InputRole]] = []
        for (i, index) in template.enumerated() {
            let node = pending[index]
            var nodeRoles: [InputRole] = []
            for input in node.inputs {
                if stepSlices[input]?.step == 1 {
                    nodeRoles.append(.stepInput)
                } else if let j = sameStep[input] {
                    nodeRoles.append(.sameStep(j))
                } else if let j = previous[input], j < template.count {
                    nodeRoles.append(.previousStep(j))
                } else {
                    let what = stepSlices[input].map { "step \($0.step) of the input" } ?? (initialStates[input] != nil ? "the initial state" : "'\(input)'")
                    throw mismatch(node, step: 1, "reads \(what), which is neither this step's input, a tensor of this step, "
                        + "nor a state the step before computed")
                }
            }
            roles.append(nodeRoles)
            sameStep[node.output] = i
        }
        return roles
    }

    // MARK: - The copies against the template

    private func check(_ step: Int, copies: [[Int]], template: [Int], roles: [[InputRole]],
                       pending: [PendingNode]) throws(ONNXImportError) {
        let copy = copies[step]
        for (i, (index, model)) in zip(copy, template).enumerated() {
            let node = pending[index]
            let counterpart = "step 1's '\(pending[model].source)'"
            guard node.op == pending[model].op else {
                throw mismatch(node, step: step, "computes \(Self.describe(node.op)) where \(counterpart) computes \(Self.describe(pending[model].op))")
            }
            guard node.weights.keys.sorted() == pending[model].weights.keys.sorted() else {
                throw mismatch(node, step: step, "has constants \(node.weights.keys.sorted()) where \(counterpart) has \(pending[model].weights.keys.sorted())")
            }
            for (role, tensor) in node.weights.sorted(by: { $0.key < $1.key }) where tensor != pending[model].weights[role] {
                throw mismatch(node, step: step, "its constant operand (\(role), \(tensor.shape)) differs from the one of \(counterpart)")
            }
            guard node.inputs.count == roles[i].count else {
                throw mismatch(node, step: step, "reads \(node.inputs.count) tensors where \(counterpart) reads \(roles[i].count)")
            }
            for (k, (input, role)) in zip(node.inputs, roles[i]).enumerated() {
                if let problem = wiringProblem(input, role: role, step: step, copies: copies, template: template, pending: pending) {
                    throw mismatch(node, step: step, "its input \(k + 1) is \(problem)")
                }
            }
        }
        if copy.count < template.count {
            throw mismatch(pending[template[copy.count]], step: 1, "has no counterpart at step \(step), which computes "
                + "\(copy.count) of our nodes where step 1 computes \(template.count)")
        }
        if step < steps - 1, copy.count > template.count {
            throw mismatch(pending[copy[template.count]], step: step, "has no counterpart at step 1: step \(step) computes "
                + "\(copy.count) of our nodes where step 1 computes \(template.count)")
        }
    }

    /// Why `input` is not what the template's `role` says a node of `step` reads there; nil when it is.
    private func wiringProblem(_ input: String, role: InputRole, step: Int, copies: [[Int]], template: [Int],
                               pending: [PendingNode]) -> String? {
        switch role {
        case .stepInput:
            guard let slice = stepSlices[input], slice.step == step else { return "not step \(step) of the input, as step 1 reads step 1" }
        case let .sameStep(j):
            guard input == pending[copies[step][j]].output else {
                return "not the output of '\(pending[copies[step][j]].source)' of the same step, as at step 1"
            }
        case let .previousStep(j):
            let stateDims = dims[pending[template[j]].output]
            if step == 0 {
                guard let initial = initialStates[input] else { return "not the zero initial state, where step 1 reads a state" }
                guard initial == stateDims else { return "an initial state of shape \(initial), where the state is \(stateDims ?? [])" }
            } else {
                guard input == pending[copies[step - 1][j]].output else {
                    return "not what step \(step - 1) computed at '\(pending[copies[step - 1][j]].source)', the state step 1 reads"
                }
            }
        }
        return nil
    }

    /// A step's tensors are read by the same step, and its states by the next step only (and after
    /// the loop, the last step's): a tensor read anywhere else would need every step's value.
    private func checkOnlyStatesCrossSteps(_ pending: [PendingNode], copies: [[Int]], stateSlots: [Int]) throws(ONNXImportError) {
        var stepOf: [String: (step: Int, slot: Int)] = [:]
        for (step, copy) in copies.enumerated() {
            for (slot, index) in copy.enumerated() { stepOf[pending[index].output] = (step, slot) }
        }
        for (step, copy) in copies.enumerated() {
            for index in copy {
                for input in pending[index].inputs {
                    guard let source = stepOf[input], source.step != step else { continue }
                    guard source.step == step - 1, stateSlots.contains(source.slot) else {
                        throw mismatch(pending[index], step: step, "reads '\(input)' of step \(source.step), which is not a state "
                            + "carried to the next step")
                    }
                }
            }
        }
        if let source = stepOf[output], source.step < steps - 1 {
            throw .unsupportedUse(path: path, node: output, op: "output", opset: opset, reason: "the model's output is a tensor of "
                + "step \(source.step) of a loop unrolled over \(steps) steps; supported: what follows the last step")
        }
    }

    /// The position of the state that the nodes after the loop read (or that is the output).
    private func finalState(_ pending: [PendingNode], last: [Int], tail: [Int], stateSlots: [Int]) throws(ONNXImportError) -> Int {
        var position: [String: Int] = [:]
        for (slot, index) in last.enumerated() { position[pending[index].output] = slot }
        let tailOutputs = Set(tail.map { pending[$0].output })
        var read: [Int] = []
        if let slot = position[output] { read.append(slot) }
        for index in tail {
            for input in pending[index].inputs where !tailOutputs.contains(input) {
                guard let slot = position[input] else {
                    throw mismatch(pending[index], step: steps - 1, "after the loop reads '\(input)', which is not the loop's "
                        + "final state")
                }
                read.append(slot)
            }
        }
        guard let slot = read.first, read.allSatisfy({ $0 == slot }), stateSlots.contains(slot) else {
            let what = read.isEmpty ? "nothing of the last step" : "\(Set(read).count) different tensors of the last step"
            throw .unsupportedUse(path: path, node: output, op: "output", opset: opset, reason: "the model after its loop unrolled over "
                + "\(steps) steps reads \(what); supported: one state, the final one")
        }
        return slot
    }

    private func mismatch(_ node: PendingNode, step: Int, _ reason: String) -> ONNXImportError {
        .inconsistentUnrolledLoop(path: path, node: node.source, op: node.sourceOp, step: step, reason: reason)
    }

    static func describe(_ op: Op) -> String {
        if case let .scale(factor) = op { return "Scale(\(factor))" }
        return op.name
    }
}
