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
    /// `next` > 0: a second dense layer of `next` outputs, reading the first's from the arena, before the sigmoid.
    static func program(n: Int, outputs: Int, magnitude: Int, seed: UInt64, outputFracBits: Int? = nil, next: Int = 0) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let weights = (0..<(outputs * n)).map { _ in Double(Int(generator.next() % UInt64(2 * magnitude + 1)) - magnitude) }
        let bias = (0..<outputs).map { _ in Double(Int(generator.next() % 41) - 20) }
        let second = (0..<(next * outputs)).map { _ in Double(Int(generator.next() % 255) - 127) }
        let graph = try Graph.checked(
            name: "dot\(n)", input: .init(name: "x", shape: Shape([n]), isSequence: false), output: "y",
            constants: ["fc.W": Tensor(shape: Shape([outputs, n]), values: weights), "fc.b": Tensor(shape: Shape([outputs]), values: bias)]
                .merging(next > 0 ? ["fc2.W": Tensor(shape: Shape([next, outputs]), values: second)] : [:]) { a, _ in a },
            nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "h", weights: ["W": "fc.W", "b": "fc.b"])]
                + (next > 0 ? [Node(name: "fc2", op: .gemm, inputs: ["h"], output: "h2", weights: ["W": "fc2.W"])] : [])
                + [Node(name: "act", op: .sigmoid, inputs: [next > 0 ? "h2" : "h"], output: "y")])
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
            "h": outputFracBits.map { TensorFormat(bits: 8, fracBits: $0) } ?? TensorFormat.fitting(maxAbs: largest / 8, bits: 8), "y": TensorFormat(bits: 8, fracBits: 7),
        ].merging(next > 0 ? ["fc2.W": TensorFormat(bits: 8, fracBits: 0), "h2": TensorFormat.fitting(maxAbs: Double(127 * 128 * outputs) / 8, bits: 8)] : [:]) { a, _ in a })
        return (try FixedProgram(graph: graph, config: config), split)
    }

    /// `program` built for `board` and run on its simulator over `samples` of `split`: every output
    /// must equal the emulator's (`context` says which case failed); the C it ran.
    static func runOnBoard(_ program: FixedProgram, board: String, split: DatasetSplit, samples: Int, directory: String, _ context: String,
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let measured = try FirmwareMeasurement.run(program: program, device: try device(board), split: split, maxSamples: samples,
                                                   directory: directory)
        #expect(measured.samples == samples, sourceLocation: sourceLocation)
        #expect(measured.isBitExact, "\(context): \(measured.firstMismatch ?? "")", sourceLocation: sourceLocation)
        return try String(contentsOfFile: "\(directory)/model.c", encoding: .utf8)
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
        (4, 127, 24), (6, 127, 24), (8, 127, 24), (12, 127, 24), (16, 127, 24), (16, 14, 16), (63, 127, 24), (1_021, 40, 24),
        (1_100, 40, 24), (1_500, 20, 24),
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

    /// (inputs, outputs, weight magnitude, accumulator, a second layer's outputs or 0) of the
    /// Cortex-M4's dense layers as streams of blocks of four rows (`FourRowStream`): every column
    /// count past the groups of four (n mod 4 = 0 to 3), groups written out (up to 16) and looped
    /// over eight a turn (from 17: 68, 100, 131, 136 columns, with groups and columns after the
    /// turns), a last block of one to four rows (1 to 13 rows), both accumulators, the input read
    /// from the caller's pointer (`mcu_in`) and, for a second layer, from the arena.
    static let blockCases: [(Int, Int, Int, Int, Int)] = [
        (18, 5, 127, 24, 0), (19, 6, 127, 24, 0), (3, 6, 127, 24, 0), (4, 7, 127, 24, 0), (5, 9, 127, 24, 0), (6, 4, 127, 24, 0),
        (7, 5, 127, 24, 0), (8, 6, 127, 24, 0), (9, 7, 127, 24, 0), (10, 4, 20, 16, 0), (11, 5, 18, 16, 0), (12, 6, 127, 24, 0),
        (13, 7, 15, 16, 0), (14, 4, 127, 24, 0), (15, 9, 13, 16, 0), (16, 13, 127, 24, 0), (17, 4, 127, 24, 0), (64, 8, 3, 16, 0),
        (64, 32, 127, 24, 0), (63, 9, 40, 24, 0), (100, 13, 127, 24, 0), (12, 1, 127, 24, 0), (9, 2, 127, 24, 0), (21, 3, 127, 24, 0),
        (65, 5, 127, 24, 0), (68, 4, 127, 24, 0), (131, 6, 127, 24, 0), (136, 3, 127, 24, 0), (20, 8, 127, 24, 7), (64, 6, 3, 16, 10),
    ]

    @Test(arguments: blockCases)
    func denseLayersAsStreamsAreBitExactOnTheNano33BLE(n: Int, outputs: Int, magnitude: Int, accumulator: Int, next: Int) throws {
        let (program, split) = try Self.program(n: n, outputs: outputs, magnitude: magnitude, seed: UInt64(n * 7_919 + outputs), next: next)
        guard case let .linear(plan)? = program.steps.first?.kernel, let step = program.steps.first else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        let context = "n \(n), outputs \(outputs), a\(accumulator), then \(next)"
        #expect(CEmitter.dot8Width(plan, step: step, program: program, far: []) == accumulator, "n \(n), bound \(plan.bound)")
        #expect(FourRowStream.streams(of: program, far: []).count == (next > 0 ? 2 : 1), "\(context)")
        let device = try Self.device("nano33ble")
        let directory = makeTemporaryDirectory("dot4-\(n)-\(outputs)-\(magnitude)-\(next)")
        let fast = try FirmwareMeasurement.run(program: program, device: device, split: split, maxSamples: 4, directory: directory)
        #expect(fast.samples == 4 && fast.isBitExact, "\(context): \(fast.firstMismatch ?? "")")
        let source = try String(contentsOfFile: "\(directory)/model.c", encoding: .utf8)
        #expect(source.contains("#if defined(MCU_DSP_STREAM)") && source.contains("static const uint32_t mcu_fc_W["), "\(context)")
        // The stream's node keeps within the stack of the plain C loop (the point of the stream).
        let plain = try FirmwareMeasurement.run(program: program, device: device, split: split, maxSamples: 4,
                                                directory: makeTemporaryDirectory("plain-dot4-\(n)-\(outputs)-\(next)"), specialised: false)
        #expect(fast.build.stack.bytes <= plain.build.stack.bytes, "\(context): stack \(fast.build.stack.bytes) B, plain C \(plain.build.stack.bytes) B")
        // The host (no DSP extension) reads the plain rows.
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-dot4-\(n)-\(outputs)-\(next)"))
        #expect(report.isBitExact, "host, \(context): \(report.firstMismatch ?? "")")
    }

    /// The same streams on the Cortex-M7 (its own timing, the same code).
    @Test(arguments: [(64, 10, 127, 24, 0), (131, 6, 127, 24, 5)])
    func denseLayersAsStreamsAreBitExactOnTheSTM32F746Discovery(n: Int, outputs: Int, magnitude: Int, accumulator: Int, next: Int) throws {
        let (program, split) = try Self.program(n: n, outputs: outputs, magnitude: magnitude, seed: UInt64(n * 31 + outputs), next: next)
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "stm32f746disco", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("m7-dot4-\(n)-\(outputs)-\(next)"), "M7, n \(n), outputs \(outputs)")
        #expect(source.contains("#if defined(MCU_DSP_STREAM)"))
    }

    /// A 3x3 convolution `x [5,5,channels] -> [.., filters]` at 8 bits (weights in ±40, the input
    /// over the whole int8 range), padded by one on every side or not; `pooled`: then a ReLU and a
    /// 2x2 max pool (the ReLU fused into the requantization, the pool four channels a word where
    /// the filters are a multiple of 4).
    static func convolution(channels: Int, filters: Int, padded: Bool, pooled: Bool = false, kernel k: Int = 3, seed: UInt64) throws -> (FixedProgram, DatasetSplit) {
        var generator = SeededGenerator(seed: seed)
        let size = filters * k * k * channels
        let weights = (0..<size).map { _ in Double(Int(generator.next() % 81) - 40) }
        let bias = (0..<filters).map { _ in Double(Int(generator.next() % 41) - 20) }
        let p = padded ? 1 : 0
        let window = Window(kernelHeight: k, kernelWidth: k, padTop: p, padLeft: p, padBottom: p, padRight: p)
        let graph = try Graph.checked(
            name: "conv\(channels)x\(filters)", input: .init(name: "x", shape: Shape([5, 5, channels]), isSequence: false), output: "y",
            constants: ["c.W": Tensor(shape: Shape([filters, k, k, channels]), values: weights), "c.b": Tensor(shape: Shape([filters]), values: bias)],
            nodes: [Node(name: "c", op: .conv2D(window), inputs: ["x"], output: pooled ? "h" : "y", weights: ["W": "c.W", "b": "c.b"])]
                + (pooled ? [Node(name: "r", op: .relu, inputs: ["h"], output: "hr"),
                             Node(name: "p", op: .maxPool(Window(kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)), inputs: ["hr"], output: "y")] : []))
        let samples = 3
        let inputs = (0..<(samples * 25 * channels)).map { i in i % 11 == 0 ? (i % 2 == 0 ? -128.0 : 127.0) : Double(Int(generator.next() % 256) - 128) }
        let split = DatasetSplit(name: "test", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: Shape([5, 5, channels]), maxSteps: 1)
        let config = QuantConfig(formats: [
            "x": TensorFormat(bits: 8, fracBits: 0), "c.W": TensorFormat(bits: 8, fracBits: 0), "c.b": TensorFormat(bits: 8, fracBits: 0),
            "y": TensorFormat.fitting(maxAbs: Double(9 * channels * 40 * 128) / 4, bits: 8),
            "h": TensorFormat.fitting(maxAbs: Double(9 * channels * 40 * 128) / 4, bits: 8),
            "hr": TensorFormat.fitting(maxAbs: Double(9 * channels * 40 * 128) / 4, bits: 8),
        ])
        return (try FixedProgram(graph: graph, config: config), split)
    }

    /// (channels, filters, padded, the kernel the blocks call): gathered patches of 9 and 18 bytes
    /// (blocks written out group by group, `mcu_x4i_group`, one to five blocks, padded or not),
    /// kernel rows interleaved as segments (C a multiple of 4 with padding; C = 3 without, a row of
    /// 9 with one column left), widened to int16 where the filters are a multiple of 4
    /// (`mcu_dot16x4i`: rows of 8 to 36 columns, a turn of 32, a remainder of one), and kernel rows
    /// that padding narrows off the groups of four (C = 3, padded: `mcu_dot8x4`); filter counts
    /// with 0 to 3 left over.
    static let convolutionCases: [(Int, Int, Bool, String)] = [
        (1, 6, true, "mcu_x4i_group("), (2, 5, true, "mcu_x4i_group("), (1, 8, false, "mcu_x4i_group("), (2, 20, true, "mcu_x4i_group("),
        (4, 7, true, "mcu_dot8x4i("), (3, 5, false, "mcu_dot8x4i("), (3, 8, false, "mcu_dot16x4i("), (4, 8, true, "mcu_dot16x4i("),
        (3, 5, true, "mcu_dot8x4("), (8, 9, true, "mcu_dot8x4i("), (12, 4, false, "mcu_dot16x4i("), (12, 8, true, "mcu_dot16x4i("),
    ]

    @Test(arguments: convolutionCases)
    func convolutionBlocksAreBitExactOnTheNano33BLE(channels: Int, filters: Int, padded: Bool, kernel: String) throws {
        let (program, split) = try Self.convolution(channels: channels, filters: filters, padded: padded, seed: UInt64(channels * 100 + filters))
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "nano33ble", split: split, samples: 3,
                                                           directory: makeTemporaryDirectory("conv4-\(channels)-\(filters)-\(padded)"), "C \(channels), \(filters) filters, padded \(padded)")
        #expect(source.contains(" \(kernel)s, "), "C \(channels), \(filters) filters, padded \(padded)")
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-conv4-\(channels)-\(filters)"))
        #expect(report.isBitExact, "host, C \(channels): \(report.firstMismatch ?? "")")
    }

    /// The constants the cost model counts on the Cortex-M4 are those the firmware holds: a
    /// convolution over gathered patches whose blocks of four filters are all written out has its
    /// weights and bias folded into its code by gcc (`CEmitter.foldedConstants`: 8 filters), and not
    /// with filters left to a loop (6) or blocks looped over (20).
    @Test(arguments: [(1, 8, true), (2, 16, true), (1, 6, false), (2, 20, false), (4, 8, false)])
    func foldedConstantsAreTheArraysTheFirmwareDoesNotHold(channels: Int, filters: Int, folded: Bool) throws {
        let (program, split) = try Self.convolution(channels: channels, filters: filters, padded: false, seed: UInt64(channels * 100 + filters))
        #expect(CEmitter.foldedConstants(of: program) == (folded ? ["c.W", "c.b"] : []), "C \(channels), \(filters) filters")
        let build = try ProgramFirmware.build(program: program, device: try Self.device("nano33ble"), split: split, maxSamples: 1,
                                              directory: makeTemporaryDirectory("folded-\(channels)-\(filters)")).build
        #expect((build.symbolBytes["mcu_c_W"] == nil) == folded, "C \(channels), \(filters) filters: \(build.symbolBytes.keys.sorted())")
        let arrays = ["mcu_c_W", "mcu_c_b"].compactMap { build.symbolBytes[$0] }.reduce(0, +)
        #expect(CostModel.constantBytes(program, dsp: true) == arrays, "C \(channels), \(filters) filters")
    }

    /// A pointwise convolution of two channels: a gathered patch of two bytes, no whole group of four.
    @Test func patchesShorterThanAGroupAreBitExactOnTheNano33BLE() throws {
        let (program, split) = try Self.convolution(channels: 2, filters: 8, padded: false, kernel: 1, seed: 17)
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "nano33ble", split: split, samples: 3,
                                                           directory: makeTemporaryDirectory("conv1x1-2-8"), "1x1, C 2, 8 filters")
        #expect(source.contains("s[0] += (int16_t)(wb[0] * v);"))
    }

    /// (channels, filters): a convolution, its ReLU fused as one USAT (`mcu_rq8_relu_32`, with a 32-bit accumulator) and a 2x2
    /// max pool four channels a word (`mcu_max8x4`, filters a multiple of 4) or channel by channel.
    @Test(arguments: [(1, 8), (4, 12), (3, 6)])
    func reluAndMaxPoolAreBitExactOnTheNano33BLE(channels: Int, filters: Int) throws {
        let (program, split) = try Self.convolution(channels: channels, filters: filters, padded: true, pooled: true, seed: UInt64(channels * 31 + filters))
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "nano33ble", split: split, samples: 3,
                                                           directory: makeTemporaryDirectory("pool4-\(channels)-\(filters)"), "C \(channels), \(filters) filters, pooled")
        // One channel: a 16-bit accumulator, requantized and clamped in C.
        #expect(source.contains("mcu_rq8_relu_32(acc, ") == (channels > 1))
        #expect(source.contains("m = mcu_max8x4(m, v);") == (filters % 4 == 0))
        let report = try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("host-pool4-\(channels)-\(filters)"))
        #expect(report.isBitExact, "host, C \(channels), pooled: \(report.firstMismatch ?? "")")
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
        let source = try SpecialisedKernelTests.runOnBoard(program, board: board, split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("dot-\(board)-\(n)-\(magnitude)"), "\(board), n \(n), a\(accumulator)")
        #expect(source.contains("mcu_dot8_a\(accumulator)(") != short)
        // Rows of up to `assemblyRowLimit` (not written out in C) are one block of assembly each on
        // AVR, their inputs in registers up to `registerRowLimit`.
        let rows = !short && n <= CEmitter.assemblyRowLimit
        #expect(CEmitter.rowsInAssembly(plan, step: step, program: program, far: []) == (rows ? n : nil), "n \(n)")
        if rows {
            #expect(source.contains(n <= CEmitter.registerRowLimit ? "\"mov %[u], %[x0]" : "\"ld %[u], X+"), "n \(n)")
        }
    }

    /// A 24-bit sum rounded by 8 bits into an int8 is requantized inside the block of a row; the
    /// rest of the requantizations (other shifts) by `mcu_rq8_24`.
    @Test(arguments: [(4, -8), (12, -8), (16, -8), (12, -7), (16, -10)])
    func rowsRequantizedInTheirBlockAreBitExactOnTheUno(n: Int, outputFracBits: Int) throws {
        let (program, split) = try Self.program(n: n, outputs: 5, magnitude: 127, seed: UInt64(n * 31), outputFracBits: outputFracBits)
        guard case let .linear(plan)? = program.steps.first?.kernel else {
            Issue.record("the dense layer is not a linear kernel")
            return
        }
        #expect(plan.accBits == 32 && plan.bound < 8_388_608, "n \(n), bound \(plan.bound)")
        let source = try SpecialisedKernelTests.runOnBoard(program, board: "uno", split: split, samples: 4,
                                                           directory: makeTemporaryDirectory("rows-rq-\(n)-\(outputFracBits)"), "n \(n), shift \(plan.shift)")
        #expect(source.contains("\"subi %A[s], 0x80") == (plan.shift == 8), "n \(n), shift \(plan.shift)")
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
