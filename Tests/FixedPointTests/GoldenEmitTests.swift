import Foundation
import Testing
import TestSupport
@testable import Emit
import FixedPoint
import ModelIR

/// Emitted C for small fixtures, compared with golden files. Re-record on purpose with
/// `MCUTUNE_RECORD_GOLDEN=1 swift test --filter GoldenEmitTests`, and review the diff.
@Suite struct GoldenEmitTests {
    static let directory = Repository.path("Tests/Golden")

    func compare(_ text: String, golden name: String) throws {
        let path = "\(Self.directory)/\(name)"
        if ProcessInfo.processInfo.environment["MCUTUNE_RECORD_GOLDEN"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected, "\(name) differs from its golden file; re-record if the change is intended")
    }

    /// A dense layer, ReLU and a second dense layer with an ArgMax: a tiny MLP.
    func mlp() throws -> FixedProgram {
        func t(_ dims: [Int], _ values: [Double]) -> Tensor { Tensor(shape: Shape(dims), values: values) }
        let graph = try Graph.checked(
            name: "tiny-mlp", input: .init(name: "x", shape: Shape([3]), isSequence: false), output: "y",
            constants: ["W1": t([2, 3], [0.5, -0.25, 0.75, 1.0, 0.125, -0.5]), "b1": t([2], [0.1, -0.2]),
                        "W2": t([2, 2], [1.5, -1.0, 0.25, 0.5])],
            nodes: [Node(name: "fc1", op: .gemm, inputs: ["x"], output: "h", weights: ["W": "W1", "b": "b1"]),
                    Node(name: "act", op: .relu, inputs: ["h"], output: "a"),
                    Node(name: "fc2", op: .matMul, inputs: ["a"], output: "y", weights: ["W": "W2"])])
        let formats: [String: TensorFormat] = [
            "x": .init(bits: 8, fracBits: 6), "W1": .init(bits: 8, fracBits: 7), "b1": .init(bits: 16, fracBits: 12),
            "h": .init(bits: 16, fracBits: 10), "a": .init(bits: 16, fracBits: 10), "W2": .init(bits: 8, fracBits: 6),
            "y": .init(bits: 8, fracBits: 4),
        ]
        return try FixedProgram(graph: graph, config: QuantConfig(formats: formats))
    }

    @Test func tinyMLP() throws {
        var emitter = CEmitter(program: try mlp())
        let emitted = emitter.emit()
        try compare(emitted.header, golden: "tiny-mlp.h")
        try compare(emitted.source, golden: "tiny-mlp.c")
    }
}
