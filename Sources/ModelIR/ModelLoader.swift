import Foundation

/// A checked graph and its provenance: a model directory (or its `model.json`), or a model
/// imported from another format, which has no `model.json` and so names no dataset.
public struct LoadedModel: Sendable {
    public var graph: Graph
    /// The `model.json` the graph was read from (nil for an imported model).
    public var file: ModelFile?
    /// The model directory (for an imported model, the directory of its file).
    public var directory: String
    /// The dataset directory named by the model, resolved against the model directory.
    public var datasetPath: String? {
        file?.dataset.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path }
    }

    public init(graph: Graph, file: ModelFile?, directory: String) {
        self.graph = graph
        self.file = file
        self.directory = directory
    }

    public func referenceLogitsPath(split: String) -> String? {
        file?.training?.reference_logits?[split].map { (directory as NSString).appendingPathComponent($0) }
    }
}

/// Reads a model directory: parses `model.json`, reads every constant's `.npy`, converts nodes to
/// typed ops, and checks all shapes. Every problem is a `ModelError` naming the file and node.
public enum ModelLoader {
    public static func load(_ path: String) throws(ModelError) -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path, what: "model")
        }
        let jsonPath = isDirectory.boolValue ? (path as NSString).appendingPathComponent("model.json") : path
        let directory = (jsonPath as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: jsonPath) else {
            throw .fileNotFound(path: jsonPath, what: "model.json")
        }
        guard let data = FileManager.default.contents(atPath: jsonPath) else {
            throw .unreadable(path: jsonPath, reason: "permission denied or not a file")
        }
        let file = try ModelFile.decode(data, path: jsonPath)
        guard file.format == "mcutune-model" else {
            throw .unsupportedFormat(path: jsonPath, found: "format '\(file.format)'", expected: "\"mcutune-model\"")
        }
        guard file.version == 1 else {
            throw .unsupportedFormat(path: jsonPath, found: "version \(file.version)", expected: "1")
        }
        let graph = try GraphBuilder(file: file, directory: directory, jsonPath: jsonPath).build()
        // Lowering checks that the names recurrent cells give their intermediates are free.
        _ = try Lowering.lower(graph)
        return LoadedModel(graph: graph, file: file, directory: directory)
    }
}

/// Turns a decoded `ModelFile` into a checked `Graph`.
struct GraphBuilder {
    let file: ModelFile
    let directory: String
    let jsonPath: String

    func build() throws(ModelError) -> Graph {
        // The name goes into C comments and file names: plain characters only.
        let nameCharacters = file.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_. ".contains($0)) }
        guard !file.name.isEmpty, file.name.count <= 64, nameCharacters else {
            throw .malformedJSON(path: jsonPath, reason: "name '\(file.name)' is not a model name (allowed: 1 to 64 of A-Z a-z 0-9 - _ . and space)")
        }
        for (key, value) in [("float_val_accuracy", file.training?.float_val_accuracy), ("float_test_accuracy", file.training?.float_test_accuracy)] {
            if let value, !(0...1).contains(value) {
                throw .malformedJSON(path: jsonPath, reason: "training.\(key) is \(value); accuracies are fractions in 0...1 (e.g. 0.975 for 97.5%)")
            }
        }
        var seen: Set<String> = []
        for spec in file.nodes where !seen.insert(spec.name).inserted { throw .duplicateNode(name: spec.name, path: jsonPath) }
        try checkName(file.input.name, context: "\(jsonPath): input")
        guard file.input.shape.allSatisfy({ $0 > 0 }) else {
            throw .malformedJSON(path: jsonPath, reason: "input.shape \(file.input.shape) must have positive dimensions")
        }
        var constants: [String: Tensor] = [:]
        for (name, relative) in file.constants.sorted(by: { $0.key < $1.key }) {
            try checkName(name, context: "\(jsonPath): constants")
            let path = (directory as NSString).appendingPathComponent(relative)
            let array = try NumpyArray.read(contentsOf: path)
            guard array.dtype.isFloat else {
                throw .unsupportedFormat(path: path, found: "dtype \(array.dtype.rawValue) for a weight", expected: "<f4 or <f8")
            }
            if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
                throw .malformedNumpy(path: path, reason: "weight '\(name)' holds \(array.values[bad]) at flat index \(bad); weights must be finite numbers")
            }
            constants[name] = Tensor(shape: Shape(array.shape), values: array.values)
        }
        let nodes = try file.nodes.map(node(from:))
        do {
            return try Graph.checked(
                name: file.name,
                input: .init(name: file.input.name, shape: Shape(file.input.shape), isSequence: file.input.sequence ?? false),
                output: file.output, constants: constants, nodes: nodes)
        } catch {
            // The checker knows nodes, not files: a tensor too large is the file's doing.
            if case let .tooLarge(tensor, node, shape, nil) = error { throw .tooLarge(tensor: tensor, node: node, shape: shape, path: jsonPath) }
            throw error
        }
    }

    private func checkName(_ name: String, context: String) throws(ModelError) {
        let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || $0 == "." || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else { throw .invalidName(name, context: context) }
    }

    private func node(from spec: ModelFile.NodeSpec) throws(ModelError) -> Node {
        try checkName(spec.name, context: "\(jsonPath): node")
        for tensor in spec.inputs + spec.outputs { try checkName(tensor, context: "node '\(spec.name)'") }
        guard spec.outputs.count == 1 else { throw .wrongOutputCount(node: spec.name, op: spec.op, outputs: spec.outputs) }
        let attributes = Attributes(node: spec.name, values: spec.attributes ?? [:])
        let weights = spec.weights ?? [:]
        let op: Op
        switch spec.op {
        case "Gemm": op = .gemm
        case "MatMul": op = .matMul
        case "Add": op = .add
        case "Sub": op = .sub
        case "Mul": op = .mul
        case "Scale": op = .scale(try attributes.number("scale"))
        case "Conv2D", "DepthwiseConv2D":
            let kernel = try kernelOf(spec, weights: weights, depthwise: spec.op == "DepthwiseConv2D")
            let window = try attributes.window(kernel: kernel, defaultStrides: [1, 1], allowPads: true)
            op = spec.op == "Conv2D" ? .conv2D(window) : .depthwiseConv2D(window)
        case "MaxPool", "AvgPool":
            let kernel = try attributes.integers("kernel", count: 2)
            let window = try attributes.window(kernel: kernel, defaultStrides: kernel, allowPads: false)
            op = spec.op == "MaxPool" ? .maxPool(window) : .avgPool(window)
        case "Relu": op = .relu
        case "Relu6": op = .relu6
        case "Sigmoid": op = .sigmoid
        case "Tanh": op = .tanh
        case "Exp": op = .exp
        case "Flatten": op = .flatten
        case "Reshape": op = .reshape(Shape(try attributes.integers("shape", count: nil)))
        case "ArgMax": op = .argMax
        case "SquaredDistance": op = .squaredDistance
        case "FastGRNN": op = .fastGRNN
        case "GRU": op = .gru
        case "LSTM": op = .lstm
        default: throw .unknownOp(node: spec.name, op: spec.op, allowed: Op.fileOpNames)
        }
        return Node(name: spec.name, op: op, inputs: spec.inputs, output: spec.outputs[0], weights: weights)
    }

    /// A convolution's kernel size comes from its weight: `[O,kh,kw,C]` or depthwise `[kh,kw,C]`.
    private func kernelOf(_ spec: ModelFile.NodeSpec, weights: [String: String], depthwise: Bool) throws(ModelError) -> [Int] {
        guard let name = weights["W"] else { throw .missingWeight(node: spec.name, op: spec.op, role: "W") }
        guard let relative = file.constants[name] else { throw .undefinedConstant(name: name, node: spec.name, role: "W") }
        let path = (directory as NSString).appendingPathComponent(relative)
        let shape = try NumpyArray.read(contentsOf: path).shape
        guard shape.count == (depthwise ? 3 : 4) else {
            throw .wrongShape(tensor: name, node: spec.name, found: Shape(shape), expected: depthwise ? "[kh,kw,C]" : "[O,kh,kw,C]")
        }
        return depthwise ? [shape[0], shape[1]] : [shape[1], shape[2]]
    }
}
