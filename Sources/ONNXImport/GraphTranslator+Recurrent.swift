import ModelIR

/// ONNX GRU and LSTM nodes, and the sequence input they read.
///
/// Supported: one forward layer with the default activations, no clip, a zero (or absent) initial
/// state, no `sequence_lens` (our datasets carry each sample's length), an LSTM without peepholes,
/// and for the GRU `linear_before_reset = 1`, which is what PyTorch exports and what our GRU computes.
/// The gates are reordered once, here, into our PyTorch layout.
extension GraphTranslator {
    /// ONNX gate blocks in our order: GRU z,r,h -> r,z,n; LSTM i,o,f,c -> i,f,g,o.
    static let gruGates = [1, 0, 2]
    static let lstmGates = [0, 2, 3, 1]

    mutating func recurrent(_ node: NodeTranslation) throws(ONNXImportError) {
        let isGRU = node.op == "GRU"
        let gateOrder = isGRU ? Self.gruGates : Self.lstmGates
        let gates = gateOrder.count
        guard let first = node.proto.input.first, let x = values[first], let layout = x.sequence else {
            throw node.unsupported("its input X must be the model's sequence input ([T, N, F] or [N, T, F]), possibly "
                + "transposed; a recurrent node on a computed tensor is not supported")
        }
        try checkRecurrentAttributes(node, isGRU: isGRU, batchFirst: layout.batchFirst)

        let w = try requiredConstant(node, 1, role: "W")
        let r = try requiredConstant(node, 2, role: "R")
        guard w.dims.count == 3, w.dims[0] == 1 else {
            throw node.unsupported("its W has shape \(w.dims); [1, \(gates)*H, F] (one direction) is expected")
        }
        guard w.dims[1] % gates == 0, w.dims[1] > 0, w.dims[2] == layout.features else {
            throw node.unsupported("its W has shape \(w.dims); [1, \(gates)*H, \(layout.features)] is expected for "
                + "\(layout.features) input features")
        }
        let hidden = w.dims[1] / gates
        if let size = try node.attributes.int("hidden_size"), size != hidden {
            throw node.attributes.invalid("hidden_size", "is \(size), but W holds \(hidden) units per gate")
        }
        guard r.dims == [1, gates * hidden, hidden] else {
            throw node.unsupported("its R has shape \(r.dims); [1, \(gates * hidden), \(hidden)] is expected")
        }
        var bias = [Double](repeating: 0, count: 2 * gates * hidden)
        if let b = try constant(node, 3, role: "B") {
            guard b.dims == [1, 2 * gates * hidden] else {
                throw node.unsupported("its B has shape \(b.dims); [1, \(2 * gates * hidden)] is expected")
            }
            bias = try weightValues(b, node: node, role: "B")
        }
        if node.proto.input.count > 4, !node.proto.input[4].isEmpty {
            throw node.unsupported("input 'sequence_lens' is given; supported: absent (our datasets give each sample's length)")
        }
        try checkZeroState(node, 5, role: "initial_h")
        if !isGRU {
            try checkZeroState(node, 6, role: "initial_c")
            try checkZeroState(node, 7, role: "P (peephole weights)")
        }
        for (index, output) in node.proto.output.enumerated().dropFirst(2) where !output.isEmpty && (uses[output] ?? 0) > 0 {
            throw node.unsupported("its output \(index + 1) ('\(output)', the final cell state Y_c) is read; "
                + "supported: Y_h, or the last step of Y")
        }

        let wValues = try weightValues(w, node: node, role: "W")
        let rValues = try weightValues(r, node: node, role: "R")
        let block = { (values: [Double], size: Int) in gateOrder.flatMap { values[($0 * size)..<(($0 + 1) * size)] } }
        let weights = [
            "W_ih": Tensor(shape: Shape([gates * hidden, layout.features]), values: block(wValues, hidden * layout.features)),
            "W_hh": Tensor(shape: Shape([gates * hidden, hidden]), values: block(rValues, hidden * hidden)),
            "b_ih": Tensor(shape: Shape([gates * hidden]), values: block(Array(bias[0..<(gates * hidden)]), hidden)),
            "b_hh": Tensor(shape: Shape([gates * hidden]), values: block(Array(bias[(gates * hidden)...]), hidden)),
        ]
        let outputs = node.proto.output
        let stateName = outputs.count > 1 && !outputs[1].isEmpty ? outputs[1] : outputs[0]
        let state = emit(node, isGRU ? .gru : .lstm, inputs: [x], weights: weights, dims: [hidden], order: nil, onnxOutput: stateName)
        values[stateName] = nil
        // Y is [T, 1, N, H] (layout 0) or [N, T, 1, H]; Y_h is [1, N, H] or [N, 1, H].
        let view = RecurrentView(state: state, axes: [], node: node.name, steps: layout.steps)
        if !outputs[0].isEmpty {
            recurrentViews[outputs[0]] = view.with(layout.batchFirst ? [.batch, .time, .unit, .hidden] : [.time, .unit, .batch, .hidden])
        }
        if outputs.count > 1, !outputs[1].isEmpty {
            recurrentViews[outputs[1]] = view.with(layout.batchFirst ? [.batch, .unit, .hidden] : [.unit, .batch, .hidden])
        }
        report.notes.append("\(node.op) '\(node.name)': gates reordered from ONNX's \(isGRU ? "z, r, h" : "i, o, f, c") to "
            + "\(isGRU ? "r, z, n" : "i, f, g, o"); it returns the state after each sample's last step")
    }

    private func checkRecurrentAttributes(_ node: NodeTranslation, isGRU: Bool, batchFirst: Bool) throws(ONNXImportError) {
        func refuse(_ attribute: String, _ found: String, _ supported: String) -> ONNXImportError {
            node.unsupported("attribute '\(attribute)' is \(found); supported: \(supported)")
        }
        let layout = opsetHasLayout ? try node.attributes.int("layout", default: 0) : 0
        guard layout == 0 || layout == 1 else { throw refuse("layout", "\(layout)", "0 ([T, N, F]), 1 ([N, T, F])") }
        guard (layout == 1) == batchFirst else {
            throw refuse("layout", "\(layout)", "\(batchFirst ? 1 : 0) here: its input X is \(batchFirst ? "[N, T, F]" : "[T, N, F]")")
        }
        let direction = try node.attributes.string("direction") ?? "forward"
        guard direction == "forward" else { throw refuse("direction", "'\(direction)'", "forward") }
        if isGRU {
            // ONNX's default is 0; our GRU (PyTorch's) applies r after the recurrent product.
            let linear = try node.attributes.int("linear_before_reset", default: 0)
            guard linear == 1 else { throw refuse("linear_before_reset", "\(linear)", "1 (PyTorch's GRU)") }
        } else {
            let forget = try node.attributes.int("input_forget", default: 0)
            guard forget == 0 else { throw refuse("input_forget", "\(forget)", "0") }
        }
        if let clip = try node.attributes.float("clip") { throw refuse("clip", "\(clip)", "absent (no clipping)") }
        let defaults = isGRU ? ["Sigmoid", "Tanh"] : ["Sigmoid", "Tanh", "Tanh"]
        if let activations = try node.attributes.strings("activations"), activations.map({ $0.lowercased() }) != defaults.map({ $0.lowercased() }) {
            throw refuse("activations", "\(activations)", defaults.joined(separator: ", "))
        }
    }

    /// `layout` exists from opset 14.
    private var opsetHasLayout: Bool { opset >= 14 }

    /// An initial state (or peepholes) must be absent or zero: our recurrent ops start from zero.
    private func checkZeroState(_ node: NodeTranslation, _ index: Int, role: String) throws(ONNXImportError) {
        guard index < node.proto.input.count, !node.proto.input[index].isEmpty else { return }
        let tensor = node.proto.input[index]
        if let fill = batchSizedFills[tensor] {
            guard fill == 0 else { throw node.unsupported("its \(role) is filled with \(fill); supported: absent or zero") }
            return
        }
        guard let value = constants[tensor] else {
            throw node.unsupported("its \(role) ('\(tensor)') is computed from the model's input; supported: absent or a zero constant")
        }
        guard value.values.allSatisfy({ $0 == 0 }) else { throw node.unsupported("its \(role) is not zero; supported: absent or zero") }
    }

    /// A tensor of one repeated value whose shape holds the batch size, as exporters build an RNN's
    /// zero initial state: `ConstantOfShape` or `Expand` of a scalar to a shape holding the batch,
    /// and Slice, Squeeze, Unsqueeze, Reshape, Identity of such a tensor. Its value, or nil for any other node.
    func batchSizedFill(_ node: NodeTranslation) throws(ONNXImportError) -> Double? {
        let inputs = node.proto.input
        let sizedByBatch = { (index: Int) -> Bool in
            index < inputs.count && self.constants[inputs[index]]?.values.contains(where: \.isNaN) == true
        }
        switch node.op {
        case "ConstantOfShape" where sizedByBatch(0):
            guard let tensor = try node.attributes.tensor("value") else { return 0 }
            let fill = try TensorReader(path: path).read(tensor, name: "\(node.name).value")
            guard fill.count == 1, let value = fill.values.first else { throw node.attributes.invalid("value", "must hold one value") }
            return value
        case "Expand" where sizedByBatch(1):
            guard let source = inputs.first.flatMap({ constants[$0] }), let value = source.values.first,
                  source.values.allSatisfy({ $0 == value }) else { return nil }
            return value
        case "Slice", "Squeeze", "Unsqueeze", "Reshape", "Identity":
            guard let first = inputs.first, let value = batchSizedFills[first],
                  inputs.dropFirst().allSatisfy({ $0.isEmpty || constants[$0] != nil }) else { return nil }
            return value
        default:
            return nil
        }
    }

    /// The layout of a rank-3 graph input that only GRU or LSTM nodes read, directly (their `layout`)
    /// or through a Transpose [1, 0, 2] (a batch-first PyTorch RNN), or Gathers on its time axis (a
    /// loop over the steps that the exporter unrolled); nil for any other input.
    /// Shape nodes may read it too: PyTorch sizes the zero initial state by the batch.
    func sequenceBatchFirst(_ name: String) -> Bool? {
        func readers(_ tensor: String) -> [Onnx_NodeProto] {
            proto.node.filter { $0.input.contains(tensor) && $0.opType != "Shape" }
        }
        func rnnLayout(_ node: Onnx_NodeProto) -> Int? {
            guard ["GRU", "LSTM"].contains(node.opType), node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
            guard opsetHasLayout else { return 0 }
            return node.attribute.first { $0.name == "layout" }.map { Int(clamping: $0.i) } ?? 0
        }
        var layouts: [Bool] = []
        for node in readers(name) {
            if node.opType == "Gather", node.input.first == name, node.domain.isEmpty || node.domain == "ai.onnx" {
                // One step of a loop the exporter unrolled: axis 1 of [N, T, F], or axis 0 of [T, N, F].
                let axis = node.attribute.first { $0.name == "axis" }.map { Int(clamping: $0.i) } ?? 0
                switch axis {
                case 1, -2: layouts.append(true)
                case 0, -3: layouts.append(false)
                default: return nil
                }
            } else if let layout = rnnLayout(node), node.input.first == name {
                layouts.append(layout == 1)
            } else if node.opType == "Transpose", node.input.first == name,
                      node.attribute.first(where: { $0.name == "perm" })?.ints == [1, 0, 2], let output = node.output.first {
                let next = readers(output)
                guard !next.isEmpty, next.allSatisfy({ rnnLayout($0) != nil && $0.input.first == output }) else { return nil }
                layouts.append(contentsOf: next.compactMap(rnnLayout).map { $0 != 1 })
            } else {
                return nil
            }
        }
        guard let first = layouts.first, layouts.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}
