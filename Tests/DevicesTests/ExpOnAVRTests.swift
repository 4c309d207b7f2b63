import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR

/// e^x on the Uno's simulator against the emulator, over inputs whose run-time shift (14 - n -
/// the output's fractional bits, n from the data) spans 1 to beyond 30: the one shift of the
/// emitted C whose distance only the data decide, a loop of one bit a pass on AVR.
@Suite struct ExpOnAVRTests {
    /// `y = exp(x)` over 128 elements of int16 x with `inputFrac` fractional bits, the samples the
    /// extremes of int16 and then values from -24 to 4 (those the format holds).
    static func program(inputFrac: Int, output: TensorFormat) throws -> (FixedProgram, DatasetSplit) {
        let n = 128
        let graph = try Graph.checked(
            name: "exp", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: [:], nodes: [Node(name: "e", op: .exp, inputs: ["x"], output: "y")])
        let samples = 12
        let scale = Double(sign: .plus, exponent: -inputFrac, significand: 1)
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                let q: Int
                switch s {
                case 0: q = -32768 + i
                case 1: q = 32767 - i
                default:
                    // e^x from e^-24 to e^4 (where the output is neither 0 nor saturated), in steps
                    // that miss the grid of any format.
                    let real = -24 + 28 * Double((s - 2) * n + i) / Double((samples - 2) * n) + 0.000_37 * Double(i % 7)
                    q = max(-32768, min(32767, Int((real / scale).rounded())))
                }
                inputs.append(Double(q) * scale)
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        let config = QuantConfig(formats: ["x": TensorFormat(bits: 16, fracBits: inputFrac), "y": output])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    @Test(arguments: [(11, 8, 7), (12, 16, 15), (8, 16, 4), (14, 8, 10), (4, 16, 10)])
    func expIsBitExactOnTheUno(inputFrac: Int, outputBits: Int, outputFrac: Int) throws {
        let (program, split) = try Self.program(inputFrac: inputFrac, output: TensorFormat(bits: outputBits, fracBits: outputFrac))
        let label = "exp Q\(inputFrac) -> int\(outputBits) Q\(outputFrac)"
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 12,
                                                           directory: makeTemporaryDirectory("exp-avr"), label)
        #expect(source.contains("mcu_exp("))
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-exp"))
        #expect(report.isBitExact, "host, \(label): \(report.firstMismatch ?? "")")
    }
}
