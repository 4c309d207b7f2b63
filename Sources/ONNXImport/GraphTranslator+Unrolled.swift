import ModelIR

/// A loop over the steps that the exporter unrolled: each step picked from the sequence input by a
/// Gather, the zero initial state, and the fold of the copies into one loop (`UnrolledLoopFolder`).
extension GraphTranslator {
    /// `x[:, t]` (or `x[t]` of `[T, N, F]`) with a constant `t`: step `t` of our sequence, `[F]`.
    mutating func stepSlice(_ node: NodeTranslation, layout: SequenceLayout) throws(ONNXImportError) {
        guard let steps = layout.steps else {
            throw node.unsupported("picks one step of the sequence input, whose number of steps the file leaves dynamic; "
                + "a loop unrolled by the exporter has a fixed number: export without a dynamic steps axis")
        }
        let timeAxis = layout.batchFirst ? 1 : 0
        let axis = try node.attributes.int("axis", default: 0)
        guard axis == timeAxis || axis == timeAxis - 3 else {
            throw node.unsupported("gathers axis \(axis) of the sequence input; supported: its time axis (\(timeAxis)), one step at a time")
        }
        let indices = try requiredConstant(node, 1, role: "indices")
        guard indices.dims.isEmpty, let raw = indices.values.first, raw.isFinite, raw.rounded() == raw, abs(raw) <= Double(steps) else {
            throw node.unsupported("its indices (shape \(indices.dims)) are not one step number; supported: x[:, t] with a constant t")
        }
        let step = Int(raw) < 0 ? Int(raw) + steps : Int(raw)
        guard (0..<steps).contains(step) else { throw node.unsupported("picks step \(Int(raw)) of a sequence of \(steps) steps") }
        let legal = names.claim(node.proto.output[0], fallback: "\(node.name)_step")
        values[node.proto.output[0]] = Value(name: legal, dims: [layout.features], order: nil, producer: nil)
        stepSlices[legal] = (step, node.name)
    }

    /// A zero `[N, H]` sized by the batch, in a model that picks its input's steps one by one: the
    /// initial state of its unrolled loop, read by the first step's nodes as an activation `[H]`.
    mutating func registerInitialState(_ node: NodeTranslation, fill: Double) {
        let shapeInput = node.op == "ConstantOfShape" ? 0 : 1
        guard fill == 0, ["ConstantOfShape", "Expand"].contains(node.op), shapeInput < node.proto.input.count,
              let shape = constants[node.proto.input[shapeInput]], shape.values.count == 2, shape.values[0].isNaN,
              let size = shape.values.last, size >= 1, size <= Double(Shape.maxElements), size.rounded() == size,
              proto.node.contains(where: { $0.opType == "Gather" && $0.input.first == inputName }),
              values[inputName]?.sequence != nil else { return }
        let legal = names.claim(node.proto.output[0], fallback: "\(node.name)_state")
        values[node.proto.output[0]] = Value(name: legal, dims: [Int(size)], order: nil, producer: nil)
        initialStates[legal] = [Int(size)]
    }

    /// Folds the copies of the cell into one loop node; our nodes of the other steps are gone after it.
    mutating func foldUnrolledLoop(input: Graph.Input) throws(ONNXImportError) {
        guard let layout = values[inputName]?.sequence, let steps = layout.steps else { return }
        var dims: [String: [Int]] = [:]
        for value in values.values { dims[value.name] = value.dims }
        let folder = UnrolledLoopFolder(path: path, opset: opset, steps: steps, stepSlices: stepSlices, initialStates: initialStates,
                                        dims: dims, sequenceInput: input.name, output: values[outputName]?.name ?? outputName)
        let folded = try folder.fold(pending, names: &names)
        pending = folded.nodes
        foldedAway = folded.removed
        for index in report.mapped.indices {
            report.mapped[index].result = report.mapped[index].result
                .filter { !folded.removedNodes.contains($0) }.map { folded.changedNodes[$0] ?? $0 }
        }
        report.recurrentCells.append(folded.cell)
        report.folded += folded.composedChains.map { "in loop '\(folded.cell.loop)': \($0)" }
        // Every step repeats its Constant nodes (a `1` for `1 - z`): one line for all of them.
        let constants = report.folded.filter { $0.hasPrefix("Constant '") && $0.hasSuffix("' evaluated at import time") }
        if constants.count > 1 {
            report.folded.removeAll { constants.contains($0) }
            report.folded.insert("\(constants.count) Constant nodes evaluated at import time", at: 0)
        }
        report.notes.append("the file fixes \(steps) steps; loop '\(folded.cell.loop)' runs each sample's own steps, as our "
            + "sequence datasets give them (a shorter sample keeps its state after its last step)")
    }
}
