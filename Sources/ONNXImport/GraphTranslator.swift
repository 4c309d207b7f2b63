import ModelIR

/// Walks an ONNX graph's nodes in order and builds our graph: constant subgraphs are evaluated,
/// each remaining node becomes zero, one or two of our nodes, and channels-first tensors become
/// channels last.
///
/// Layout: an ONNX activation `[N, C, H, W]` is our per-sample `[H, W, C]`. Every activation keeps
/// its ONNX per-sample dims and, where our element order differs from ONNX's (a channels-first
/// image, or a flattened one), `order`: our flat index `i` holds ONNX flat index `order[i]`. A
/// constant that meets such a tensor (an Add's operand, the columns of the Gemm after a Flatten) is
/// permuted by `order` once, here, so the graph itself never transposes anything.
struct GraphTranslator {
    /// An activation tensor of the ONNX graph, as our graph holds it.
    struct Value {
        var name: String
        /// ONNX dims without the batch.
        var dims: [Int]
        /// Nil when our element order is ONNX's.
        var order: [Int]?
        /// The pending node that writes it (nil for the graph input).
        var producer: Int?
        /// True for an image whose ONNX dims are `[H, W, C]` (NHWC), which is our layout: an `[N, H, W, C]`
        /// graph input that the model transposes to NCHW itself (`GraphTranslator.graphInput`), or an
        /// NCHW image transposed to NHWC, as tf2onnx writes before a Keras Flatten. Held as it is, our
        /// shape its dims; only `channelsLastReaders` may read it.
        var isChannelsLast = false
        /// Set for the sequence graph input (and its Transposes): only GRU and LSTM read it, one step `[F]` at a time,
        /// or Gathers that pick one step each (a loop the exporter unrolled).
        var sequence: SequenceLayout?

        /// Our per-sample shape: a channels-first `[C, H, W]` is `[H, W, C]`.
        var shape: [Int] { dims.count == 3 && !isChannelsLast ? [dims[1], dims[2], dims[0]] : dims }
        var count: Int { dims.reduce(1, *) }
    }

    /// One of our nodes, its weights still values (named when the graph is assembled).
    struct PendingNode {
        var name: String
        var op: Op
        var inputs: [String]
        var output: String
        var weights: [String: Tensor]
        /// The ONNX node it came from, as the exporter named it, and its op type (for messages).
        var source: String
        var sourceOp: String
        /// For a `.loop`: its body, whose weights are named with the rest at assembly.
        var body: [PendingNode] = []
    }

    let path: String
    let opset: Int
    let proto: Onnx_GraphProto
    var constants: [String: ConstantValue] = [:]
    var values: [String: Value] = [:]
    var pending: [PendingNode] = []
    var names = LegalNames()
    var report: ONNXImportReport
    /// The outputs of GRU and LSTM nodes, and what Squeeze, Gather, ... made of them, until they are our final state.
    var recurrentViews: [String: RecurrentView] = [:]
    /// The steps of squared distances to prototypes (ProtoNN), until their sum is our SquaredDistance.
    var distanceViews: [String: DistanceView] = [:]
    /// ConstantOfShape outputs whose shape holds the batch size (PyTorch's zero initial state): their fill value.
    var batchSizedFills: [String: Double] = [:]
    /// Each step an unrolled loop picked from the sequence input: our tensor name -> step and the ONNX node.
    var stepSlices: [String: (step: Int, node: String)] = [:]
    /// The zero initial states such a loop starts from: our tensor name -> per-sample dims.
    var initialStates: [String: [Int]] = [:]
    /// Our names of the copies an unrolled loop folded away, which the report no longer lists.
    var foldedAway: Set<String> = []
    /// How many nodes read each tensor; the graph output counts as one more reader.
    let uses: [String: Int]
    let outputName: String
    let inputName: String

    init(path: String, opset: Int, graph: Onnx_GraphProto, report: ONNXImportReport) throws(ONNXImportError) {
        self.path = path
        self.opset = opset
        self.proto = graph
        self.report = report
        let reader = TensorReader(path: path)
        var constants: [String: ConstantValue] = [:]
        for (index, initializer) in graph.initializer.enumerated() {
            let name = initializer.name.isEmpty ? "initializer \(index)" : initializer.name
            constants[initializer.name] = try reader.read(initializer, name: name)
        }
        if !graph.sparseInitializer.isEmpty {
            throw .unsupportedTensor(path: path, tensor: graph.sparseInitializer[0].values.name, reason: "is a sparse initializer, which is not supported")
        }
        self.constants = constants
        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1 else { throw .inputCount(path: path, found: inputs.map(\.name)) }
        guard graph.output.count == 1 else { throw .outputCount(path: path, found: graph.output.map(\.name)) }
        inputName = inputs[0].name
        outputName = graph.output[0].name
        var uses: [String: Int] = [outputName: 1]
        for node in graph.node {
            for input in node.input where !input.isEmpty { uses[input, default: 0] += 1 }
        }
        self.uses = uses
    }

    // MARK: - The walk

    mutating func translate() throws(ONNXImportError) -> Graph {
        let input = try graphInput(proto.input.first { $0.name == inputName } ?? Onnx_ValueInfoProto())
        for (index, node) in proto.node.enumerated() {
            let name = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw .unsupportedOp(path: path, node: name, op: "\(node.domain).\(node.opType)", opset: opset, supported: Self.supportedOps)
            }
            // An RNN may leave Y unnamed when only its final state Y_h is read.
            let hasOutput = node.output.first.map { !$0.isEmpty } ?? false
                || (["GRU", "LSTM"].contains(node.opType) && node.output.count > 1 && !node.output[1].isEmpty)
            guard hasOutput else {
                throw .unsupportedUse(path: path, node: name, op: node.opType, opset: opset, reason: "has no output")
            }
            let context = NodeTranslation(node: node, name: name, opset: opset, path: path)
            if let fill = try batchSizedFill(context) {
                batchSizedFills[node.output[0]] = fill
                registerInitialState(context, fill: fill)
                report.folded.append("\(node.opType) '\(name)': a constant \(fill) sized by the batch (a recurrent node's initial state)")
                report.mapped.append(.init(node: name, op: node.opType, result: []))
                continue
            }
            for tensor in node.input where !tensor.isEmpty && constants[tensor] == nil && !isActivation(tensor) {
                guard batchSizedFills[tensor] != nil else {
                    throw .undefinedTensor(path: path, node: name, op: node.opType, tensor: tensor)
                }
                guard ["GRU", "LSTM"].contains(node.opType) else {
                    throw context.unsupported("reads '\(tensor)', a constant whose shape depends on the batch size; "
                        + "only a GRU's or LSTM's initial state may")
                }
            }
            let readsActivation = node.input.contains { !$0.isEmpty && isActivation($0) }
            if node.opType == "Shape" {
                try foldShape(context)
            } else if !readsActivation {
                guard ConstantFolder.ops.contains(node.opType) else {
                    if Self.supportedOps.contains(node.opType) {
                        throw context.unsupported("reads only constants, and \(node.opType) is not evaluated at import time; "
                            + "evaluated: \(ConstantFolder.ops.sorted().joined(separator: ", ")), Shape")
                    }
                    throw .unsupportedOp(path: path, node: name, op: node.opType, opset: opset, supported: Self.supportedOps)
                }
                let inputs = node.input.map { $0.isEmpty ? nil : constants[$0] }
                let folder = ConstantFolder(path: path, opset: opset, node: name, op: node.opType, attributes: context.attributes)
                constants[node.output[0]] = try folder.fold(inputs)
                report.folded.append("\(node.opType) '\(name)' evaluated at import time")
                report.mapped.append(.init(node: name, op: node.opType, result: []))
            } else {
                let before = pending.count
                try translate(context)
                report.mapped.append(.init(node: name, op: node.opType, result: pending[before...].map { "\($0.op.name) '\($0.name)'" }))
            }
        }
        if !stepSlices.isEmpty { try foldUnrolledLoop(input: input) }
        return try assemble(input: input)
    }

    static let supportedOps = [
        "Add", "ArgMax", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "Div", "Dropout", "Exp", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity", "LogSoftmax",
        "MatMul", "MaxPool", "Mul", "Neg", "Pow", "Reciprocal", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Shape",
        "Sigmoid", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze", "GRU", "LSTM", "Slice",
    ].sorted()

    /// The ops that may read an NHWC image (`Value.isChannelsLast`): our ops read images as NCHW.
    static let channelsLastReaders: Set<String> = ["Transpose", "Reshape", "Flatten", "Identity", "Dropout"]

    /// True when `tensor` depends on the model's input: one of our tensors, or a view that becomes one.
    func isActivation(_ tensor: String) -> Bool {
        values[tensor] != nil || recurrentViews[tensor] != nil || distanceViews[tensor] != nil
    }

    private mutating func translate(_ node: NodeTranslation) throws(ONNXImportError) {
        if node.proto.input.contains(where: { recurrentViews[$0] != nil }) {
            try recurrentOutput(node)
            return
        }
        if node.proto.input.contains(where: { distanceViews[$0] != nil }) {
            try distanceStep(node)
            return
        }
        if let first = node.proto.input.first, let layout = values[first]?.sequence, node.op == "Gather" {
            try stepSlice(node, layout: layout)
            return
        }
        if let first = node.proto.input.first, values[first]?.sequence != nil, !["GRU", "LSTM", "Transpose"].contains(node.op) {
            throw node.unsupported("reads the sequence input '\(first)'; only GRU and LSTM (after a Transpose [1, 0, 2]), "
                + "or a Gather of one step (a loop over the steps), may")
        }
        if let image = node.proto.input.first(where: { values[$0]?.isChannelsLast == true }), !Self.channelsLastReaders.contains(node.op) {
            throw node.unsupported("reads '\(image)', an image in NHWC order \(values[image]?.dims ?? []); only "
                + Self.channelsLastReaders.sorted().joined(separator: ", ") + " (to NCHW, or to [N, features]) may read one")
        }
        switch node.op {
        case "GRU", "LSTM": try recurrent(node)
        case "Gemm": try gemm(node)
        case "MatMul": try matMul(node)
        case "Add", "Sub", "Mul", "Div": try arithmetic(node)
        case "Conv": try conv(node)
        case "MaxPool", "AveragePool": try pool(node)
        case "GlobalAveragePool", "GlobalMaxPool": try globalPool(node)
        case "BatchNormalization": try batchNormalization(node)
        case "Relu": try unary(node, .relu)
        case "Sigmoid": try unary(node, .sigmoid)
        case "Tanh": try unary(node, .tanh)
        case "Exp": try unary(node, .exp)
        case "Unsqueeze": try unsqueeze(node)
        case "Clip": try clip(node)
        case "Flatten": try flatten(node)
        case "Reshape": try reshape(node)
        case "Transpose": try transpose(node)
        case "Identity", "Dropout": try passThrough(node)
        case "Softmax", "LogSoftmax": try finalSoftmax(node)
        case "ArgMax": try argMax(node)
        default:
            if Self.supportedOps.contains(node.op) {
                throw node.unsupported("is supported on constants only, and this one reads an activation")
            }
            throw .unsupportedOp(path: path, node: node.name, op: node.op, opset: opset, supported: Self.supportedOps)
        }
    }

    /// `Shape` of an activation is known except for the batch dimension.
    private mutating func foldShape(_ node: NodeTranslation) throws(ONNXImportError) {
        let source = node.proto.input.first ?? ""
        let dims: [Double]
        if let layout = values[source]?.sequence {
            dims = layout.onnxDims
        } else if let value = values[source] {
            dims = [ConstantValue.batch] + value.dims.map(Double.init)
        } else if let constant = constants[source] {
            dims = constant.dims.map(Double.init)
        } else {
            throw node.unsupported("has no input")
        }
        let rank = dims.count
        func clamp(_ a: Int) -> Int { min(max(a < 0 ? a + rank : a, 0), rank) }
        let start = clamp(try node.attributes.int("start", default: 0))
        let end = clamp(try node.attributes.int("end", default: rank))
        let picked = start < end ? Array(dims[start..<end]) : []
        constants[node.proto.output[0]] = ConstantValue(dims: [picked.count], values: picked, type: .integer)
        report.folded.append("Shape '\(node.name)' evaluated at import time (the batch dimension left unknown)")
        report.mapped.append(.init(node: node.name, op: "Shape", result: []))
    }

    // MARK: - Helpers for the op translations

    /// The activation read as input `index`.
    func activation(_ node: NodeTranslation, _ index: Int) throws(ONNXImportError) -> Value {
        guard index < node.proto.input.count, let value = values[node.proto.input[index]] else {
            let what = index < node.proto.input.count && constants[node.proto.input[index]] != nil ? "is a constant" : "is missing"
            throw node.unsupported("input \(index + 1) \(what); an activation is expected there")
        }
        return value
    }

    /// The constant read as input `index` (nil when that optional input is absent).
    func constant(_ node: NodeTranslation, _ index: Int, role: String) throws(ONNXImportError) -> ConstantValue? {
        guard index < node.proto.input.count, !node.proto.input[index].isEmpty else { return nil }
        guard let value = constants[node.proto.input[index]] else {
            throw node.unsupported("its \(role) (input \(index + 1), '\(node.proto.input[index])') is computed from the model's input; "
                + "only a constant \(role) is supported")
        }
        return value
    }

    func requiredConstant(_ node: NodeTranslation, _ index: Int, role: String) throws(ONNXImportError) -> ConstantValue {
        guard let value = try constant(node, index, role: role) else { throw node.unsupported("its \(role) (input \(index + 1)) is missing") }
        return value
    }

    /// A constant that becomes a weight: float32 and finite.
    func weightValues(_ value: ConstantValue, node: NodeTranslation, role: String) throws(ONNXImportError) -> [Double] {
        guard value.type == .float else {
            throw node.unsupported("its \(role) has element type \(value.type); weights must be float (float32)")
        }
        guard value.values.allSatisfy(\.isFinite) else {
            throw node.unsupported("its \(role) holds NaN or infinite values, or depends on the batch size")
        }
        return value.values
    }

    /// Only the first output may be read (Dropout's mask, MaxPool's indices, BatchNormalization's training statistics are not).
    func checkExtraOutputsUnused(_ node: NodeTranslation) throws(ONNXImportError) {
        for extra in node.proto.output.dropFirst() where !extra.isEmpty && (uses[extra] ?? 0) > 0 {
            throw node.unsupported("its output '\(extra)' is read, and only the first output of \(node.op) is supported")
        }
    }

    /// Appends one of our nodes and records its output as the value of `onnxOutput`.
    @discardableResult
    mutating func emit(_ node: NodeTranslation, _ op: Op, inputs: [Value], weights: [String: Tensor] = [:],
                       dims: [Int], order: [Int]?, onnxOutput: String? = nil, suffix: String = "") -> Value {
        let outputName = onnxOutput ?? node.proto.output[0]
        let nodeName = names.claim(node.name + suffix, fallback: node.op)
        let tensorName = names.claim(outputName, fallback: nodeName + "_out")
        pending.append(PendingNode(name: nodeName, op: op, inputs: inputs.map(\.name), output: tensorName, weights: weights,
                                   source: node.name, sourceOp: node.op))
        let value = Value(name: tensorName, dims: dims, order: Self.normalized(order), producer: pending.count - 1)
        values[outputName] = value
        return value
    }

    /// An intermediate of a node that becomes two of ours (named after the node, not an ONNX tensor).
    mutating func emitIntermediate(_ node: NodeTranslation, _ op: Op, input: Value, weights: [String: Tensor] = [:],
                                   suffix: String) -> Value {
        let nodeName = names.claim(node.name + suffix, fallback: node.op)
        let tensorName = names.claim(node.name + suffix + "_out", fallback: nodeName + "_out")
        pending.append(PendingNode(name: nodeName, op: op, inputs: [input.name], output: tensorName, weights: weights,
                                   source: node.name, sourceOp: node.op))
        return Value(name: tensorName, dims: input.dims, order: input.order, producer: pending.count - 1)
    }

    static func normalized(_ order: [Int]?) -> [Int]? {
        guard let order, order != Array(order.indices) else { return nil }
        return order
    }

    /// True when `value`'s producer may be changed in place: only this node reads it and it is not the output.
    func isFoldable(_ node: NodeTranslation, input index: Int) -> Bool {
        let tensor = node.proto.input[index]
        return uses[tensor] == 1 && tensor != outputName && values[tensor]?.producer != nil
    }

    /// True when `tensor` reaches the graph output through nothing but ops that keep the class
    /// (Identity, Dropout, Softmax, LogSoftmax, ArgMax), so that an output Softmax may be dropped.
    func isTerminal(_ tensor: String, visited: Set<String> = []) -> Bool {
        guard !visited.contains(tensor) else { return false }
        let readers = proto.node.filter { $0.input.contains(tensor) }
        if tensor == outputName { return readers.isEmpty }
        let keepers: Set<String> = ["Identity", "Dropout", "Softmax", "LogSoftmax", "ArgMax"]
        return !readers.isEmpty && readers.allSatisfy { reader in
            keepers.contains(reader.opType) && reader.input.first == tensor
                && isTerminal(reader.output.first ?? "", visited: visited.union([tensor]))
        }
    }
}
