import Testing
@testable import Emit
import FixedPoint
import ModelIR

/// Which Muls are emitted as `mcu_mul16x8_rq8_S` (`MixedProduct.steps`): every such product of a
/// fused run that multiplies nothing else in 32 bits, none of a run that still does (its libgcc
/// call's chain would lie on top of the frame the two 8 x 8-bit products deepen), and a node read
/// from a table multiplies nothing.
@Suite struct MixedProductTests {
    /// x (int16) times A (int8) into int8, then `second` applied to that: one fused run of two nodes.
    static func program(second: Op, weights: [String: String], output: TensorFormat) throws -> FixedProgram {
        let n = 16
        let graph = try Graph.checked(
            name: "run", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["A": Tensor(shape: Shape([n]), values: (0..<n).map { Double($0 - 8) }),
                        "C": Tensor(shape: Shape([n]), values: (0..<n).map { Double(1_000 * ($0 - 8)) })],
            nodes: [Node(name: "p", op: .mul, inputs: ["x"], output: "t", weights: ["B": "A"]),
                    Node(name: "q", op: second, inputs: ["t"], output: "y", weights: weights)])
        return try FixedProgram(graph: graph, config: QuantConfig(formats: [
            "x": TensorFormat(bits: 16, fracBits: 0), "A": TensorFormat(bits: 8, fracBits: 0),
            "t": TensorFormat(bits: 8, fracBits: -12), "C": TensorFormat(bits: 16, fracBits: 0), "y": output,
        ]))
    }

    @Test func aRunWithNoOtherProductIn32BitsTakesItsProducts() throws {
        let program = try Self.program(second: .mul, weights: ["B": "C"], output: TensorFormat(bits: 8, fracBits: -20))
        let groups = ElementwiseFusion.groups(program)
        #expect(groups.count == 1 && groups.first?.steps.count == 2)
        #expect(MixedProduct.steps(of: program, groups: groups) == ["p", "q"])
    }

    @Test func aRunThatStillMultipliesIn32BitsKeepsTheGeneralForm() throws {
        // q: int8 x int16 into int16, a 32-bit product that is not one of these.
        let program = try Self.program(second: .mul, weights: ["B": "C"], output: TensorFormat(bits: 16, fracBits: -8))
        let groups = ElementwiseFusion.groups(program)
        #expect(groups.count == 1)
        #expect(MixedProduct.of(program.steps[0], program: program) != nil)
        #expect(MixedProduct.steps(of: program, groups: groups).isEmpty)
        // Not fused, each node alone: p is one.
        #expect(MixedProduct.steps(of: program, groups: []) == ["p"])
    }

    @Test func aTableLookupMultipliesNothing() throws {
        // q: an int8 input scaled with a 32-bit accumulator, read from a table of its 256 outputs.
        let program = try Self.program(second: .scale(1_000), weights: [:], output: TensorFormat(bits: 16, fracBits: -6))
        guard case let .scale(_, _, accBits) = program.steps[1].kernel else { Issue.record("q is not a Scale"); return }
        #expect(accBits == 32)
        #expect(DirectLookup.applies(to: program.steps[1]))
        let groups = ElementwiseFusion.groups(program)
        #expect(groups.count == 1 && groups.first?.steps.count == 2)
        #expect(MixedProduct.steps(of: program, groups: groups) == ["p"])
    }
}
