import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR

/// The AVR's convolutions of at most nine weights per filter (`CEmitter.unrolledConvolution`):
/// filter by filter, the output in bands of equal clipping, each window's products in assembly
/// (16-bit sums, and 24-bit sums held as C * 2^16 + s), on the Uno against the emulator. Cases
/// cover every clipping a band can have (padding on each side, asymmetric, strides, windows with one
/// tap inside, windows wholly in the padding), displacements past 63 bytes (the pointer moves),
/// depthwise and ordinary filters, a fused ReLU, and both branches of `mcu_rq8_24`. The host runs
/// the C the other cores compile.
@Suite struct UnrolledConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        var depthwise: Bool
        var input: (h: Int, w: Int, c: Int)
        var window: Window
        var filters = 1
        var magnitude: Int
        var accumulator: Int
        var relu = false
        /// The output's format holds the largest sum divided by this (a larger one shifts less).
        var divisor = 8.0

        var description: String {
            "\(depthwise ? "dw" : "conv") \(input.h)x\(input.w)x\(input.c) k\(window.kernelHeight)x\(window.kernelWidth) "
                + "s\(window.strideHeight)\(window.strideWidth) p\(window.padTop)\(window.padLeft)\(window.padBottom)\(window.padRight) a\(accumulator)"
        }
    }

    static let cases: [Case] = [
        Case(depthwise: true, input: (5, 6, 3), window: Window(kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
             magnitude: 127, accumulator: 24, relu: true),
        Case(depthwise: true, input: (6, 5, 2), window: Window(kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
             magnitude: 10, accumulator: 16),
        Case(depthwise: true, input: (4, 4, 9), window: Window(kernelHeight: 2, kernelWidth: 2, padTop: 0, padLeft: 1, padBottom: 1, padRight: 0),
             magnitude: 127, accumulator: 24, relu: true, divisor: 1),
        // Taps 70 bytes apart: the pointer moves between products.
        Case(depthwise: true, input: (3, 3, 70), window: Window(kernelHeight: 3, kernelWidth: 3), magnitude: 60, accumulator: 24, divisor: 2),
        // Padding of two around a 2 x 2 image: windows with a single tap inside.
        Case(depthwise: true, input: (2, 2, 4), window: Window(kernelHeight: 3, kernelWidth: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2),
             magnitude: 127, accumulator: 24),
        // A 1 x 1 window padded by one: the border outputs are the bias alone.
        Case(depthwise: true, input: (2, 3, 2), window: Window(kernelHeight: 1, kernelWidth: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
             magnitude: 50, accumulator: 16),
        Case(depthwise: false, input: (6, 6, 1), window: Window(kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
             filters: 4, magnitude: 127, accumulator: 24, relu: true),
        Case(depthwise: false, input: (3, 4, 8), window: Window(kernelHeight: 1, kernelWidth: 1), filters: 5, magnitude: 20, accumulator: 16, relu: true),
        Case(depthwise: false, input: (5, 5, 2), window: Window(kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
             filters: 3, magnitude: 127, accumulator: 24, divisor: 1),
        Case(depthwise: false, input: (4, 5, 3), window: Window(kernelHeight: 3, kernelWidth: 1, strideHeight: 1, strideWidth: 2, padTop: 1, padLeft: 0, padBottom: 1, padRight: 0),
             filters: 2, magnitude: 15, accumulator: 16, relu: true),
    ]

    /// The convolution (then a ReLU, if asked) at 8 bits, weights uniform in ±`magnitude`
    /// integers, the input at Q0 over the whole int8 range, the extremes included.
    static func program(_ c: Case, seed: UInt64) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let (h, w, ch) = c.input
        let (kh, kw) = (c.window.kernelHeight, c.window.kernelWidth)
        let wShape = c.depthwise ? Shape([kh, kw, ch]) : Shape([c.filters, kh, kw, ch])
        let outputs = c.depthwise ? ch : c.filters
        let weights = (0..<wShape.elementCount).map { _ in Double(Int(generator.next() % UInt64(2 * c.magnitude + 1)) - c.magnitude) }
        let bias = (0..<outputs).map { _ in Double(Int(generator.next() % 41) - 20) }
        let op: Op = c.depthwise ? .depthwiseConv2D(c.window) : .conv2D(c.window)
        var nodes = [Node(name: "conv", op: op, inputs: ["x"], output: c.relu ? "h" : "y", weights: ["W": "conv.W", "b": "conv.b"])]
        if c.relu { nodes.append(Node(name: "act", op: .relu, inputs: ["h"], output: "y")) }
        let graph = try Graph.checked(
            name: "unrolled", input: .init(name: "x", shape: Shape([h, w, ch]), isSequence: false), output: "y",
            constants: ["conv.W": Tensor(shape: wShape, values: weights), "conv.b": Tensor(shape: Shape([outputs]), values: bias)],
            nodes: nodes)
        let samples = 4
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<(h * w * ch) {
                let edge = (i + s) % 5 == 0
                inputs.append(edge ? (i % 2 == 0 ? -128 : 127) : Double(Int(generator.next() % 256) - 128))
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([h, w, ch]), maxSteps: 1)
        let perFilter = c.depthwise ? kh * kw : kh * kw * ch
        let largest = Double(perFilter * c.magnitude * 128)
        let out = TensorFormat.fitting(maxAbs: largest / c.divisor, bits: 8)
        var formats = ["x": TensorFormat(bits: 8, fracBits: 0), "conv.W": TensorFormat(bits: 8, fracBits: 0),
                       "conv.b": TensorFormat(bits: 8, fracBits: 0), "y": out]
        if c.relu { formats["h"] = out }
        return (try FixedProgram(graph: graph, config: QuantConfig(formats: formats)), split)
    }

    @Test(arguments: cases)
    func theUnrolledConvolutionIsBitExactOnTheUno(_ c: Case) throws {
        let (program, split) = try Self.program(c, seed: UInt64(c.input.h * 1_000 + c.input.c * 10 + c.magnitude))
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the convolution is not a linear kernel")
            return
        }
        #expect(CEmitter.unrolledConvolution(plan, step: step, program: program, far: [])?.width == c.accumulator, "\(c): bound \(plan.bound)")
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("unrolled-uno"), "\(c)")
        #expect(source.contains("__asm__ volatile (\n") && source.contains("\"muls %[t], %[u]\\n\\t\""), "\(c)")
    }

    /// The C the other cores compile for the same programs is bit-exact on the host.
    @Test func theOtherCoresCIsBitExactOnTheHost() throws {
        for c in Self.cases {
            let (program, split) = try Self.program(c, seed: UInt64(c.input.h * 1_000 + c.input.c * 10 + c.magnitude))
            let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-unrolled"))
            #expect(report.isBitExact, "\(c): \(report.firstMismatch ?? "")")
        }
    }

    /// The Cortex-M4 does not take the AVR's form: its kernel table and calibration stay valid.
    @Test func onlyTheAVRCountsTheUnrolledForm() throws {
        let (program, _) = try Self.program(Self.cases[0], seed: 1)
        let avr = CostFeatures.nodes(program, dsp: false, avr: true)["conv"] ?? [:]
        let m4 = CostFeatures.nodes(program, dsp: true, avr: false)["conv"] ?? [:]
        // Rows inside per output row times columns inside per output column, per channel.
        #expect(avr["unrolled.a24.mac"] == Double((2 + 3 + 3 + 3 + 2) * (2 + 3 + 3 + 3 + 3 + 2) * 3))
        #expect(m4.keys.allSatisfy { !$0.hasPrefix("unrolled.") })
    }
}
