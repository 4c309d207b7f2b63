import Foundation
import Testing
import Evaluator
import Hardware
import ModelIR
@testable import ONNXImport
import TestSupport
import Tuner

/// The bundled FastGRNN models as PyTorch users export them (experiments/onnx/export.py: the
/// trained cell's `step` in a Python loop, which both exporters unroll into one copy per step):
/// imported as one recurrent loop like the native model's, tuned to the same programs, and refused
/// with a clear error when one copy is not like the others.
@Suite struct UnrolledLoopTests {
    struct Export: CustomTestStringConvertible, Sendable {
        var file: String
        var native: String
        var steps: Int
        var testDescription: String { file }
    }

    static let exports = [
        Export(file: "fastgrnn-japanesevowels.onnx", native: "fastgrnn-japanesevowels", steps: 29),
        Export(file: "fastgrnn-japanesevowels-dynamo.onnx", native: "fastgrnn-japanesevowels", steps: 29),
        Export(file: "fastgrnn-basicmotions.onnx", native: "fastgrnn-basicmotions", steps: 100),
        Export(file: "fastgrnn-basicmotions-dynamo.onnx", native: "fastgrnn-basicmotions", steps: 100),
    ]

    static func load(_ export: Export) throws -> (imported: ImportedONNXModel, native: LoadedModel) {
        let imported = try ONNXImporter.importModel(at: Repository.path("models/onnx/\(export.file)"))
        let native = try ModelLoader.load(Repository.path("models/\(export.native)"))
        return (imported, native)
    }

    static func loop(of graph: Graph) -> Loop? {
        graph.nodes.lazy.compactMap { node -> Loop? in
            if case let .loop(loop) = node.op { return loop }
            return nil
        }.first
    }

    /// One loop then the classifier, whose body runs the native cell's ops in the native order
    /// with the same constants, so that the tuner sees the same program.
    @Test(arguments: exports)
    func anUnrolledFastGRNNImportsAsTheNativeLoop(export: Export) throws {
        let (imported, native) = try Self.load(export)
        let graph = imported.graph
        #expect(graph.nodes.map(\.op.name) == ["Loop", "Gemm"], "\(graph.nodes.map(\.name))")
        let cell = try #require(imported.report.recurrentCells.first)
        #expect(imported.report.recurrentCells.count == 1 && cell.steps == export.steps)
        #expect(imported.report.lines.contains { $0.hasPrefix("  recurrent cell: a loop unrolled \(export.steps) times by the exporter; each step's ") })

        let ours = try #require(Self.loop(of: graph))
        let lowered = try Lowering.lower(native.graph)
        let theirs = try #require(Self.loop(of: lowered))
        #expect(ours.body.map(\.op.name) == theirs.body.map(\.op.name))
        for (a, b) in zip(ours.body.map(\.op), theirs.body.map(\.op)) {
            guard case let .scale(x) = a, case let .scale(y) = b else { continue }
            // The dynamo exporter computes sigmoid(zeta) in float32; the TorchScript one leaves it to us (double).
            #expect(export.file.contains("dynamo") ? abs(x - y) < 1e-7 : x == y, "\(x) against \(y)")
        }
        #expect(ours.states.map(\.shape) == theirs.states.map(\.shape))
        let constants = { (g: Graph, l: Loop) in l.body.map { node in node.weights.keys.sorted().map { g.constants[node.weights[$0] ?? ""] } } }
        // The dynamo exporter folds sigmoid(zeta) and sigmoid(nu) in float32: the gate's scale differs in the last bits.
        if !export.file.contains("dynamo") {
            #expect(constants(graph, ours) == constants(lowered, theirs))
        }
        #expect(graph.parameterCount > 0 && graph.allNodes.count == lowered.allNodes.count)
    }

    /// The same search (seed, strategy, budgets, board) on the native model and on its export visits
    /// the same candidates with the same figures, and picks a program of the same size and accuracy.
    @Test(arguments: [exports[0], exports[1], exports[2]])
    func theImportedLoopTunesLikeTheNativeModel(export: Export) throws {
        let (imported, native) = try Self.load(export)
        // The dynamo files' gate scale is sigmoid(zeta) in float32: it may move a logit error in its last digits, nothing else.
        try NativeModelComparison.expectSameTuning(imported: imported, native: native, seed: 3, maxEvaluations: 60)
    }

    // MARK: - A cell of another shape

    /// `h = tanh(x W' + h U' + b)` in a Python loop of 4 steps, as the TorchScript exporter writes it
    /// (the zero state from Shape of the input, `x[:, t]` as a Gather), then a Linear: a cell whose
    /// state is read only through `U h`, which step 0 begins with.
    static func elmanRNN(steps: Int, features: Int, hidden: Int, classes: Int, seed: UInt64) -> (ONNXModelBuilder, [[Double]]) {
        var random = SeededValues(state: seed)
        let (w, u, b, fcW, fcB) = (random.take(hidden * features), random.take(hidden * hidden), random.take(hidden),
                                   random.take(classes * hidden), random.take(classes))
        var builder = ONNXModelBuilder()
        builder.input("x", [steps, features])
        builder.weight("W_t", [features, hidden], (0..<(features * hidden)).map { w[($0 % hidden) * features + $0 / hidden] })
        builder.weight("U_t", [hidden, hidden], (0..<(hidden * hidden)).map { u[($0 % hidden) * hidden + $0 / hidden] })
        builder.weight("b", [hidden], b)
        builder.weight("fc.weight", [classes, hidden], fcW)
        builder.weight("fc.bias", [classes], fcB)
        builder.integers("zero", [0], dims: [])
        builder.integers("axes", [0])
        builder.integers("hidden", [Int64(hidden)])
        builder.node("Shape", ["x"], ["shape"])
        builder.node("Gather", ["shape", "zero"], ["batch"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("Unsqueeze", ["batch", "axes"], ["batch1"])
        builder.node("Concat", ["batch1", "hidden"], ["state_shape"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("ConstantOfShape", ["state_shape"], ["h0"])
        var h = "h0"
        for t in 0..<steps {
            builder.integers("t\(t)", [Int64(t)], dims: [])
            builder.node("Gather", ["x", "t\(t)"], ["x\(t)"], name: "/Gather_\(t)", [ONNXModelBuilder.int("axis", 1)])
            builder.node("MatMul", ["x\(t)", "W_t"], ["wx\(t)"], name: "/MatMul_wx_\(t)")
            builder.node("MatMul", [h, "U_t"], ["uh\(t)"], name: "/MatMul_uh_\(t)")
            builder.node("Add", ["wx\(t)", "uh\(t)"], ["pre\(t)"], name: "/Add_\(t)")
            builder.node("Add", ["pre\(t)", "b"], ["biased\(t)"], name: "/Add_b_\(t)")
            builder.node("Tanh", ["biased\(t)"], ["h\(t + 1)"], name: "/Tanh_\(t)")
            h = "h\(t + 1)"
        }
        builder.node("Gemm", [h, "fc.weight", "fc.bias"], ["logits"], name: "/fc/Gemm", [ONNXModelBuilder.int("transB", 1)])
        builder.output("logits")
        return (builder, [w, u, b, fcW, fcB])
    }

    @Test func anElmanCellWhoseStateIsReadThroughUhFoldsAndComputesTheSame() throws {
        let (steps, features, hidden, classes, samples) = (4, 3, 5, 2, 6)
        let (builder, weights) = Self.elmanRNN(steps: steps, features: features, hidden: hidden, classes: classes, seed: 5)
        let imported = try builder.importModel()
        let loop = try #require(Self.loop(of: imported.graph))
        #expect(loop.body.map(\.op.name) == ["MatMul", "MatMul", "Add", "Add", "Tanh"])
        #expect(loop.states.map(\.shape) == [Shape([hidden])] && imported.report.recurrentCells.first?.steps == steps)

        var random = SeededValues(state: 9)
        let inputs = random.take(samples * steps * features)
        let split = DatasetSplit(name: "random", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([features]), maxSteps: steps)
        let out = try FloatEvaluator(graph: imported.graph).run(split)
        let (w, u, b, fcW, fcB) = (weights[0], weights[1], weights[2], weights[3], weights[4])
        var worst = 0.0
        for s in 0..<samples {
            var h = [Double](repeating: 0, count: hidden)
            for t in 0..<steps {
                let x = Array(inputs[((s * steps + t) * features)..<((s * steps + t + 1) * features)])
                h = (0..<hidden).map { i in
                    Foundation.tanh((0..<features).reduce(b[i]) { $0 + w[i * features + $1] * x[$1] }
                        + (0..<hidden).reduce(0) { $0 + u[i * hidden + $1] * h[$1] })
                }
            }
            for c in 0..<classes {
                let expected = (0..<hidden).reduce(fcB[c]) { $0 + fcW[c * hidden + $1] * h[$1] }
                worst = max(worst, abs(out.values[s * out.columns + c] - expected))
            }
        }
        #expect(worst < 1e-9, "max |logit difference| \(worst)")
    }

    // MARK: - Copies that are not copies

    static func model(_ file: String) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: Repository.path("models/onnx/\(file)"))))
    }

    static func importError(_ model: Onnx_ModelProto) throws -> ONNXImportError? {
        do {
            _ = try ONNXImporter.importModel(try model.serializedBytes(), path: "edited.onnx")
        } catch let error as ONNXImportError {
            return error
        }
        return nil
    }

    static func nodeIndex(_ model: Onnx_ModelProto, _ name: String) throws -> Int {
        try #require(model.graph.node.firstIndex { $0.name == name }, "\(name) is in the file")
    }

    /// Step 5's `1` of `1 - z` made 2: that step computes another cell, which must not be folded.
    @Test func aStepWhoseConstantDiffersIsRefusedNamingIt() throws {
        var model = try Self.model("fastgrnn-japanesevowels.onnx")
        let sub = try Self.nodeIndex(model, "/Sub_5")
        let constant = try #require(model.graph.node.firstIndex { $0.output.first == model.graph.node[sub].input[0] })
        #expect(model.graph.node[constant].opType == "Constant")
        withUnsafeBytes(of: Float(2).bitPattern.littleEndian) { model.graph.node[constant].attribute[0].t.rawData = Data($0) }
        let error = try #require(try Self.importError(model))
        guard case let .inconsistentUnrolledLoop(_, node, op, step, _) = error else { Issue.record("\(error)"); return }
        #expect(node == "/Sub_5" && op == "Sub" && step == 5, "\(error)")
        #expect(error.description == "edited.onnx: node '/Sub_5' (Sub) at step 5 of a loop unrolled over the steps: its constant "
            + "operand (B, [1]) differs from the one of step 1's '/Sub_1'; the steps must be copies of one recurrent cell to be "
            + "folded into one")
    }

    /// Step 7's input product reads a weight matrix of its own, one value apart from the others'.
    @Test func aStepWithItsOwnWeightsIsRefusedNamingIt() throws {
        var model = try Self.model("fastgrnn-japanesevowels-dynamo.onnx")
        let matMul = try Self.nodeIndex(model, "node_matmul_14")
        var weight = try #require(model.graph.initializer.first { $0.name == model.graph.node[matMul].input[1] })
        weight.name = "permute_step7"
        weight.rawData[weight.rawData.startIndex] ^= 1
        model.graph.initializer.append(weight)
        model.graph.node[matMul].input[1] = weight.name
        let error = try #require(try Self.importError(model))
        #expect(error.description.hasPrefix("edited.onnx: node 'node_matmul_14' (MatMul) at step 7 of a loop unrolled over the steps: "
            + "its constant operand (W, [16,12]) differs from the one of step 1's 'node_matmul_2'"), "\(error)")
    }

    /// Step 10's `z * h` reads the state of step 8 (h two steps back), which no loop of ours computes.
    @Test func aStepReadingAnOlderStateIsRefusedNamingIt() throws {
        var model = try Self.model("fastgrnn-japanesevowels.onnx")
        let mul = try Self.nodeIndex(model, "/Mul_32")
        #expect(model.graph.node[mul].input[1] == "/Add_49_output_0")
        model.graph.node[mul].input[1] = "/Add_44_output_0"
        let error = try #require(try Self.importError(model))
        #expect(error.description == "edited.onnx: node '/Mul_32' (Mul) at step 10 of a loop unrolled over the steps: its input 2 is "
            + "not what step 9 computed at '/Add_49', the state step 1 reads; the steps must be copies of one recurrent cell to be "
            + "folded into one")
    }

    /// A step that is missing (the loop skips t = 3) is not a loop over every step.
    @Test func aSkippedStepIsRefused() throws {
        var model = try Self.model("fastgrnn-japanesevowels-dynamo.onnx")
        let gather = try Self.nodeIndex(model, "node_select_3")
        let index = try #require(model.graph.initializer.firstIndex { $0.name == model.graph.node[gather].input[1] })
        var four = model.graph.initializer[index]
        four.name = "step_four"
        withUnsafeBytes(of: Int64(4).littleEndian) { four.rawData = Data($0) }
        model.graph.initializer.append(four)
        model.graph.node[gather].input[1] = "step_four"
        let error = try #require(try Self.importError(model))
        #expect(error.description.contains("never step 3"), "\(error)")
    }
}
