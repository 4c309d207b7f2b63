import Devices
import Foundation
import Testing
import TestSupport
@testable import Emit
@testable import FixedPoint
import ModelIR
import Tuner

/// The emitted C helpers (rounding shifts, saturation, the inline requantization the emitter writes,
/// and the sigmoid/tanh/exp kernels) against the Swift primitives: compiled with the host compiler
/// under UBSan and compared value by value over every int8 pair and every int16 value.
@Suite struct CArithmeticExhaustiveTests {
    /// A minimal program, only to drive the emitter's expression writer.
    func emitter() throws -> CEmitter {
        let graph = try Graph.checked(name: "t", input: .init(name: "x", shape: Shape([1]), isSequence: false), output: "y",
                                      constants: [:], nodes: [Node(name: "r", op: .relu, inputs: ["x"], output: "y")])
        let config = QuantConfig(formats: ["x": TensorFormat(bits: 16, fracBits: 0), "y": TensorFormat(bits: 16, fracBits: 0)])
        return CEmitter(program: try FixedProgram(graph: graph, config: config))
    }

    /// Compiles `main` after the runtime and returns what it wrote to out.bin, as int32 values.
    func compileAndRun(runtime: CRuntime, main: String) throws -> [Int32] {
        let dir = makeTemporaryDirectory("carith")
        var w = CWriter()
        w.line("#include <stdint.h>")
        w.line("#include <stdio.h>")
        w.line("#define MCU_FLASH")
        w.line("#define MCU_R8(p) (*(p))")
        w.line("#define MCU_R16(p) (*(p))")
        runtime.emit(into: &w)
        w.raw(main)
        try w.text.write(toFile: "\(dir)/t.c", atomically: true, encoding: .utf8)
        let cc = try #require(ProcessRunner.find("cc"))
        let build = try ProcessRunner.run(cc, BitExactCheck.compilerFlags + ["t.c", "-o", "t"], in: dir)
        #expect(build.status == 0, "\(build.stderr)")
        let run = try ProcessRunner.run("\(dir)/t", [], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out.bin"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    }

    /// (accumulator bits, shift) pairs the planner can produce for a product of two int8 values:
    /// the rounding term plus |a·b| <= 2^14 must fit the accumulator.
    static let int8Cases: [(acc: Int, shift: Int)] =
        (-9...14).map { (16, $0) } + (-9...20).map { (32, $0) } + [(64, -9), (64, 0), (64, 7), (64, 30)]

    @Test func requantizationOfEveryInt8Product() throws {
        var e = try emitter()
        var body = "int main(void) {\n    FILE *f = fopen(\"out.bin\", \"wb\");\n    if (!f) return 1;\n"
        for (acc, shift) in Self.int8Cases {
            for out in [8, 16] {
                let expr = e.requant("acc", accBits: acc, shift: shift, outBits: out, bound: 16384 + (shift > 0 ? Double(1 << (shift - 1)) : 0))
                body += "    for (int a = -128; a < 128; a++) for (int b = -128; b < 128; b++) {\n"
                body += "        int\(acc)_t acc = (int\(acc)_t)((int\(acc)_t)a * (int\(acc)_t)b);\n"
                body += "        int32_t r = \(expr);\n        fwrite(&r, sizeof r, 1, f);\n    }\n"
            }
        }
        body += "    return fclose(f);\n}\n"
        let values = try compileAndRun(runtime: e.runtime, main: body)
        var expected: [Int32] = []
        for (_, shift) in Self.int8Cases {
            for out in [8, 16] {
                for a in -128...127 {
                    for b in -128...127 {
                        expected.append(Int32(IntegerArithmetic.requantized(Int64(a * b), shift: shift, bits: out)))
                    }
                }
            }
        }
        #expect(values.count == expected.count)
        let mismatches = zip(values, expected).filter { $0 != $1 }.count
        #expect(mismatches == 0)
    }

    /// The C of `mcu_add_sat8` and `mcu_mul_rq8_1` .. `_7` (the AVR runs their assembly, checked on
    /// the simulator in `NarrowElementwiseTests`) over every int8 pair.
    @Test func saturatedSumsAndRequantizedProductsOfEveryInt8Pair() throws {
        var runtime = CRuntime()
        runtime.addSat8 = true
        runtime.narrowProducts = Set(1...7)
        var body = "int main(void) {\n    FILE *f = fopen(\"out.bin\", \"wb\");\n    if (!f) return 1;\n"
        body += "    for (int a = -128; a < 128; a++) for (int b = -128; b < 128; b++) {\n"
        body += "        int32_t r = mcu_add_sat8((int8_t)a, (int8_t)b);\n        fwrite(&r, sizeof r, 1, f);\n"
        for s in 1...7 { body += "        r = mcu_mul_rq8_\(s)((int8_t)a, (int8_t)b);\n        fwrite(&r, sizeof r, 1, f);\n" }
        body += "    }\n    return fclose(f);\n}\n"
        let values = try compileAndRun(runtime: runtime, main: body)
        var expected: [Int32] = []
        for a in -128...127 {
            for b in -128...127 {
                expected.append(Int32(IntegerArithmetic.requantized(Int64(a + b), shift: 0, bits: 8)))
                for s in 1...7 { expected.append(Int32(IntegerArithmetic.requantized(Int64(a * b), shift: s, bits: 8))) }
            }
        }
        #expect(values.count == expected.count)
        #expect(zip(values, expected).filter { $0 != $1 }.count == 0)
    }

    /// The C of `mcu_mul16x8_rq8_8` .. `_16` (`MixedProduct`, the form an AVR runs) over every
    /// int16 x int8 pair, and `mcu_add_sat16` and `mcu_sub_sat16` (`SaturatingAdd16`) over every
    /// int16 against 67 values spread over the int16 range (its extremes, zero and its neighbours).
    /// The C counts where they differ from the semantics written with a 64-bit value, and writes
    /// every 4,099th result, which is checked against the Swift primitives.
    @Test func productsOfInt16AndInt8AndSaturatedInt16SumsAgainstTheSemantics() throws {
        var runtime = CRuntime()
        runtime.mixedProducts = Set(8...16)
        runtime.requant8 = true
        runtime.addSat16 = true
        runtime.subSat16 = true
        runtime.saturations = [[16, 32]]
        let others = [-32768, -32767, -32766, -1, 0, 1, 32765, 32766, 32767] + (0..<58).map { -32_000 + $0 * 1_103 }
        var main = """
            static int32_t reference(int64_t v, int s, int bits) {
                const int64_t hi = ((int64_t)1 << (bits - 1)) - 1;
                if (s > 0) v = (v + ((int64_t)1 << (s - 1))) >> s;
                return (int32_t)(v > hi ? hi : v < -hi - 1 ? -hi - 1 : v);
            }
            int main(void) {
                FILE *f = fopen("out.bin", "wb");
                if (!f) return 1;
                int32_t mismatches = 0, n = 0, r;
                static const int16_t others[] = {\(others.map(String.init).joined(separator: ", "))};

            """
        for s in 8...16 {
            main += """
                    for (int32_t a = -32768; a < 32768; a++) for (int b = -128; b < 128; b++) {
                        r = mcu_mul16x8_rq8_\(s)((int16_t)a, (int8_t)b);
                        if (r != reference((int64_t)a * b, \(s), 8)) mismatches++;
                        if (n++ % 4099 == 0) fwrite(&r, sizeof r, 1, f);
                    }

                """
        }
        for (name, op) in [("add", "+"), ("sub", "-")] {
            main += """
                    for (int32_t a = -32768; a < 32768; a++) for (unsigned k = 0; k < \(others.count); k++) {
                        r = mcu_\(name)_sat16((int16_t)a, others[k]);
                        if (r != reference((int64_t)a \(op) others[k], 0, 16)) mismatches++;
                        r = mcu_\(name)_sat16(others[k], (int16_t)a);
                        if (r != reference((int64_t)others[k] \(op) a, 0, 16)) mismatches++;
                        if (n++ % 4099 == 0) fwrite(&r, sizeof r, 1, f);
                    }

                """
        }
        main += "    fwrite(&mismatches, sizeof mismatches, 1, f);\n    return fclose(f);\n}\n"
        let values = try compileAndRun(runtime: runtime, main: main)
        // The results written, by their place in the C's loops: 9 shifts x 2^16 x 2^8 products, then
        // 2 x 2^16 x 67 pairs (the second of each pair is written).
        let products = 9 * 65_536 * 256, sums = 65_536 * others.count
        let expected: [Int32] = stride(from: 0, to: products + 2 * sums, by: 4_099).map { n in
            if n < products {
                let (s, i) = (8 + n / (65_536 * 256), n % (65_536 * 256))
                return Int32(IntegerArithmetic.requantized(Int64((i / 256 - 32_768) * (i % 256 - 128)), shift: s, bits: 8))
            }
            let (subtract, i) = ((n - products) >= sums, (n - products) % sums)
            let (a, o) = (i / others.count - 32_768, others[i % others.count])
            return Int32(IntegerArithmetic.requantized(Int64(subtract ? o - a : o + a), shift: 0, bits: 16))
        }
        #expect(values.last == 0, "mismatches against the 64-bit semantics: \(values.last ?? -1)")
        #expect(values.count == expected.count + 1)
        #expect(zip(values, expected).filter { $0 != $1 }.isEmpty, "results that differ from the Swift primitives")
    }

    /// `mcu_rq8_32` (a 32-bit accumulator to 8 bits, the shift done in 16 bits) for every shift
    /// 1-16: a sweep over +-2^25, every value within 3 of both saturation thresholds, and the
    /// extremes a 32-bit accumulator with its rounding term can hold.
    @Test func requantizationOf32BitValuesTo8BitsInSixteenBits() throws {
        var runtime = CRuntime()
        runtime.requant8 = true
        let main = """
            int main(void) {
                FILE *f = fopen("out.bin", "wb");
                if (!f) return 1;
                for (uint8_t s = 1; s <= 16; s++) {
                    int32_t r;
                    for (int32_t v = -(INT32_C(1) << 25); v < (INT32_C(1) << 25); v += 4099) { r = mcu_rq8_32(v, s); fwrite(&r, sizeof r, 1, f); }
                    for (int32_t d = -3; d <= 3; d++) {
                        r = mcu_rq8_32((INT32_C(128) << s) - (INT32_C(1) << (s - 1)) + d, s); fwrite(&r, sizeof r, 1, f);
                        r = mcu_rq8_32(-(INT32_C(128) << s) - (INT32_C(1) << (s - 1)) + d, s); fwrite(&r, sizeof r, 1, f);
                    }
                    r = mcu_rq8_32(INT32_MAX - (INT32_C(1) << (s - 1)), s); fwrite(&r, sizeof r, 1, f);
                    r = mcu_rq8_32(INT32_MIN, s); fwrite(&r, sizeof r, 1, f);
                }
                return fclose(f);
            }

            """
        let values = try compileAndRun(runtime: runtime, main: main)
        var expected: [Int32] = []
        for s in 1...16 {
            var inputs = Array(stride(from: -(Int64(1) << 25), to: Int64(1) << 25, by: 4099))
            for d in Int64(-3)...3 {
                inputs.append((Int64(128) << s) - (Int64(1) << (s - 1)) + d)
                inputs.append(-(Int64(128) << s) - (Int64(1) << (s - 1)) + d)
            }
            inputs += [Int64(Int32.max) - (Int64(1) << (s - 1)), Int64(Int32.min)]
            expected += inputs.map { Int32(IntegerArithmetic.requantized($0, shift: s, bits: 8)) }
        }
        #expect(values.count == expected.count)
        #expect(zip(values, expected).filter { $0 != $1 }.count == 0)
    }

    @Test func requantizationOfEveryInt16() throws {
        var e = try emitter()
        let shifts = [-16, -15, -9, -1, 0, 1, 2, 8, 15, 16, 17, 30]
        var body = "int main(void) {\n    FILE *f = fopen(\"out.bin\", \"wb\");\n    if (!f) return 1;\n"
        for shift in shifts {
            for out in [8, 16] {
                let expr = e.requant("acc", accBits: 32, shift: shift, outBits: out, bound: 32768 + (shift > 0 ? Double(1 << (shift - 1)) : 0))
                body += "    for (int32_t x = -32768; x < 32768; x++) {\n        int32_t acc = x * INT32_C(3) + 1;\n"
                body += "        int32_t r = \(expr);\n        fwrite(&r, sizeof r, 1, f);\n    }\n"
            }
        }
        body += "    return fclose(f);\n}\n"
        let values = try compileAndRun(runtime: e.runtime, main: body)
        var expected: [Int32] = []
        for shift in shifts {
            for out in [8, 16] {
                for x in -32768...32767 { expected.append(Int32(IntegerArithmetic.requantized(Int64(x * 3 + 1), shift: shift, bits: out))) }
            }
        }
        #expect(values.count == expected.count)
        #expect(zip(values, expected).filter { $0 != $1 }.count == 0)
    }

    static let activationFormats = [-24, -14, -13, -5, 0, 3, 4, 5, 6, 8, 9, 10, 11, 12, 15, 16, 17, 20, 28]

    /// Exp through the runtime helper `mcu_exp`, for every int16 input.
    @Test func expOfEveryInt16() throws {
        var runtime = CRuntime()
        runtime.exp = true
        let outputs = [(16, 15), (16, 12), (8, 7), (16, 2), (8, -2)]
        var body = "int main(void) {\n    FILE *f = fopen(\"out.bin\", \"wb\");\n    if (!f) return 1;\n"
        for fx in Self.activationFormats {
            for (bits, fy) in outputs {
                body += "    for (int32_t x = -32768; x < 32768; x++) {\n"
                body += "        int32_t e = mcu_exp(x, \(fx), \(fy), \(bits));\n        fwrite(&e, sizeof e, 1, f);\n    }\n"
            }
        }
        body += "    return fclose(f);\n}\n"
        let values = try compileAndRun(runtime: runtime, main: body)
        var expected: [Int32] = []
        for fx in Self.activationFormats {
            for (bits, fy) in outputs {
                let format = TensorFormat(bits: bits, fracBits: fy)
                for x in Int64(-32768)...32767 { expected.append(Int32(ActivationTables.exp(x, fracBits: fx, output: format))) }
            }
        }
        #expect(values.count == expected.count)
        let firstMismatch = zip(values, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstMismatch == nil, "first mismatch at \(firstMismatch.map { "\($0.offset): C \($0.element.0), Swift \($0.element.1)" } ?? "")")
    }

    /// Sigmoid and tanh as the emitter writes each node (every shift and mask a constant of the
    /// node), over every int16 input, for input formats from far too coarse to far too fine and
    /// 8- and 16-bit outputs: each a one-node program, compiled and compared value by value.
    @Test(arguments: [Op.sigmoid, Op.tanh])
    func sigmoidAndTanhKernelsOfEveryInt16(op: Op) throws {
        // Two samples of 32,768 values (the class index is an int16).
        let count = 32768
        let values = (0..<(2 * count)).map { Double($0 - 32768) }
        // Each also with the AVR's interpolation by byte products (`MCU_BYTE_PRODUCTS`).
        let cases = Self.activationFormats.flatMap { fx in [(16, 15), (8, 7), (16, 2), (8, -2)].flatMap { [(fx, $0.0, $0.1, false), (fx, $0.0, $0.1, true)] } }
        let results = ParallelJobs.map(cases.count, jobs: 2) { i throws -> BitExactCheck.Report in
            let (fx, bits, fy, bytes) = cases[i]
            let graph = try Graph.checked(name: "act", input: .init(name: "x", shape: Shape([count]), isSequence: false), output: "y",
                                          constants: [:], nodes: [Node(name: "f", op: op, inputs: ["x"], output: "y")])
            let config = QuantConfig(formats: ["x": TensorFormat(bits: 16, fracBits: fx), "y": TensorFormat(bits: bits, fracBits: fy)])
            let program = try FixedProgram(graph: graph, config: config)
            // Input x / 2^fx quantizes back to x exactly.
            let split = DatasetSplit(name: "all", inputs: values.map { $0 / Foundation.pow(2, Double(fx)) }, labels: [0, 0],
                                     lengths: nil, sampleShape: Shape([count]), maxSteps: 1)
            return try BitExactCheck.run(program: program, split: split, directory: makeTemporaryDirectory("act-\(fx)-\(bits)-\(fy)"),
                                         defines: bytes ? ["MCU_BYTE_PRODUCTS"] : [])
        }
        for (i, result) in results.enumerated() {
            let report = try result.get()
            #expect(report.isBitExact, "\(op.name) input Q\(cases[i].0), output \(cases[i].1)-bit Q\(cases[i].2)\(cases[i].3 ? ", byte products" : ""): \(report.firstMismatch ?? "")")
        }
    }
}
