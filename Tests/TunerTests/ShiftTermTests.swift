import Testing
import FixedPoint
import Hardware
import ModelIR

/// The terms a constant shift is priced by: an AVR shifts one bit per instruction at every width;
/// a Cortex-M shifts any distance at once, except that a 64-bit value shifted by one bit is an add
/// with carry (cheaper than any other short distance), so that case is a term of its own there.
@Suite struct ShiftTermTests {
    /// A squared distance of 16-bit operands wide enough for a 64-bit accumulator, the input's
    /// operand shifted left by `shiftX` bits to the prototypes' format.
    static func program(shiftX: Int) throws -> FixedProgram {
        let n = 40, m = 3
        let graph = try Graph.checked(
            name: "sqd", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["P": Tensor(shape: Shape([m, n]), values: (0..<(m * n)).map { Double($0 % 7) - 3 })],
            nodes: [Node(name: "dist", op: .squaredDistance, inputs: ["x"], output: "y", weights: ["P": "P"])])
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: 16, fracBits: 12 - shiftX), "P": TensorFormat(bits: 16, fracBits: 12),
            "y": TensorFormat(bits: 16, fracBits: 0),
        ])
        return try FixedProgram(graph: graph, config: config)
    }

    static func counts(shiftX: Int, avr: Bool) throws -> [String: Double] {
        let program = try program(shiftX: shiftX)
        let step = try #require(program.steps.first)
        guard case let .squaredDistance(_, x, _, _, accBits) = step.kernel else {
            Issue.record("not a squared distance: \(step.kernel)")
            return [:]
        }
        #expect(x == shiftX && accBits == 64, "\(step.kernel)")
        return CostFeatures.node(step, in: program, dsp: false, avr: avr)
    }

    @Test func aCortexMPricesA64BitShiftByOneBitApart() throws {
        let one = try Self.counts(shiftX: 1, avr: false), two = try Self.counts(shiftX: 2, avr: false), seven = try Self.counts(shiftX: 7, avr: false)
        #expect(one["sqd.a64.lshift.a64.one"] == 120)
        #expect(one["sqd.a64.lshift.a64.short.bits"] == nil)
        // Two and seven bits are the same loops at another distance: one signature but for the bits.
        #expect(two["sqd.a64.lshift.a64.one"] == nil && two["sqd.a64.lshift.a64.short.bits"] == 240 && seven["sqd.a64.lshift.a64.short.bits"] == 840)
        #expect(CostFeatures.signature(two) == CostFeatures.signature(seven))
        #expect(CostFeatures.signature(one) != CostFeatures.signature(two))
    }

    @Test func anAVRShiftsEveryBitAlike() throws {
        let one = try Self.counts(shiftX: 1, avr: true), two = try Self.counts(shiftX: 2, avr: true)
        #expect(one["sqd.a64.lshift.a64.one"] == nil && one["sqd.a64.lshift.a64.short.bits"] == 120 && two["sqd.a64.lshift.a64.short.bits"] == 240)
        #expect(CostFeatures.signature(one) == CostFeatures.signature(two))
    }
}
