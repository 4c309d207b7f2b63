import ModelIR

/// What PyTorch exports after a GRU or LSTM: Squeeze, Gather, Slice, Transpose, Reshape, Flatten of
/// `Y_h` or `Y`, followed through `RecurrentView` until the tensor is `[N, H]`, our op's final state.
extension GraphTranslator {
    mutating func recurrentOutput(_ node: NodeTranslation) throws(ONNXImportError) {
        guard let source = node.proto.input.first, let view = recurrentViews[source],
              !node.proto.input.dropFirst().contains(where: { recurrentViews[$0] != nil }) else {
            throw node.unsupported("reads a recurrent node's output other than as its first input; supported: Squeeze, Gather, "
                + "Slice, Transpose, Reshape, Flatten of it down to the final state [N, H]")
        }
        let axes: [RecurrentView.Axis]
        switch node.op {
        case "Identity", "Dropout":
            try checkExtraOutputsUnused(node)
            axes = view.axes
        case "Squeeze": axes = try squeezed(node, view)
        case "Unsqueeze": axes = try unsqueezed(node, view)
        case "Gather": axes = try gathered(node, view)
        case "Slice": axes = try sliced(node, view)
        case "Transpose":
            let perm = try node.attributes.ints("perm") ?? Array(view.axes.indices.reversed())
            guard perm.sorted() == Array(view.axes.indices) else {
                throw node.attributes.invalid("perm", "is \(perm); it must permute the \(view.axes.count) axes")
            }
            axes = perm.map { view.axes[$0] }
        case "Reshape", "Flatten": axes = try reshaped(node, view)
        default:
            throw node.unsupported(Self.misuse(view))
        }
        let result = view.with(axes)
        if result.isFinalState {
            values[node.proto.output[0]] = view.state
            report.removed.append("\(node.op) '\(node.name)': it selects the final state of '\(view.node)'")
        } else {
            recurrentViews[node.proto.output[0]] = result
            report.removed.append("\(node.op) '\(node.name)': it relabels the \(view.description) output of '\(view.node)' as \(result.description)")
        }
    }

    /// Why `view` cannot be read as it is.
    static func misuse(_ view: RecurrentView) -> String {
        if view.hasTime {
            return "reads every step's output Y of '\(view.node)' (\(view.description)); supported: its last step "
                + "(out[:, -1, :], Y[-1]) or Y_h, as our recurrent ops return only the final state"
        }
        return "reads the state of '\(view.node)' as \(view.description); supported: the final state as [N, H] "
            + "(h_n[-1], h_n.squeeze(0))"
    }

    /// The `axes` of Squeeze, Unsqueeze or a Reduce op: an input from opset `inputSince` (13 for most,
    /// 18 for the Reduce ops other than ReduceSum), an attribute before; nil when absent.
    func axisList(_ node: NodeTranslation, inputIndex: Int, inputSince: Int = 13) throws(ONNXImportError) -> [Int]? {
        if opset >= inputSince {
            guard let value = try constant(node, inputIndex, role: "axes") else { return nil }
            return try integers(node, value, role: "axes")
        }
        return try node.attributes.ints("axes")
    }

    /// Slice's ends are often INT64_MAX ("to the end"), which a Double does not hold exactly: clamped.
    private func integers(_ node: NodeTranslation, _ value: ConstantValue, role: String) throws(ONNXImportError) -> [Int] {
        try value.values.map { (v: Double) throws(ONNXImportError) -> Int in
            guard v.isFinite, v.rounded() == v else { throw node.unsupported("its \(role) \(value.values) are not known integers") }
            return Int(max(min(v, 1e15), -1e15))
        }
    }

    private func normalizedAxis(_ node: NodeTranslation, _ axis: Int, rank: Int) throws(ONNXImportError) -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(a) else { throw node.unsupported("axis \(axis) is out of range for rank \(rank)") }
        return a
    }

    private func squeezed(_ node: NodeTranslation, _ view: RecurrentView) throws(ONNXImportError) -> [RecurrentView.Axis] {
        guard let list = try axisList(node, inputIndex: 1) else { return view.axes.filter { $0 != .unit } }
        var chosen: Set<Int> = []
        for a in list { chosen.insert(try normalizedAxis(node, a, rank: view.axes.count)) }
        for a in chosen where view.axes[a] != .unit {
            throw node.unsupported(view.axes[a] == .time ? Self.misuse(view)
                : "squeezes axis \(a) (\(view.axes[a].rawValue)) of the \(view.description) output of '\(view.node)', which is not of size 1")
        }
        return view.axes.indices.filter { !chosen.contains($0) }.map { view.axes[$0] }
    }

    private func unsqueezed(_ node: NodeTranslation, _ view: RecurrentView) throws(ONNXImportError) -> [RecurrentView.Axis] {
        guard let list = try axisList(node, inputIndex: 1) else { throw node.unsupported("has no axes") }
        let rank = view.axes.count + list.count
        var chosen: Set<Int> = []
        for a in list { chosen.insert(try normalizedAxis(node, a, rank: rank)) }
        var rest = view.axes.makeIterator()
        return (0..<rank).compactMap { chosen.contains($0) ? .unit : rest.next() }
    }

    private func gathered(_ node: NodeTranslation, _ view: RecurrentView) throws(ONNXImportError) -> [RecurrentView.Axis] {
        let axis = try normalizedAxis(node, try node.attributes.int("axis", default: 0), rank: view.axes.count)
        let indices = try requiredConstant(node, 1, role: "indices")
        let picks = try integers(node, indices, role: "indices")
        guard picks.count == 1, indices.dims.count <= 1, let pick = picks.first else {
            throw node.unsupported("gathers \(picks) from the \(view.description) output of '\(view.node)'; supported: one index")
        }
        var axes = view.axes
        switch axes[axis] {
        case .unit where pick == 0 || pick == -1:
            break
        case .time where view.isLastStep(pick):
            axes[axis] = .unit
        case .time:
            throw node.unsupported(Self.misuse(view) + "; this one gathers step \(pick)")
        default:
            throw node.unsupported("gathers index \(pick) of axis \(axis) (\(axes[axis].rawValue)) of the \(view.description) output "
                + "of '\(view.node)'; supported: the last step, or index 0 of a size-1 axis")
        }
        // A scalar index drops the axis, a one-element list keeps it with size 1.
        if indices.dims.isEmpty { axes.remove(at: axis) }
        return axes
    }

    private func sliced(_ node: NodeTranslation, _ view: RecurrentView) throws(ONNXImportError) -> [RecurrentView.Axis] {
        let rank = view.axes.count
        let starts: [Int], ends: [Int], axesList: [Int], stepsList: [Int]
        if opset >= 10 {
            starts = try integers(node, try requiredConstant(node, 1, role: "starts"), role: "starts")
            ends = try integers(node, try requiredConstant(node, 2, role: "ends"), role: "ends")
            axesList = try constant(node, 3, role: "axes").map { (v: ConstantValue) throws(ONNXImportError) in try integers(node, v, role: "axes") }
                ?? Array(0..<starts.count)
            stepsList = try constant(node, 4, role: "steps").map { (v: ConstantValue) throws(ONNXImportError) in try integers(node, v, role: "steps") }
                ?? Array(repeating: 1, count: starts.count)
        } else {
            starts = try node.attributes.ints("starts") ?? []
            ends = try node.attributes.ints("ends") ?? []
            axesList = try node.attributes.ints("axes") ?? Array(0..<starts.count)
            stepsList = Array(repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axesList.count == starts.count, stepsList.count == starts.count else {
            throw node.unsupported("its starts, ends, axes and steps differ in length")
        }
        var axes = view.axes
        let whole = Int(Int32.max)
        for i in starts.indices {
            let a = try normalizedAxis(node, axesList[i], rank: rank)
            let (start, end, step) = (starts[i], ends[i], stepsList[i])
            switch axes[a] {
            case .time where step == 1 && view.isLastStep(start) && (end >= whole || view.steps.map { end >= $0 } == true):
                axes[a] = .unit
            case .time:
                throw node.unsupported(Self.misuse(view) + "; this one slices steps \(start)..<\(end)")
            case _ where step == 1 && (start == 0 || (axes[a] == .unit && start == -1)) && end >= (axes[a] == .unit ? 1 : whole):
                break
            default:
                throw node.unsupported("slices axis \(a) (\(axes[a].rawValue)) of the \(view.description) output of '\(view.node)'; "
                    + "supported: the last step of the time axis, or the whole of any other axis")
            }
        }
        return axes
    }

    /// Reshape and Flatten of a state whose other axes have size 1, which keeps its memory order.
    private func reshaped(_ node: NodeTranslation, _ view: RecurrentView) throws(ONNXImportError) -> [RecurrentView.Axis] {
        guard !view.hasTime else { throw node.unsupported(Self.misuse(view)) }
        let hidden = view.state.count
        guard let batchAt = view.axes.firstIndex(of: .batch), let hiddenAt = view.axes.firstIndex(of: .hidden), batchAt < hiddenAt else {
            throw node.unsupported(Self.misuse(view))
        }
        if node.op == "Flatten" {
            let axis = try node.attributes.int("axis", default: 1)
            let split = axis < 0 ? axis + view.axes.count : axis
            guard split > batchAt, split <= hiddenAt else {
                throw node.attributes.invalid("axis", "is \(axis); it must keep the batch and the hidden units of \(view.description) apart")
            }
            return [.batch, .hidden]
        }
        let target = try requiredConstant(node, 1, role: "shape").values
        let allowZero = try node.attributes.int("allowzero", default: 0) == 1
        var axes: [RecurrentView.Axis?] = []
        var free: Int?
        for (index, entry) in target.enumerated() {
            if entry.isNaN {
                axes.append(.batch)
            } else if entry == 0, !allowZero, index < view.axes.count {
                axes.append(view.axes[index])
            } else if entry == -1, free == nil {
                free = axes.count
                axes.append(nil)
            } else if entry == 1 {
                axes.append(.unit)
            } else if entry == Double(hidden) {
                axes.append(.hidden)
            } else {
                throw node.unsupported("reshapes the \(view.description) output of '\(view.node)' to \(target); supported: "
                    + "shapes that keep the batch and the \(hidden) hidden units")
            }
        }
        if let free { axes[free] = !axes.contains(.batch) ? .batch : (!axes.contains(.hidden) ? .hidden : .unit) }
        let result = axes.compactMap { $0 }
        guard result.filter({ $0 == .batch }).count == 1, result.filter({ $0 == .hidden }).count == 1,
              let b = result.firstIndex(of: .batch), let h = result.firstIndex(of: .hidden), b < h else {
            throw node.unsupported("reshapes the \(view.description) output of '\(view.node)' to \(target); supported: "
                + "shapes that keep the batch and the \(hidden) hidden units")
        }
        return result
    }
}
