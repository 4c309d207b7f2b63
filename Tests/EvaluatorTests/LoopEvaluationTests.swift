import Foundation
import Testing
@testable import Evaluator
import ModelIR

/// Recurrent cells: batching sequences of different lengths changes nothing, and the lowered
/// FastGRNN computes the paper's equations.
@Suite struct LoopEvaluationTests {
    func fastGRNN(features: Int, hidden: Int, rank: Int?) throws -> Graph {
        var random = FloatKernelTests.Values(state: 42)
        func t(_ dims: Int...) -> Tensor { Tensor(shape: Shape(dims), values: random.take(dims.reduce(1, *)).map { $0 * 0.8 }) }
        var constants = ["b_z": t(hidden), "b_h": t(hidden), "zeta": t(1), "nu": t(1), "V": t(3, hidden), "c": t(3)]
        var roles = ["b_z": "b_z", "b_h": "b_h", "zeta": "zeta", "nu": "nu"]
        if let rank {
            constants.merge(["W1": t(hidden, rank), "W2": t(rank, features), "U1": t(hidden, rank), "U2": t(rank, hidden)]) { a, _ in a }
            for r in ["W1", "W2", "U1", "U2"] { roles[r] = r }
        } else {
            constants.merge(["W": t(hidden, features), "U": t(hidden, hidden)]) { a, _ in a }
            roles["W"] = "W"
            roles["U"] = "U"
        }
        return try Graph.checked(name: "f", input: .init(name: "x", shape: Shape([features]), isSequence: true), output: "y",
                                 constants: constants, nodes: [
                                    Node(name: "rnn", op: .fastGRNN, inputs: ["x"], output: "h", weights: roles),
                                    Node(name: "fc", op: .gemm, inputs: ["h"], output: "y", weights: ["W": "V", "b": "c"]),
                                 ])
    }

    func sequences(count: Int, steps: Int, features: Int, lengths: [Int]) -> DatasetSplit {
        var random = FloatKernelTests.Values(state: 7)
        return DatasetSplit(name: "t", inputs: random.take(count * steps * features), labels: Array(repeating: 0, count: count),
                            lengths: lengths, sampleShape: Shape([features]), maxSteps: steps)
    }

    /// The paper's equations, one sample at a time, written independently of the lowering.
    func directFastGRNN(_ g: Graph, _ data: DatasetSplit, sample: Int) -> [Double] {
        func m(_ name: String) -> Tensor { g.constants[name]! }
        func matvec(_ w: Tensor, _ v: [Double]) -> [Double] {
            (0..<w.shape.dims[0]).map { r in (0..<v.count).reduce(0) { $0 + w.values[r * v.count + $1] * v[$1] } }
        }
        func product(_ full: String, _ a: String, _ b: String, _ v: [Double]) -> [Double] {
            g.constants[full] != nil ? matvec(m(full), v) : matvec(m(a), matvec(m(b), v))
        }
        let sig = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        let features = data.sampleShape.elementCount
        var h = [Double](repeating: 0, count: m("b_z").values.count)
        for t in 0..<(data.lengths?[sample] ?? data.maxSteps) {
            let start = (sample * data.maxSteps + t) * features
            let x = Array(data.inputs[start..<(start + features)])
            let pre = zip(product("W", "W1", "W2", x), product("U", "U1", "U2", h)).map(+)
            let z = zip(pre, m("b_z").values).map { sig($0 + $1) }
            let c = zip(pre, m("b_h").values).map { Foundation.tanh($0 + $1) }
            let (zeta, nu) = (sig(m("zeta").values[0]), sig(m("nu").values[0]))
            h = (0..<h.count).map { i in (zeta * (1 - z[i]) + nu) * c[i] + z[i] * h[i] }
        }
        return zip(matvec(m("V"), h), m("c").values).map(+)
    }

    @Test(arguments: [nil, 2] as [Int?])
    func loweredFastGRNNMatchesTheEquations(rank: Int?) throws {
        let graph = try fastGRNN(features: 3, hidden: 5, rank: rank)
        let data = sequences(count: 4, steps: 6, features: 3, lengths: [6, 1, 3, 5])
        let outputs = try FloatEvaluator(graph: graph).run(data)
        for s in 0..<4 {
            let expected = directFastGRNN(graph, data, sample: s)
            #expect(zip(outputs.row(s), expected).allSatisfy { abs($0 - $1) < 1e-12 }, "sample \(s)")
        }
    }

    @Test func batchingDoesNotChangeAnySample() throws {
        let graph = try fastGRNN(features: 3, hidden: 4, rank: nil)
        let lengths = [5, 2, 7, 1, 7, 3]
        let data = sequences(count: 6, steps: 7, features: 3, lengths: lengths)
        let evaluator = try FloatEvaluator(graph: graph)
        let batch = evaluator.run(data)
        for s in 0..<6 {
            var single = data
            single.inputs = Array(data.inputs[(s * 21)..<((s + 1) * 21)])
            single.labels = [0]
            single.lengths = [lengths[s]]
            #expect(Array(evaluator.run(single).values) == Array(batch.row(s)), "sample \(s)")
        }
    }

    @Test func observerSeesOnlyRunningSamples() throws {
        let graph = try fastGRNN(features: 3, hidden: 4, rank: nil)
        let data = sequences(count: 3, steps: 4, features: 3, lengths: [4, 1, 2])
        var rowsPerStep: [Int] = []
        _ = try FloatEvaluator(graph: graph).run(data) { name, values in
            if name == "rnn.h_next" { rowsPerStep.append(values.rows) }
        }
        #expect(rowsPerStep == [3, 2, 1, 1])
    }
}

/// Calibration gives a loop state the range of its next value (the observer never sees states).
@Suite struct CalibrationTests {
    @Test func statesTakeTheRangeOfTheirNextValues() throws {
        let test = LoopEvaluationTests()
        let graph = try test.fastGRNN(features: 3, hidden: 4, rank: nil)
        let data = test.sequences(count: 5, steps: 6, features: 3, lengths: [6, 2, 4, 6, 1])
        let profile = try Calibration.profile(graph, on: data)
        #expect(profile.maxAbs["rnn.h"] != nil)
        #expect(profile.maxAbs["rnn.h"] == profile.maxAbs["rnn.h_next"])
        #expect((profile.maxAbs["rnn.h"] ?? 0) > 0)
        #expect(profile.maxAbs["x"] == profile.maxAbs["rnn.x_t"])
        #expect(profile.maxAbs["x"] == data.inputs.map(abs).max())
    }
}
