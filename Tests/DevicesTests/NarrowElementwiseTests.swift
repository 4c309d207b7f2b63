import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR

/// The AVR's 8-bit elementwise helpers on the Uno's simulator (and their SSAT form on the Nano 33
/// BLE's Cortex-M4) against the emulator: the saturated
/// sum of two int8 values in one 8-bit add (`SaturatingAdd`, `mcu_add_sat8`) and the product of two
/// int8 values requantized by 1 to 7 bits with the shift done leftwards (`NarrowProduct`,
/// `mcu_mul_rq8_S`). The host compiles their C fallback in the same runs' `BitExactCheck`.
@Suite struct NarrowElementwiseTests {
    /// `y = x op B` over 128 elements, x and B int8 at Q0, B spanning the int8 range (-128 and 127
    /// included), the samples the extremes and then values spread over the whole range.
    static func program(_ op: Op, outputFracBits: Int) throws -> (FixedProgram, DatasetSplit) {
        let n = 128
        let b = (0..<n).map { Double(2 * $0 - 128 + $0 % 2) }
        let graph = try Graph.checked(
            name: "narrow", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["B": Tensor(shape: Shape([n]), values: b)],
            nodes: [Node(name: "e", op: op, inputs: ["x"], output: "y", weights: ["B": "B"])])
        let samples = 12
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                switch s {
                case 0: inputs.append(-128)
                case 1: inputs.append(127)
                default: inputs.append(Double((i * 37 + s * 23) % 256 - 128))
                }
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: 8, fracBits: 0), "B": TensorFormat(bits: 8, fracBits: 0), "y": TensorFormat(bits: 8, fracBits: outputFracBits),
        ])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    @Test func theSaturatedSumIsBitExactOnTheUno() throws {
        let (program, split) = try Self.program(.add, outputFracBits: 0)
        #expect(SaturatingAdd.applies(to: program.steps[0], program: program))
        for board in ["uno", "nano33ble"] {
            let source = try SpecialisedKernelTests.runOnBoard(program, board: board, split: split, samples: 12,
                                                               directory: makeTemporaryDirectory("add-sat8-\(board)"), "add on \(board)")
            #expect(source.contains("mcu_add_sat8("))
        }
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-add-sat8"))
        #expect(report.isBitExact, "host: \(report.firstMismatch ?? "")")
    }

    @Test(arguments: 1...7)
    func theRequantizedProductIsBitExactOnTheUno(shift: Int) throws {
        let (program, split) = try Self.program(.mul, outputFracBits: -shift)
        #expect(NarrowProduct.shift(program.steps[0], program: program) == shift)
        for board in ["uno", "nano33ble"] {
            let source = try SpecialisedKernelTests.runOnBoard(program, board: board, split: split, samples: 12,
                                                               directory: makeTemporaryDirectory("mul-rq8-\(shift)-\(board)"), "mul, shift \(shift) on \(board)")
            #expect(source.contains("mcu_mul_rq8_\(shift)("))
        }
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-mul-rq8-\(shift)"))
        #expect(report.isBitExact, "host, shift \(shift): \(report.firstMismatch ?? "")")
    }
}
