import Foundation
import ModelIR

/// The graph's input (NCHW becomes channels last) and the final assembly of our graph.
extension GraphTranslator {
    mutating func graphInput(_ info: Onnx_ValueInfoProto) throws(ONNXImportError) -> Graph.Input {
        let name = info.name
        guard case let .tensorType(type)? = info.type.value else {
            throw .unsupportedInput(path: path, input: name, reason: "is not a tensor")
        }
        guard type.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            let found = Onnx_TensorProto.DataType(rawValue: Int(type.elemType)).map { "\($0)" } ?? "\(type.elemType)"
            throw .unsupportedInput(path: path, input: name, reason: "has element type \(found); the input must be float (float32)")
        }
        if type.hasShape, type.shape.dim.count == 3, let batchFirst = sequenceBatchFirst(name) {
            return try sequenceInput(name, type.shape, batchFirst: batchFirst)
        }
        guard type.hasShape, type.shape.dim.count >= 2 else {
            throw .unsupportedInput(path: path, input: name, reason: "has no shape or only a batch dimension; "
                + "export with a fixed sample shape, e.g. [N, features] or [N, C, H, W]")
        }
        var dims: [Int] = []
        for (axis, dim) in type.shape.dim.enumerated().dropFirst() {
            switch dim.value {
            case let .dimValue(v)? where v > 0 && v <= Int64(Shape.maxElements):
                dims.append(Int(v))
            case let .dimParam(symbol)?:
                throw .unsupportedInput(path: path, input: name, reason: "dimension \(axis) is dynamic ('\(symbol)'); only the batch "
                    + "dimension (0) may be; export with a fixed size there")
            default:
                throw .unsupportedInput(path: path, input: name, reason: "dimension \(axis) has no fixed positive size; only the batch "
                    + "dimension (0) may be dynamic")
            }
        }
        guard ConstantValue.product(dims, limit: Shape.maxElements) != nil else {
            throw .unsupportedInput(path: path, input: name, reason: "per-sample shape \(dims) has more than 2^20 elements")
        }
        if case let .dimValue(batch)? = type.shape.dim[0].value, batch > 1 {
            report.notes.append("the file fixes the batch dimension at \(batch); the model is imported per sample")
        }
        let legal = names.claim(name, fallback: "input")
        if dims.count == 3, isTransposedToNCHW(name, dims: dims) {
            // The model takes images as our datasets store them and permutes them itself
            // (`x.permute(0, 3, 1, 2)`): keep the input as it is; that Transpose only relabels it.
            values[name] = Value(name: legal, dims: dims, order: nil, producer: nil, isChannelsLast: true)
            report.notes.append("input '\(name)' is NHWC \(dims) in the file, as our datasets store images, and the model "
                + "turns it into NCHW itself (a Transpose, or a Reshape for one channel); that node is removed")
            return Graph.Input(name: legal, shape: Shape(dims), isSequence: false)
        }
        let order = dims.count == 3 ? ChannelsLast.order(channels: dims[0], height: dims[1], width: dims[2]) : nil
        values[name] = Value(name: legal, dims: dims, order: Self.normalized(order), producer: nil)
        let value = values[name] ?? Value(name: legal, dims: dims, order: nil, producer: nil)
        if dims.count == 3 {
            report.notes.append("input '\(name)' is NCHW \([dims[0], dims[1], dims[2]]) in the file and [H, W, C] "
                + "\(value.shape) here, as our datasets store images; weights were permuted to match")
        }
        return Graph.Input(name: legal, shape: Shape(value.shape), isSequence: false)
    }

    /// `[T, N, F]` or `[N, T, F]` read by GRU/LSTM: our sequence input of steps `[F]`; T may be dynamic.
    private mutating func sequenceInput(_ name: String, _ shape: Onnx_TensorShapeProto, batchFirst: Bool) throws(ONNXImportError) -> Graph.Input {
        func size(_ axis: Int) -> Int? {
            if case let .dimValue(v)? = shape.dim[axis].value, v > 0, v <= Int64(Shape.maxElements) { return Int(v) }
            return nil
        }
        guard let features = size(2) else {
            let found = if case let .dimParam(symbol)? = shape.dim[2].value { "dynamic ('\(symbol)')" } else { "not a fixed positive size" }
            throw .unsupportedInput(path: path, input: name, reason: "is a sequence \(batchFirst ? "[N, T, F]" : "[T, N, F]") whose "
                + "features F (dimension 2) are \(found); export with a fixed number of features")
        }
        let layout = SequenceLayout(batchFirst: batchFirst, steps: size(batchFirst ? 1 : 0), features: features)
        let legal = names.claim(name, fallback: "input")
        values[name] = Value(name: legal, dims: [features], order: nil, producer: nil, sequence: layout)
        let unrolled = proto.node.contains { $0.opType == "Gather" && $0.input.first == name }
        let readers = unrolled ? "one step at a time (a loop unrolled over the steps)" : "by recurrent nodes"
        report.notes.append("input '\(name)' is a sequence \(batchFirst ? "[N, T, F]" : "[T, N, F]") read \(readers): "
            + "here a sequence of steps [\(features)], as our datasets store [N, T, F]")
        return Graph.Input(name: legal, shape: Shape([features]), isSequence: true)
    }

    /// True when every node that reads the graph input `name` (per-sample `dims`) turns NHWC into
    /// NCHW: a Transpose `[0, 3, 1, 2]`, or for one channel a Reshape to `[-1, 1, H, W]` (the same
    /// buffer), which tf2onnx writes for a Keras Conv2D on a one-channel image.
    private func isTransposedToNCHW(_ name: String, dims: [Int]) -> Bool {
        let readers = proto.node.filter { $0.input.contains(name) }
        return !readers.isEmpty && readers.allSatisfy { node in
            guard node.input.first == name else { return false }
            if node.opType == "Transpose" {
                return node.attribute.first { $0.name == "perm" }.map { $0.ints == [0, 3, 1, 2] } == true
            }
            return node.opType == "Reshape" && node.input.count > 1 && isOneChannelToNCHW(constants[node.input[1]]?.values, dims: dims)
        }
    }

    /// True when `shape` reshapes a one-channel `[N, H, W, 1]` to `[N, 1, H, W]`.
    func isOneChannelToNCHW(_ shape: [Double]?, dims: [Int]) -> Bool {
        guard let shape, shape.count == 4, shape[0] == -1 || shape[0] == 0, dims.count == 3, dims[2] == 1 else { return false }
        return Array(shape.dropFirst()) == [1, Double(dims[0]), Double(dims[1])]
    }

    /// Our graph from the pending nodes: unused nodes dropped, weights named after their node.
    mutating func assemble(input: Graph.Input) throws(ONNXImportError) -> Graph {
        if let view = recurrentViews[outputName] {
            throw .unsupportedUse(path: path, node: outputName, op: "output", opset: opset, reason: "the output is the "
                + "\(view.description) output of recurrent node '\(view.node)'; supported: its final state as [N, H] "
                + "(Squeeze/Gather it, or follow it with a Gemm)")
        }
        if let view = distanceViews[outputName] {
            throw .unsupportedUse(path: path, node: outputName, op: "output", opset: opset, reason: "the output is \(view.description); "
                + Self.distancePattern)
        }
        guard let output = values[outputName] else {
            if constants[outputName] != nil {
                throw .outputCount(path: path, found: [outputName + " (a constant: it does not depend on the input)"])
            }
            throw .malformed(path: path, reason: "the graph output '\(outputName)' is not written by any node")
        }
        guard output.order == nil else {
            throw .unsupportedUse(path: path, node: outputName, op: "output", opset: opset, reason: "the output is a channels-first "
                + "tensor of shape \(output.dims), which our channels-last layout would reorder; end the model with a Gemm or pooling to [N, C]")
        }
        // Keep the nodes the output depends on.
        var needed: Set<String> = [output.name]
        var kept: [PendingNode] = []
        for node in pending.reversed() {
            if needed.contains(node.output) {
                kept.append(node)
                needed.formUnion(node.inputs)
            } else {
                report.removed.append("\(node.op.name) '\(node.name)': the output does not depend on it")
            }
        }
        kept.reverse()
        var graphConstants: [String: Tensor] = [:]
        func named(_ node: PendingNode) -> Node {
            var weights: [String: String] = [:]
            for (role, tensor) in node.weights.sorted(by: { $0.key < $1.key }) {
                let constantName = names.claim("\(node.name).\(role)", fallback: "w")
                graphConstants[constantName] = tensor
                weights[role] = constantName
            }
            var op = node.op
            if case var .loop(loop) = op {
                loop.body = node.body.map(named)
                op = .loop(loop)
            }
            return Node(name: node.name, op: op, inputs: node.inputs, output: node.output, weights: weights)
        }
        let nodes = kept.map(named)
        report.renamed = names.renamed.filter { !foldedAway.contains($0.legal) }.map { .init(original: $0.original, legal: $0.legal) }
        do {
            return try Graph.checked(name: Self.modelName(path), input: input, output: output.name,
                                     constants: graphConstants, nodes: nodes)
        } catch {
            throw .rejectedGraph(path: path, error: error)
        }
    }

    /// The file's name without extension, in the characters a model name allows.
    static func modelName(_ path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let cleaned = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" }.prefix(64))
        return cleaned.isEmpty ? "onnx-model" : cleaned
    }
}
