import Testing
import Evaluator
import Hardware
import ModelIR
import ONNXImport
import TestSupport
import Tuner

/// An imported ONNX file against the native model it was exported from.
enum NativeModelComparison {
    /// The same ops in the same order with equal weights; a MatMul by a constant imports as a Gemm
    /// without bias, which the tuner treats as a MatMul. A `Scale` the exporter computed in float32
    /// may differ from the native double by `scaleTolerance`.
    static func expectSameGraph(imported: ImportedONNXModel, native: LoadedModel, scaleTolerance: Double = 0) {
        let ours = imported.graph.nodes, theirs = native.graph.nodes
        let kind = { (op: Op) in op == .matMul ? Op.gemm.name : op.name }
        #expect(ours.map { kind($0.op) } == theirs.map { kind($0.op) })
        for (a, b) in zip(ours, theirs) {
            #expect(a.weights.keys.sorted() == b.weights.keys.sorted(), "\(a.name)")
            for (role, constant) in a.weights {
                #expect(imported.graph.constants[constant] == b.weights[role].flatMap { native.graph.constants[$0] }, "\(a.name).\(role)")
            }
            if case let .scale(x) = a.op, case let .scale(y) = b.op {
                #expect(abs(x - y) <= scaleTolerance, "\(x) against \(y)")
            } else {
                #expect(a.op == b.op || kind(a.op) == kind(b.op), "\(a.name): \(a.op) against \(b.op)")
            }
        }
    }

    /// The same search (seed, strategy, budgets, the Uno) on both must visit the same candidates
    /// with the same figures and pick a program of the same size and accuracy.
    static func expectSameTuning(imported: ImportedONNXModel, native: LoadedModel, seed: UInt64, maxEvaluations: Int) throws {
        let dataset = try Dataset.open(try #require(native.datasetPath))
        try dataset.check(against: imported.graph)
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let settings = TuningJob.Settings(strategy: .genetic, seed: seed, budgets: .init(ramBytes: 2048, flashBytes: 32768, maxLoss: nil),
                                          maxEvaluations: maxEvaluations)
        let importedModel = LoadedModel(graph: imported.graph, file: nil, directory: Repository.path("models/onnx"))
        let ours = try TuningJob(model: importedModel, dataset: dataset, target: target, settings: settings).run()
        let theirs = try TuningJob(model: native, dataset: dataset, target: target, settings: settings).run()

        // A constant the exporter computed in float32 (FastGRNN's sigmoid(zeta), ProtoNN's gamma^2) may move a logit
        // error in its last digits, nothing else.
        let figures = { (o: Evaluation.Objectives?) in o.map { [$0.accuracy, $0.disagreement, $0.cycles, Double($0.ramBytes), Double($0.flashBytes)] } }
        #expect(ours.trials.map { figures($0.evaluation.objectives) } == theirs.trials.map { figures($0.evaluation.objectives) })
        for (a, b) in zip(ours.trials, theirs.trials) {
            #expect(abs((a.evaluation.objectives?.logitError ?? 0) - (b.evaluation.objectives?.logitError ?? 0)) < 1e-6)
        }
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
}
