import Foundation
import Testing
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
    @Test(arguments: [exports[0], exports[2]])
    func theImportedLoopTunesLikeTheNativeModel(export: Export) throws {
        let (imported, native) = try Self.load(export)
        let dataset = try Dataset.open(try #require(native.datasetPath))
        try dataset.check(against: imported.graph)
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let settings = TuningJob.Settings(strategy: .genetic, seed: 3, budgets: .init(ramBytes: 2048, flashBytes: 32768, maxLoss: nil),
                                          maxEvaluations: 60)
        let importedModel = LoadedModel(graph: imported.graph, file: nil, directory: Repository.path("models/onnx"))
        let ours = try TuningJob(model: importedModel, dataset: dataset, target: target, settings: settings).run()
        let theirs = try TuningJob(model: native, dataset: dataset, target: target, settings: settings).run()

        #expect(ours.trials.map(\.evaluation.objectives) == theirs.trials.map(\.evaluation.objectives))
        let ourPick = try #require(ours.pick.flatMap { ours.trials[$0].evaluation.objectives })
        let theirPick = try #require(theirs.pick.flatMap { theirs.trials[$0].evaluation.objectives })
        #expect(ourPick.flashBytes == theirPick.flashBytes && ourPick.ramBytes == theirPick.ramBytes)
        #expect(ourPick.cycles == theirPick.cycles && ourPick.accuracy == theirPick.accuracy)
        #expect(ours.pickTestAccuracy != nil && ours.pickTestAccuracy == theirs.pickTestAccuracy)
        #expect(ours.floatValAccuracy == theirs.floatValAccuracy && ours.floatTestAccuracy == theirs.floatTestAccuracy)
        let ourProgram = try #require(ours.pickProgram), theirProgram = try #require(theirs.pickProgram)
        #expect(ourProgram.graph.allNodes.count == theirProgram.graph.allNodes.count)
        #expect(ourProgram.allSteps.count == theirProgram.allSteps.count)
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
    /// Then step 9's state is read only by step 10's `U h`, which is therefore computed with step 9:
    /// the first node out of place, named with the counts that differ.
    @Test func aStepReadingAnOlderStateIsRefused() throws {
        var model = try Self.model("fastgrnn-japanesevowels.onnx")
        let mul = try Self.nodeIndex(model, "/Mul_32")
        #expect(model.graph.node[mul].input[1] == "/Add_49_output_0")
        model.graph.node[mul].input[1] = "/Add_44_output_0"
        let error = try #require(try Self.importError(model))
        guard case let .inconsistentUnrolledLoop(_, node, op, step, _) = error else { Issue.record("\(error)"); return }
        #expect(node == "/MatMul_21" && op == "MatMul" && step == 9, "\(error)")
        #expect(error.description.contains("has no counterpart at step 1: step 9 computes 15 of our nodes where step 1 computes 14"),
                "\(error)")
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
