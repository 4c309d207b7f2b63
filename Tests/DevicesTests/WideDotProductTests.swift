import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import ModelIR

/// The AVR assembly of `WideDotProduct` (16-bit weights or inputs, 32- and 40-bit sums) on the
/// simulated Uno against the emulator: every remainder of its four-product steps, a row longer
/// than one pass, operands at their extremes, sums near their bounds. The host compiles the plain
/// loop instead, so only these runs check the assembly.
@Suite struct WideDotProductTests {
    /// A dense layer `x [n] -> [outputs]`: weights of `weightBits` uniform in ±`magnitude` (the
    /// first two at the extremes; all of them for a negative `magnitude`), inputs at Q0 over their whole range (every seventh at an end),
    /// the output 16-bit at the fractional bits that put the largest sum near its top.
    static func program(n: Int, outputs: Int, weightBits: Int, inputBits: Int, magnitude: Int, seed: UInt64,
                        shift: Int? = nil, inputRange: Int? = nil) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let extremes = magnitude < 0, magnitude = abs(magnitude)
        var weights = (0..<(outputs * n)).map { _ in Double(Int(generator.next() % UInt64(2 * magnitude + 1)) - magnitude) }
        if extremes { weights = weights.map { $0 < 0 ? Double(-magnitude) : Double(magnitude) } }
        weights[0] = Double(-magnitude)
        if weights.count > 1 { weights[1] = Double(magnitude) }
        let bias = (0..<outputs).map { _ in Double(Int(generator.next() % 201) - 100) }
        let graph = try Graph.checked(
            name: "wide\(n)", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["fc.W": Tensor(shape: Shape([outputs, n]), values: weights), "fc.b": Tensor(shape: Shape([outputs]), values: bias)],
            nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "fc.W", "b": "fc.b"])])
        let samples = 4
        let top = Double(1 << (inputBits - 1))
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                let edge = (i + s) % 7 == 0
                if let r = inputRange {
                    inputs.append(Double(Int(generator.next() % UInt64(2 * r + 1)) - r))
                } else {
                    inputs.append(edge ? (i % 2 == 0 ? -top : top - 1) : Double(Int(generator.next() % UInt64(2 * top)) - Int(top)))
                }
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        let largest = (0..<outputs).map { o in (0..<n).reduce(0.0) { $0 + abs(weights[o * n + $1]) } * top }.max() ?? 1
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: inputBits, fracBits: 0), "fc.W": TensorFormat(bits: weightBits, fracBits: 0),
            "fc.b": TensorFormat(bits: 16, fracBits: 0),
            "y": shift.map { TensorFormat(bits: 16, fracBits: -$0) } ?? TensorFormat.fitting(maxAbs: largest / 4, bits: 16),
        ])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    /// (inputs, outputs, weight bits, input bits, weight magnitude, the accumulator bytes expected).
    static let cases: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 16, 8, 32_767, 4), (2, 3, 16, 8, 32_767, 4), (3, 2, 16, 8, 30_000, 4), (5, 3, 16, 8, 20_000, 4),
        (12, 4, 16, 8, 32_767, 4), (1_023, 2, 16, 8, 300, 4),
        (1, 2, 8, 16, 127, 4), (7, 3, 8, 16, 127, 4), (16, 2, 8, 16, 127, 4),
        (1, 2, 16, 16, 32_767, 4), (3, 2, 16, 16, 1_000, 4), (9, 2, 16, 16, 7_000, 4), (13, 3, 16, 16, 32_767, 5),
        (64, 2, 16, 16, 32_767, 5), (700, 2, 16, 16, 10_000, 5),
        (600, 1, 8, 8, -127, 4),
    ]

    @Test(arguments: cases)
    func theProductsAtTheirOwnWidthAreBitExactOnTheUno(n: Int, outputs: Int, weightBits: Int, inputBits: Int, magnitude: Int, bytes: Int) throws {
        let (program, split) = try Self.program(n: n, outputs: outputs, weightBits: weightBits, inputBits: inputBits, magnitude: magnitude,
                                                seed: UInt64(n * 31 + weightBits + inputBits))
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        let wide = WideDotProduct.of(plan, step: step, program: program, far: [])
        #expect(wide?.accumulatorBytes == bytes, "n \(n), w\(weightBits) x\(inputBits): bound \(plan.bound), accumulator \(plan.accBits)")
        let context = "n \(n), w\(weightBits) x\(inputBits), \(bytes) bytes"
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("wide-\(n)-\(weightBits)-\(inputBits)"), context)
        #expect(source.contains("Each row's \(weightBits)x\(inputBits)-bit products in assembly (WideDotProduct), the sum in \(bytes) bytes"), "\(context)")
    }

    /// A 40-bit sum requantized from 32 bits (shifts of 8 and more: its low byte dropped, bit 7 kept
    /// for the rounding at 8) or through int64 (shorter shifts). The bound (weights up to 2^15,
    /// inputs of int16) needs the 40 bits; the inputs drawn within ±`range` keep the outputs off
    /// saturation, where the rounding shows (none: over the whole input range).
    @Test(arguments: [(13, 8, 40), (13, 9, 100), (64, 8, 8), (64, 23, nil), (13, 3, 1), (13, 7, 2), (13, 12, nil)])
    func aFortyBitSumIsRequantizedExactly(n: Int, shift: Int, range: Int?) throws {
        let (program, split) = try Self.program(n: n, outputs: 3, weightBits: 16, inputBits: 16, magnitude: 32_767, seed: UInt64(n + shift),
                                                shift: shift, inputRange: range)
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        #expect(plan.shift == shift && plan.accBits == 64)
        #expect(WideDotProduct.requantizesFrom32Bits(plan, step: step, program: program, far: []) == (shift >= 8))
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("wide-rq-\(n)-\(shift)"), "n \(n), shift \(shift)")
        #expect(source.contains(shift >= 8 ? "const int32_t shifted" : "const int64_t acc"))
    }

    /// A 64-bit accumulator whose bound reaches 2^39 keeps the plain loop: five bytes would not hold it.
    @Test func aSumPastFortyBitsKeepsThePlainLoop() throws {
        let (program, _) = try Self.program(n: 2_000, outputs: 1, weightBits: 16, inputBits: 16, magnitude: 32_767, seed: 1)
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        #expect(plan.bound >= 549_755_813_888)
        #expect(WideDotProduct.of(plan, step: step, program: program, far: []) == nil)
    }
}
