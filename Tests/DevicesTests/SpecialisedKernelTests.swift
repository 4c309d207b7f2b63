import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR

/// The specialised kernels on the boards themselves: the AVR assembly of `mcu_dot8_aN` (16- and
/// 24-bit accumulators, every remainder of its eight-product steps, rows longer than one pass of
/// 2,040 products), the Cortex-M4's SMLAD loop, and the 256-entry activation tables, built by the
/// board's toolchain and run on its simulator, against the emulator. The host compiles only the C
/// fallback of the dot product, so only these runs check the assembly and the DSP loop.
@Suite struct SpecialisedKernelTests {
    /// A dense layer `x [n] -> [outputs]` at 8 bits, weights uniform in ±`magnitude` integers, the
    /// input at Q0 over the whole int8 range, then a sigmoid: the accumulator width follows from
    /// the proven bound (`Σ|w|·128 + |b|·2^s`).
    static func program(n: Int, outputs: Int, magnitude: Int, seed: UInt64) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let weights = (0..<(outputs * n)).map { _ in Double(Int(generator.next() % UInt64(2 * magnitude + 1)) - magnitude) }
        let bias = (0..<outputs).map { _ in Double(Int(generator.next() % 41) - 20) }
        let graph = try Graph.checked(
            name: "dot\(n)", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["fc.W": Tensor(shape: Shape([outputs, n]), values: weights), "fc.b": Tensor(shape: Shape([outputs]), values: bias)],
            nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "h", weights: ["W": "fc.W", "b": "fc.b"]),
                    Node(name: "act", op: .sigmoid, inputs: ["h"], output: "y")])
        // Inputs over the whole int8 range, the extremes included.
        let samples = 4
        var inputs: [Double] = []
        for s in 0..<samples {
            for i in 0..<n {
                let edge = (i + s) % 7 == 0
                inputs.append(edge ? (i % 2 == 0 ? -128 : 127) : Double(Int(generator.next() % 256) - 128))
            }
        }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([n]), maxSteps: 1)
        // The output at the fractional bits that put the largest sum near the top of int8.
        let largest = (0..<outputs).map { o in (0..<n).reduce(0.0) { $0 + abs(weights[o * n + $1]) } * 128 }.max() ?? 1
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: 8, fracBits: 0), "fc.W": TensorFormat(bits: 8, fracBits: 0), "fc.b": TensorFormat(bits: 8, fracBits: 0),
            "h": TensorFormat.fitting(maxAbs: largest / 8, bits: 8), "y": TensorFormat(bits: 8, fracBits: 7),
        ])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    static func device(_ name: String) throws -> any Device {
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: name)
        return try DeviceCatalog(root: Repository.root).device(for: target)
    }

    /// (inputs, weight magnitude, the accumulator the emitter must choose). Rows of up to
    /// `CEmitter.shortRowLimit` with an int16 accumulator are written out in C instead; rows of 9 to
    /// 15 take the assembly's remainders of 1, 2, 3, 5 and 7 products with an int16 accumulator.
    static let cases: [(Int, Int, Int)] = [
        (1, 100, 16), (2, 100, 16), (3, 60, 16), (5, 30, 16), (7, 20, 16), (9, 25, 16), (10, 20, 16), (11, 18, 16),
        (13, 15, 16), (15, 13, 16), (64, 3, 16), (1_100, 1, 24),
        (4, 127, 24), (6, 127, 24), (63, 127, 24), (1_021, 40, 24), (1_100, 40, 24), (1_500, 20, 24),
    ]

    @Test(arguments: cases)
    func theDotProductIsBitExactOnTheUno(n: Int, magnitude: Int, accumulator: Int) throws {
        try check(n: n, magnitude: magnitude, accumulator: accumulator, on: "uno")
    }

    /// The Cortex-M4's SMLAD loop (four products a step, unaligned word reads, the remainder in C).
    @Test(arguments: cases)
    func theDotProductIsBitExactOnTheNano33BLE(n: Int, magnitude: Int, accumulator: Int) throws {
        try check(n: n, magnitude: magnitude, accumulator: accumulator, on: "nano33ble")
    }

    /// Rows longer than one pass of the AVR loop (2,040 products), on the Mega 2560's 8 KB of RAM.
    @Test func rowsOfSeveralPassesAreBitExactOnTheMega() throws {
        try check(n: 4_100, magnitude: 10, accumulator: 24, on: "mega2560")
    }

    func check(n: Int, magnitude: Int, accumulator: Int, on board: String) throws {
        let (program, split) = try Self.program(n: n, outputs: 3, magnitude: magnitude, seed: UInt64(n * 1_000 + magnitude))
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        let short = n <= CEmitter.shortRowLimit && accumulator == 16
        #expect(CEmitter.shortRowLength(plan, step: step, program: program, far: []) == (short ? n : nil), "n \(n), bound \(plan.bound)")
        #expect(CEmitter.dot8Width(plan, step: step, program: program, far: []) == (short ? nil : accumulator), "n \(n), bound \(plan.bound)")
        #expect(DirectLookup.applies(to: program.steps[1]))
        let directory = makeTemporaryDirectory("dot-\(board)-\(n)-\(magnitude)")
        let measured = try FirmwareMeasurement.run(program: program, device: try Self.device(board), split: split, maxSamples: 4, directory: directory)
        #expect(measured.samples == 4)
        #expect(measured.isBitExact, "\(board), n \(n), a\(accumulator): \(measured.firstMismatch ?? "")")
        let source = try String(contentsOfFile: "\(directory)/model.c", encoding: .utf8)
        #expect(source.contains("mcu_dot8_a\(accumulator)(") != short)
    }

    /// The C fallback of the same programs (what the host and Cortex-M compile) is bit-exact too.
    @Test func theFallbackCIsBitExactOnTheHost() throws {
        for (n, magnitude, _) in Self.cases {
            let (program, split) = try Self.program(n: n, outputs: 3, magnitude: magnitude, seed: UInt64(n * 1_000 + magnitude))
            let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-dot-\(n)"))
            #expect(report.isBitExact, "n \(n): \(report.firstMismatch ?? "")")
        }
    }
}
