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
/// `mcu_mul_rq8_S`), and the 16-bit ones: the product of an int16 and an int8 value requantized
/// to int8 by 8 to 16 bits (`MixedProduct`, `mcu_mul16x8_rq8_S`) and the saturated sum or
/// difference of two int16 terms (`SaturatingAdd16`). The host compiles their C in the same runs'
/// `BitExactCheck`.
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

    /// `y = x op B` over 128 elements at the given formats, B's values given (real numbers), the
    /// samples x's extremes and then values spread over its whole range.
    static func program(_ op: Op, x: TensorFormat, b: TensorFormat, bValues: [Double], y: TensorFormat) throws -> (FixedProgram, DatasetSplit) {
        let n = bValues.count
        let graph = try Graph.checked(
            name: "wide", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["B": Tensor(shape: Shape([n]), values: bValues)],
            nodes: [Node(name: "e", op: op, inputs: ["x"], output: "y", weights: ["B": "B"])])
        let samples = 12, half = 1 << (x.bits - 1)
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                let q: Int
                switch s {
                case 0: q = -half
                case 1: q = half - 1
                default: q = (i * 7_919 + s * 4_099) % (2 * half) - half
                }
                inputs.append(Double(q) / Double(sign: .plus, exponent: x.fracBits, significand: 1))
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        return (try FixedProgram(graph: graph, config: QuantConfig(formats: ["x": x, "B": b, "y": y])), split)
    }

    /// An int16 tensor times an int8 array and an int8 tensor times an int16 array, each requantized
    /// to int8 by `shift`.
    @Test(arguments: [8, 9, 14, 16])
    func theProductOfInt16AndInt8IsBitExactOnTheUno(shift: Int) throws {
        let int8s = (0..<128).map { Double(2 * $0 - 128 + $0 % 2) }
        let int16s = [-32_768, 32_767] + (0..<126).map { Double(($0 * 517) % 65_536 - 32_768) }
        for (wide, x, b, values) in [(true, 16, 8, int8s), (false, 8, 16, int16s)] {
            let (program, split) = try Self.program(.mul, x: TensorFormat(bits: x, fracBits: 0), b: TensorFormat(bits: b, fracBits: 0),
                                                    bValues: values, y: TensorFormat(bits: 8, fracBits: -shift))
            #expect(MixedProduct.of(program.steps[0], program: program)?.shift == shift)
            #expect(MixedProduct.of(program.steps[0], program: program)?.wideFirst == wide)
            for board in ["uno", "nano33ble"] {
                let source = try SpecialisedKernelTests.runOnBoard(program, board: board, split: split, samples: 12,
                                                                   directory: makeTemporaryDirectory("mul16x8-\(shift)-\(x)-\(board)"),
                                                                   "int\(x) x int\(b) product, shift \(shift) on \(board)")
                #expect(source.contains("mcu_mul16x8_rq8_\(shift)("))
            }
            let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-mul16x8-\(shift)-\(x)"))
            #expect(report.isBitExact, "host, shift \(shift): \(report.firstMismatch ?? "")")
        }
    }

    /// An int16 tensor plus and minus an int8 array shifted left by 6 (B at Q-6), saturated to int16:
    /// the extremes of x against B's overflow both ways.
    @Test(arguments: [Op.add, Op.sub])
    func theSaturatedInt16SumIsBitExactOnTheUno(op: Op) throws {
        let (program, split) = try Self.program(op, x: TensorFormat(bits: 16, fracBits: 0), b: TensorFormat(bits: 8, fracBits: -6),
                                                bValues: (0..<128).map { Double(64 * (2 * $0 - 128 + $0 % 2)) },
                                                y: TensorFormat(bits: 16, fracBits: 0))
        #expect(SaturatingAdd16.applies(to: program.steps[0], program: program))
        let name = op == .add ? "mcu_add_sat16(" : "mcu_sub_sat16("
        for board in ["uno", "nano33ble"] {
            let source = try SpecialisedKernelTests.runOnBoard(program, board: board, split: split, samples: 12,
                                                               directory: makeTemporaryDirectory("sat16-\(op)-\(board)"), "\(op) on \(board)")
            #expect(source.contains(name))
        }
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-sat16-\(op)"))
        #expect(report.isBitExact, "host, \(op): \(report.firstMismatch ?? "")")
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
