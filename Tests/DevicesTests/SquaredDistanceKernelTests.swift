import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import ModelIR

/// A squared distance of 8-bit operands emitted as a dot product (`SquaredDistanceExpansion`):
/// a²·Σx² + b²·Σp² − 2ab·Σx·p in uint32_t, against the emulator's sum of squared differences, with
/// the input's or the prototypes' operand shifted, on the host (the C fallback) and on the Uno
/// (the assembly of the dot product).
@Suite struct SquaredDistanceKernelTests {
    /// `x [n] -> [m]` distances at 8 bits, prototypes uniform in ±`magnitude` integers at Q`fp`, the
    /// input at Q`fx` over the whole int8 range (its extremes included).
    static func program(n: Int, m: Int, magnitude: Int, fx: Int, fp: Int, seed: UInt64) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let scaleP = Double(sign: .plus, exponent: -fp, significand: 1), scaleX = Double(sign: .plus, exponent: -fx, significand: 1)
        let prototypes = (0..<(m * n)).map { k in
            k % 5 == 0 ? Double(k % 2 == 0 ? -magnitude : magnitude) * scaleP
                : Double(Int(generator.next() % UInt64(2 * magnitude + 1)) - magnitude) * scaleP
        }
        let graph = try Graph.checked(
            name: "sqd\(n)", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["P": Tensor(shape: Shape([m, n]), values: prototypes)],
            nodes: [Node(name: "dist", op: .squaredDistance, inputs: ["x"], output: "y", weights: ["P": "P"])])
        let samples = 4
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                let edge = (i + s) % 3 == 0
                inputs.append((edge ? (s % 2 == 0 ? -128 : 127) : Double(Int(generator.next() % 256) - 128)) * scaleX)
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        // The output's format puts the largest possible distance near the top of int8.
        let largest = Double(n) * pow(128 * Double(sign: .plus, exponent: -fx, significand: 1) + Double(magnitude) * scaleP, 2)
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: 8, fracBits: fx), "P": TensorFormat(bits: 8, fracBits: fp),
            "y": TensorFormat.fitting(maxAbs: largest / 4, bits: 8),
        ])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    /// (n, m, prototype magnitude, fx, fp): no shift, the input's shifted, the prototypes' shifted,
    /// dot products of every remainder of the AVR loop's eight-product steps, and a 16-bit accumulator.
    static let cases: [(Int, Int, Int, Int, Int)] = [
        (10, 20, 127, 3, 3), (7, 3, 128, 0, 2), (13, 4, 100, 5, 2), (64, 5, 127, 4, 4), (9, 6, 30, 0, 6), (1, 2, 127, 2, 0), (1, 3, 3, 0, 0),
    ]

    static func expandedProgram(_ c: (Int, Int, Int, Int, Int)) throws -> (FixedProgram, DatasetSplit) {
        let (program, split) = try program(n: c.0, m: c.1, magnitude: c.2, fx: c.3, fp: c.4, seed: UInt64(c.0 * 100 + c.1))
        let step = try #require(program.steps.first)
        #expect(SquaredDistanceExpansion.applies(to: step, program: program, far: []), "\(c): \(step.kernel)")
        return (program, split)
    }

    @Test(arguments: cases)
    func isBitExactOnTheUno(n: Int, m: Int, magnitude: Int, fx: Int, fp: Int) throws {
        let (program, split) = try Self.expandedProgram((n, m, magnitude, fx, fp))
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("sqd-uno-\(n)-\(m)"), "n \(n), m \(m), Q\(fx) x Q\(fp)")
        #expect(source.contains("mcu_dot8_a24(0, "))
    }

    @Test func isBitExactOnTheHost() throws {
        for c in Self.cases {
            let (program, split) = try Self.expandedProgram(c)
            let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-sqd-\(c.0)-\(c.1)"))
            #expect(report.isBitExact, "\(c): \(report.firstMismatch ?? "")")
        }
    }
}
