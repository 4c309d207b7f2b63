import Foundation
import Testing
import Evaluator
import ModelIR
@testable import ONNXImport

/// ONNX GRU and LSTM nodes, built as PyTorch exports them, imported into our `.gru` / `.lstm` and
/// run by our float evaluator against the ONNX equations (ONNX gate order) written out here.
@Suite struct RecurrentImportTests {
    static let (samples, steps, features, hidden, classes) = (4, 6, 3, 5, 2)

    /// The weights of one RNN node and the Linear after it, in ONNX layout.
    struct Weights {
        var w: [Double], r: [Double], b: [Double], fcW: [Double], fcB: [Double]
        init(gates: Int, seed: UInt64) {
            var random = SeededValues(state: seed)
            let (f, h, c) = (RecurrentImportTests.features, RecurrentImportTests.hidden, RecurrentImportTests.classes)
            w = random.take(gates * h * f)
            r = random.take(gates * h * h)
            b = random.take(2 * gates * h)
            fcW = random.take(c * h)
            fcB = random.take(c)
        }
    }

    static func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }

    /// Row `g` block of a `[gates*H, K]` matrix times `v`.
    static func gate(_ m: [Double], _ g: Int, _ v: [Double]) -> [Double] {
        (0..<hidden).map { i in (0..<v.count).reduce(0) { $0 + m[(g * hidden + i) * v.count + $1] * v[$1] } }
    }

    /// ONNX GRU (gates z, r, h; linear_before_reset = 1) or LSTM (gates i, o, f, c), then the Linear.
    static func reference(_ weights: Weights, isGRU: Bool, sequence: [[Double]]) -> [Double] {
        let gates = isGRU ? 3 : 4
        func bias(_ g: Int, recurrent: Bool) -> [Double] {
            let start = (recurrent ? gates * hidden : 0) + g * hidden
            return Array(weights.b[start..<(start + hidden)])
        }
        func pre(_ g: Int, _ x: [Double], _ h: [Double]) -> [Double] {
            let (wx, rh) = (gate(weights.w, g, x), gate(weights.r, g, h))
            let (wb, rb) = (bias(g, recurrent: false), bias(g, recurrent: true))
            var sum = [Double](repeating: 0, count: hidden)
            for i in 0..<hidden { sum[i] = wx[i] + wb[i] + rh[i] + rb[i] }
            return sum
        }
        var h = [Double](repeating: 0, count: hidden)
        var c = h
        for x in sequence {
            if isGRU {
                let z = pre(0, x, h).map(sigmoid)
                let r = pre(1, x, h).map(sigmoid)
                let wx = gate(weights.w, 2, x), rh = gate(weights.r, 2, h)
                let (wb, rb) = (bias(2, recurrent: false), bias(2, recurrent: true))
                var next = h
                for i in 0..<hidden {
                    let n: Double = Foundation.tanh(wx[i] + wb[i] + r[i] * (rh[i] + rb[i]))
                    next[i] = (1 - z[i]) * n + z[i] * h[i]
                }
                h = next
            } else {
                let i = pre(0, x, h).map(sigmoid), o = pre(1, x, h).map(sigmoid)
                let f = pre(2, x, h).map(sigmoid), g = pre(3, x, h).map(Foundation.tanh)
                for k in 0..<hidden {
                    c[k] = f[k] * c[k] + i[k] * g[k]
                    h[k] = o[k] * Foundation.tanh(c[k])
                }
            }
        }
        return (0..<classes).map { k in (0..<hidden).reduce(weights.fcB[k]) { $0 + weights.fcW[k * hidden + $1] * h[$1] } }
    }

    /// A node of PyTorch's export: `x [N, T, F]` (dynamic N and T), the zero initial state sized by the
    /// batch, a Transpose to `[T, N, F]` and the RNN, whose outputs are `Y`, `Y_h` (and `Y_c`).
    static func pytorchRNN(_ op: String, _ weights: Weights, attributes: [Onnx_AttributeProto]? = nil,
                           batchFirstInput: Bool = true) -> ONNXModelBuilder {
        var builder = ONNXModelBuilder()
        builder.input("x", batchFirstInput ? [0, features] : [0, features], batch: .dimParam("N"))
        // Dims 0 and 1 are symbolic: N and T (or T and N).
        builder.inputs[0].type.tensorType.shape.dim[1].dimParam = "T"
        let gates = op == "GRU" ? 3 : 4
        builder.weight("onnx::\(op)_105", [1, gates * hidden, features], weights.w)
        builder.weight("onnx::\(op)_106", [1, gates * hidden, hidden], weights.r)
        builder.weight("onnx::\(op)_107", [1, 2 * gates * hidden], weights.b)
        builder.weight("fc.weight", [classes, hidden], weights.fcW)
        builder.weight("fc.bias", [classes], weights.fcB)
        builder.integers("/rnn/Constant_output_0", [0], dims: [])
        builder.integers("/rnn/Constant_1_output_0", [1])
        builder.integers("/rnn/Constant_2_output_0", [Int64(hidden)])
        builder.integers("onnx::Unsqueeze_14", [0])
        builder.node("Shape", ["x"], ["/rnn/Shape_output_0"], name: "/rnn/Shape")
        builder.node("Gather", ["/rnn/Shape_output_0", "/rnn/Constant_output_0"], ["/rnn/Gather_output_0"], name: "/rnn/Gather",
                     [ONNXModelBuilder.int("axis", batchFirstInput ? 0 : 1)])
        builder.node("Unsqueeze", ["/rnn/Gather_output_0", "onnx::Unsqueeze_14"], ["/rnn/Unsqueeze_output_0"], name: "/rnn/Unsqueeze")
        builder.node("Concat", ["/rnn/Constant_1_output_0", "/rnn/Unsqueeze_output_0", "/rnn/Constant_2_output_0"],
                     ["/rnn/Concat_output_0"], name: "/rnn/Concat", [ONNXModelBuilder.int("axis", 0)])
        builder.node("ConstantOfShape", ["/rnn/Concat_output_0"], ["/rnn/ConstantOfShape_output_0"], name: "/rnn/ConstantOfShape")
        var source = "x"
        if batchFirstInput {
            builder.node("Transpose", ["x"], ["/rnn/Transpose_output_0"], name: "/rnn/Transpose", [ONNXModelBuilder.ints("perm", [1, 0, 2])])
            source = "/rnn/Transpose_output_0"
        }
        let zero = "/rnn/ConstantOfShape_output_0"
        let inputs = [source, "onnx::\(op)_105", "onnx::\(op)_106", "onnx::\(op)_107", "", zero] + (op == "LSTM" ? [zero] : [])
        let outputs = ["/rnn/\(op)_output_0", "/rnn/\(op)_output_1"] + (op == "LSTM" ? ["/rnn/\(op)_output_2"] : [])
        let defaults = [ONNXModelBuilder.int("hidden_size", hidden)] + (op == "GRU" ? [ONNXModelBuilder.int("linear_before_reset", 1)] : [])
        builder.node(op, inputs, outputs, name: "/rnn/\(op)", attributes ?? defaults)
        return builder
    }

    /// `fc(h_n[-1])`: Gather index -1 of `Y_h` on axis 0, then the Linear.
    static func lastStateModel(_ op: String, _ weights: Weights, attributes: [Onnx_AttributeProto]? = nil) -> ONNXModelBuilder {
        var builder = pytorchRNN(op, weights, attributes: attributes)
        builder.integers("/Constant_output_0", [-1], dims: [])
        builder.node("Gather", ["/rnn/\(op)_output_1", "/Constant_output_0"], ["/Gather_output_0"], name: "/Gather",
                     [ONNXModelBuilder.int("axis", 0)])
        builder.node("Gemm", ["/Gather_output_0", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", [ONNXModelBuilder.int("transB", 1)])
        builder.output("y")
        return builder
    }

    /// Our evaluator on `samples` random full-length sequences, against the reference.
    static func check(_ graph: Graph, _ weights: Weights, isGRU: Bool, seed: UInt64) throws -> Double {
        var random = SeededValues(state: seed)
        let inputs = random.take(samples * steps * features).map { $0 * 2 }
        let split = DatasetSplit(name: "random", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([features]), maxSteps: steps)
        let out = try FloatEvaluator(graph: graph).run(split)
        let ours = (0..<out.rows).map { Array(out.values[($0 * out.columns)..<(($0 + 1) * out.columns)]) }
        let expected = (0..<samples).map { s in
            reference(weights, isGRU: isGRU, sequence: (0..<steps).map { t in
                Array(inputs[((s * steps + t) * features)..<((s * steps + t + 1) * features)])
            })
        }
        return ImportNumericsTests.maxDifference(ours, expected)
    }

    @Test(arguments: ["GRU", "LSTM"])
    func batchFirstPyTorchExportWithFinalState(op: String) throws {
        let weights = Weights(gates: op == "GRU" ? 3 : 4, seed: 11)
        let imported = try Self.lastStateModel(op, weights).importModel()
        #expect(imported.graph.input.isSequence && imported.graph.input.shape == Shape([Self.features]))
        #expect(imported.graph.nodes.map(\.op.name) == [op, "Gemm"])
        #expect(try Self.check(imported.graph, weights, isGRU: op == "GRU", seed: 3) < ImportNumericsTests.tolerance)
    }

    /// The dynamo exporter's zero state: a scalar 0 expanded to [1, N, H], then sliced.
    @Test func dynamoExpandedZeroState() throws {
        let weights = Weights(gates: 4, seed: 15)
        var builder = Self.lastStateModel("LSTM", weights)
        builder.weight("val_3", [], [0])
        builder.integers("val_11", [0])
        builder.integers("val_5", [1])
        builder.nodes = builder.nodes.flatMap { node -> [Onnx_NodeProto] in
            guard node.opType == "ConstantOfShape" else { return [node] }
            var expand = node
            expand.opType = "Expand"
            expand.name = "node_zeros"
            expand.input = ["val_3", node.input[0]]
            expand.output = ["zeros"]
            var slice = node
            slice.opType = "Slice"
            slice.name = "node_Slice_13"
            slice.input = ["zeros", "val_11", "val_5", "val_11"]
            return [expand, slice]
        }
        let imported = try builder.importModel()
        #expect(imported.report.folded.contains("Expand 'node_zeros': a constant 0.0 sized by the batch (a recurrent node's initial state)"))
        #expect(try Self.check(imported.graph, weights, isGRU: false, seed: 7) < ImportNumericsTests.tolerance)
    }

    /// `fc(out[:, -1, :])` of a batch-first RNN: Squeeze the direction of Y, Transpose to [N, T, H], Gather step -1.
    @Test func lastStepOfEveryStepOutput() throws {
        let weights = Weights(gates: 3, seed: 12)
        var builder = Self.pytorchRNN("GRU", weights)
        builder.integers("/rnn/Constant_3_output_0", [1])
        builder.integers("/Constant_output_0", [-1], dims: [])
        builder.node("Squeeze", ["/rnn/GRU_output_0", "/rnn/Constant_3_output_0"], ["/rnn/Squeeze_output_0"], name: "/rnn/Squeeze")
        builder.node("Transpose", ["/rnn/Squeeze_output_0"], ["/rnn/Transpose_1_output_0"], name: "/rnn/Transpose_1",
                     [ONNXModelBuilder.ints("perm", [1, 0, 2])])
        builder.node("Gather", ["/rnn/Transpose_1_output_0", "/Constant_output_0"], ["/Gather_output_0"], name: "/Gather",
                     [ONNXModelBuilder.int("axis", 1)])
        builder.node("Gemm", ["/Gather_output_0", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", [ONNXModelBuilder.int("transB", 1)])
        builder.output("y")
        let imported = try builder.importModel()
        #expect(imported.graph.nodes.map(\.op.name) == ["GRU", "Gemm"])
        #expect(try Self.check(imported.graph, weights, isGRU: true, seed: 4) < ImportNumericsTests.tolerance)
    }

    /// ONNX's own layout `[T, N, F]`, no initial state, `Y_h.squeeze(0)`, then MatMul + Add.
    @Test func timeMajorInputSqueezedStateAndMatMul() throws {
        let weights = Weights(gates: 4, seed: 13)
        var builder = ONNXModelBuilder()
        builder.input("x", [0, Self.features], batch: .dimParam("T"))
        builder.inputs[0].type.tensorType.shape.dim[1].dimParam = "N"
        builder.weight("W", [1, 4 * Self.hidden, Self.features], weights.w)
        builder.weight("R", [1, 4 * Self.hidden, Self.hidden], weights.r)
        builder.weight("B", [1, 8 * Self.hidden], weights.b)
        var transposed = [Double](repeating: 0, count: Self.hidden * Self.classes)
        for k in 0..<Self.classes { for i in 0..<Self.hidden { transposed[i * Self.classes + k] = weights.fcW[k * Self.hidden + i] } }
        builder.weight("fc.W", [Self.hidden, Self.classes], transposed)
        builder.weight("fc.b", [Self.classes], weights.fcB)
        builder.integers("axes", [0])
        builder.node("LSTM", ["x", "W", "R", "B"], ["", "h"], name: "lstm", [ONNXModelBuilder.int("hidden_size", Self.hidden)])
        builder.node("Squeeze", ["h", "axes"], ["h2"], name: "squeeze")
        builder.node("MatMul", ["h2", "fc.W"], ["m"], name: "matmul")
        builder.node("Add", ["m", "fc.b"], ["y"], name: "add")
        builder.output("y")
        let imported = try builder.importModel()
        #expect(imported.graph.input.isSequence)
        #expect(try Self.check(imported.graph, weights, isGRU: false, seed: 5) < ImportNumericsTests.tolerance)
    }

    /// `layout = 1` (opset 14+): Y is [N, T, 1, H]; its last step sliced, then reshaped to [N, H].
    @Test func batchFirstLayoutSlicedLastStep() throws {
        let weights = Weights(gates: 3, seed: 14)
        var builder = ONNXModelBuilder()
        builder.opset = 18
        builder.input("x", [Self.steps, Self.features])
        builder.weight("W", [1, 3 * Self.hidden, Self.features], weights.w)
        builder.weight("R", [1, 3 * Self.hidden, Self.hidden], weights.r)
        builder.weight("B", [1, 6 * Self.hidden], weights.b)
        builder.weight("fc.weight", [Self.classes, Self.hidden], weights.fcW)
        builder.weight("fc.bias", [Self.classes], weights.fcB)
        builder.integers("starts", [-1])
        builder.integers("ends", [Int64.max])
        builder.integers("axes", [1])
        builder.integers("shape", [-1, Int64(Self.hidden)])
        builder.node("GRU", ["x", "W", "R", "B"], ["y_all"], name: "gru",
                     [ONNXModelBuilder.int("linear_before_reset", 1), ONNXModelBuilder.int("layout", 1)])
        builder.node("Slice", ["y_all", "starts", "ends", "axes"], ["last"], name: "slice")
        builder.node("Reshape", ["last", "shape"], ["flat"], name: "reshape")
        builder.node("Gemm", ["flat", "fc.weight", "fc.bias"], ["y"], name: "fc", [ONNXModelBuilder.int("transB", 1)])
        builder.output("y")
        let imported = try builder.importModel()
        #expect(try Self.check(imported.graph, weights, isGRU: true, seed: 6) < ImportNumericsTests.tolerance)
    }

    // MARK: - What is refused, in one line

    static func gruMessage(_ attributes: [Onnx_AttributeProto]) throws -> String {
        try ImportErrorTests.message(lastStateModel("GRU", Weights(gates: 3, seed: 1), attributes: attributes))
    }

    @Test func linearBeforeResetZeroNamesTheAttribute() throws {
        let expected = "model.onnx: node '/rnn/GRU' (GRU, opset 17): attribute 'linear_before_reset' is 0; supported: 1 (PyTorch's GRU)"
        #expect(try Self.gruMessage([]) == expected)
        #expect(try Self.gruMessage([ONNXModelBuilder.int("linear_before_reset", 0)]) == expected)
    }

    @Test func bidirectionalIsRefused() throws {
        var direction = Onnx_AttributeProto()
        direction.name = "direction"
        direction.type = .string
        direction.s = Data("bidirectional".utf8)
        let message = try Self.gruMessage([ONNXModelBuilder.int("linear_before_reset", 1), direction])
        #expect(message == "model.onnx: node '/rnn/GRU' (GRU, opset 17): attribute 'direction' is 'bidirectional'; supported: forward")
    }

    @Test func clipIsRefused() throws {
        let message = try Self.gruMessage([ONNXModelBuilder.int("linear_before_reset", 1), ONNXModelBuilder.float("clip", 3)])
        #expect(message == "model.onnx: node '/rnn/GRU' (GRU, opset 17): attribute 'clip' is 3.0; supported: absent (no clipping)")
    }

    /// Every step's Y (here flattened into the Linear) needs an output we do not compute.
    @Test func everyStepOutputIsRefused() throws {
        var builder = Self.pytorchRNN("GRU", Weights(gates: 3, seed: 2))
        builder.node("Flatten", ["/rnn/GRU_output_0"], ["flat"], name: "/Flatten")
        builder.output("flat")
        let message = try ImportErrorTests.message(builder)
        #expect(message.hasPrefix("model.onnx: node '/Flatten' (Flatten, opset 17): reads every step's output Y of '/rnn/GRU'"))
        #expect(message.contains("supported: its last step"))
    }

    @Test func earlierStepIsRefused() throws {
        var builder = Self.pytorchRNN("GRU", Weights(gates: 3, seed: 2))
        builder.integers("index", [0], dims: [])
        builder.node("Gather", ["/rnn/GRU_output_0", "index"], ["first"], name: "/Gather", [ONNXModelBuilder.int("axis", 0)])
        builder.output("first")
        #expect(try ImportErrorTests.message(builder).contains("this one gathers step 0"))
    }

    @Test func cellStateOutputIsRefused() throws {
        var builder = Self.lastStateModel("LSTM", Weights(gates: 4, seed: 3))
        builder.node("Identity", ["/rnn/LSTM_output_2"], ["c"], name: "/c")
        let message = try ImportErrorTests.message(builder)
        #expect(message.contains("node '/rnn/LSTM' (LSTM, opset 17): its output 3 ('/rnn/LSTM_output_2', the final cell state Y_c) is read"))
    }

    @Test func nonZeroInitialStateIsRefused() throws {
        var builder = Self.lastStateModel("GRU", Weights(gates: 3, seed: 4))
        builder.weight("h0", [1, 1, Self.hidden], Array(repeating: 0.5, count: Self.hidden))
        builder.nodes = builder.nodes.map { node in
            var node = node
            if node.opType == "GRU" { node.input[5] = "h0" }
            return node
        }
        #expect(try ImportErrorTests.message(builder).contains("its initial_h is not zero; supported: absent or zero"))
    }

    @Test func dynamicFeaturesAreRefused() throws {
        var builder = Self.lastStateModel("GRU", Weights(gates: 3, seed: 5))
        builder.inputs[0].type.tensorType.shape.dim[2].dimParam = "F"
        #expect(try ImportErrorTests.message(builder) == "model.onnx: input 'x': is a sequence [N, T, F] whose features F "
            + "(dimension 2) are dynamic ('F'); export with a fixed number of features")
    }
}
