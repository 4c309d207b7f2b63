import FixedPoint
import ModelIR

/// A dense layer of 8-bit weights and 8-bit input on a core with the DSP extension (Cortex-M4/M7),
/// emitted as one stream of words in flash that a single pointer walks, four rows (a block) at a
/// time: per block its four initial sums (bias · 2^biasShift as int32; 0 without a bias), then per
/// group of four columns the rows' weights widened to int16 pairs as SMLAD takes them against the
/// SXTB16 halves of an input word (the even columns w0, w2 of rows 0 to 3, then the odd ones w1, w3),
/// then the last k mod 4 columns (rows 0 and 1 in a word, then rows 2 and 3). Past 16 groups the
/// groups run eight a turn of a loop, and a word after each turn says whether another follows (0)
/// or not (1). Rows past the last (the last block's padding) have zero weights and are not stored.
///
/// Why a stream: the node's block loop then holds ten registers, as a plain C node does (its 20-byte
/// frame saves r4-r7 and lr beside r0-r3 and r12): the assembly's nine (four sums, the stream, the
/// input, an input word, two weight words) and the output pointer. The bias and the loop's end are
/// in the stream or loaded afresh each block (movw/movt in `volatile` assembly, which gcc can
/// neither hoist nor keep in a register), and so is the input's address. The kernels before it
/// (`mcu_dot8x4i`, interleaved int8 rows, the bias read and shifted in C) held twelve to fourteen
/// registers, and gcc saved r4-r11: 36-byte frames, up to 16 bytes of RAM above plain C's.
/// The price is flash: two bytes per weight and four per row for the sums.
public struct FourRowStream: Equatable, Sendable {
    /// Rows (outputs) and columns (inputs) of W.
    public let rows: Int, columns: Int
    /// The bias constant, read into the stream's initial sums.
    public let bias: String?
    public let biasShift: Int

    public var blocks: Int { (rows + 3) / 4 }
    public var groups: Int { columns / 4 }
    /// The columns past the last group of four.
    public var tail: Int { columns % 4 }
    /// Turns of the loop over groups (eight groups a turn), past `writtenOutGroups`; 0 when the
    /// groups are all written out.
    public var turns: Int { groups > Self.writtenOutGroups ? groups / 8 : 0 }
    /// Groups written out in the node's assembly: all of them, or those after the loop's turns.
    public var writtenGroups: Int { turns > 0 ? groups % 8 : groups }
    /// Words of one block.
    public var blockWords: Int { 4 + 8 * groups + 2 * tail + turns }

    /// The most groups of four columns written out without a loop (64 columns).
    public static let writtenOutGroups = 16

    /// The stream of a dense node, or nil where it does not apply: the node must be emitted with
    /// `mcu_dot8_aN` (8-bit weights and input, near, a bound within 24 bits), its bias shift
    /// non-negative and every initial sum within int32. (Whether another node reads the same
    /// weights or bias is `streams(of:far:)`'s to say.)
    public static func of(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> FourRowStream? {
        guard case .dense = plan.shape, CEmitter.dot8Width(plan, step: step, program: program, far: far) != nil,
              let dims = program.constants[plan.weights]?.shape.dims, dims.count == 2, dims[0] >= 1, dims[1] >= 1,
              plan.biasShift >= 0, plan.biasShift < 32 else { return nil }
        if let b = plan.bias {
            guard !far.contains(b), let q = program.constants[b], q.values.count == dims[0],
                  q.values.allSatisfy({ $0.magnitude < UInt64(1) << (31 - plan.biasShift) }) else { return nil }
        }
        return FourRowStream(rows: dims[0], columns: dims[1], bias: plan.bias, biasShift: plan.biasShift)
    }

    /// The streams of `program`, by weight array: every dense node `of` applies to whose weights
    /// and bias no other node reads.
    public static func streams(of program: FixedProgram, far: Set<String>) -> [String: FourRowStream] {
        var readers: [String: Int] = [:]
        var found: [String: FourRowStream] = [:]
        for step in program.allSteps {
            for name in CEmitter.constantsRead(by: step) { readers[name, default: 0] += 1 }
            if case let .linear(plan) = step.kernel, let stream = of(plan, step: step, program: program, far: far) { found[plan.weights] = stream }
        }
        return found.filter { weights, stream in readers[weights] == 1 && stream.bias.map { readers[$0] == 1 } ?? true }
    }

    /// Flash the `streams` of `program` take beyond its weight and bias arrays as they are elsewhere.
    static func extraBytes(of program: FixedProgram, streams: [String: FourRowStream]) -> Int {
        streams.reduce(0) { total, entry in
            let (weights, stream) = entry
            let plain = (program.constants[weights]?.values.count ?? 0) + (stream.bias.flatMap { program.constants[$0] }.map { $0.values.count * $0.format.bits / 8 } ?? 0)
            return total + 4 * stream.blocks * stream.blockWords - plain
        }
    }

    /// The stream's words from W's values (rows of `columns`) and the bias's.
    func words(weights: [Int64], bias: [Int64]?) -> [UInt32] {
        func w(_ row: Int, _ column: Int) -> Int64 { row < rows ? weights[row * columns + column] : 0 }
        func pair(_ lo: Int64, _ hi: Int64) -> UInt32 {
            UInt32(UInt16(truncatingIfNeeded: lo)) | UInt32(UInt16(truncatingIfNeeded: hi)) << 16
        }
        var out: [UInt32] = []
        out.reserveCapacity(blocks * blockWords)
        for block in 0..<blocks {
            let r = 4 * block
            for j in 0..<4 {
                let sum = r + j < rows ? (bias?[r + j] ?? 0) << biasShift : 0
                out.append(UInt32(truncatingIfNeeded: sum))
            }
            for g in 0..<groups {
                for (c0, c1) in [(0, 2), (1, 3)] {
                    for j in 0..<4 { out.append(pair(w(r + j, 4 * g + c0), w(r + j, 4 * g + c1))) }
                }
                if turns > 0, g < 8 * turns, g % 8 == 7 { out.append(g == 8 * turns - 1 ? 1 : 0) }
            }
            for c in 0..<tail {
                out.append(pair(w(r, 4 * groups + c), w(r + 1, 4 * groups + c)))
                out.append(pair(w(r + 2, 4 * groups + c), w(r + 3, 4 * groups + c)))
            }
        }
        return out
    }

    /// The node's code under `MCU_DSP_STREAM`: block after block, the input's address loaded (`x`
    /// is `mcu_in` or an arena address), the block's sums in assembly, each stored through `yp`
    /// as `rq` (an expression of `acc`, of type `accType`) makes it, until the end of `y`.
    func emitNode(weights: String, x: String, y: String, outputType: String, accType t: String, rq: String, into c: inout CWriter) {
        c.line("const uint32_t *wb = \(weights);")
        if blocks == 1 {
            // One block: no loop, so no output pointer beside the assembly's registers (a plain C
            // node of a row or three saves only r4-r6 and lr).
            c.scope { c in
                emitBlock(x: x, into: &c)
                c.line("\(outputType) *yp;")
                c.line(#"__asm__ volatile ("movw %0, #:lower16:%c1\n\tmovt %0, #:upper16:%c1" : "=r" (yp) : "i" ("# + y + "));")
                for j in 0..<rows { c.line("{ const \(t) acc = (\(t))s\(j); yp[\(j)] = \(rq); }") }
            }
            return
        }
        c.line("\(outputType) *yp = \(y);")
        c.block("for (;;)") { c in
            emitBlock(x: x, into: &c)
            let first = rows % 4 == 0 ? 4 : rows % 4
            func end(_ index: Int, into c: inout CWriter) {
                c.line("\(outputType) *e;")
                c.line(#"__asm__ volatile ("movw %0, #:lower16:%c1\n\tmovt %0, #:upper16:%c1" : "=r" (e) : "i" ("# + "\(y) + \(index)));")
            }
            let sums = ["s0", "s1", "s2", "s3"]
            for j in 0..<first { c.line("{ const \(t) acc = (\(t))\(sums[j]); yp[\(j)] = \(rq); }") }
            if first == 4 {
                c.line("yp += 4;")
                end(rows, into: &c)
                c.line("if (yp == e) break;")
            } else {
                end(rows - first, into: &c)
                c.line("if (yp == e) break;")
                for j in first..<4 { c.line("{ const \(t) acc = (\(t))\(sums[j]); yp[\(j)] = \(rq); }") }
                c.line("yp += 4;")
            }
        }
    }

    /// The input's address loaded, and the block's assembly: its four sums in s0 to s3.
    private func emitBlock(x: String, into c: inout CWriter) {
        c.line("const int8_t *x;")
        if x == "mcu_in" {
            // The caller's input pointer, read from memory (an "m" operand would take a register for its address).
            c.line(#"__asm__ volatile ("movw %0, #:lower16:%c1\n\tmovt %0, #:upper16:%c1\n\tldr %0, [%0]" : "=r" (x) : "i" (&mcu_in) : "memory");"#)
        } else {
            c.line(#"__asm__ volatile ("movw %0, #:lower16:%c1\n\tmovt %0, #:upper16:%c1" : "=r" (x) : "i" ("# + x + "));")
        }
        c.line("int32_t s0, s1, s2, s3;")
        c.line("uint32_t xv, a, b;")
        c.line("__asm__ (")
        for line in assembly() { c.line("    " + line) }
        c.line(#"    : [s0] "=&r" (s0), [s1] "=&r" (s1), [s2] "=&r" (s2), [s3] "=&r" (s3), [w] "+r" (wb), [xv] "=&r" (xv), [a] "=&r" (a), [b] "=&r" (b)"#
               + (turns > 0 ? #", [x] "+r" (x)"# : ""))
        c.line("    : " + (turns > 0 ? "" : #"[x] "r" (x), "#)
               + #"[xm] "m" (*(const int8_t (*)["# + "\(columns)" + #"])x), [wm] "m" (*(const uint32_t (*)["# + "\(blockWords)" + "])wb)"
               + (turns > 0 ? #" : "cc");"# : ");"))
    }

    /// The block's assembly, as C string literals: its four sums loaded, the groups (in turns of
    /// eight past `writtenOutGroups`), then the tail's columns one by one.
    func assembly() -> [String] {
        var lines = [#""ldr %[s0], [%[w]], #4\n\t" "ldr %[s1], [%[w]], #4\n\t" "ldr %[s2], [%[w]], #4\n\t" "ldr %[s3], [%[w]], #4\n\t""#]
        func group(at offset: Int) -> [String] {
            ["even", "odd"].map { half in
                #""ldr %[xv], [%[x], #"# + "\(offset)" + #"]\n\t" "ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t" "#
                    + (half == "even" ? #""sxtb16 %[xv], %[xv]\n\t" "# : #""sxtb16 %[xv], %[xv], ror #8\n\t" "#)
                    + #""smlad %[s0], %[a], %[xv], %[s0]\n\t" "smlad %[s1], %[b], %[xv], %[s1]\n\t" "#
                    + #""ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t" "#
                    + #""smlad %[s2], %[a], %[xv], %[s2]\n\t" "smlad %[s3], %[b], %[xv], %[s3]\n\t""#
            }
        }
        if turns > 0 {
            lines.append(#""1:\n\t""#)
            for g in 0..<8 { lines += group(at: 4 * g) }
            lines.append(#""adds %[x], %[x], #32\n\t" "ldr %[a], [%[w]], #4\n\t" "cmp %[a], #0\n\t" "beq 1b\n\t""#)
        }
        for g in 0..<writtenGroups { lines += group(at: 4 * g) }
        for column in 0..<tail {
            lines.append(#""ldrsb %[xv], [%[x], #"# + "\(4 * writtenGroups + column)" + #"]\n\t" "ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t" "#
                         + #""smlabb %[s0], %[a], %[xv], %[s0]\n\t" "smlatb %[s1], %[a], %[xv], %[s1]\n\t" "#
                         + #""smlabb %[s2], %[b], %[xv], %[s2]\n\t" "smlatb %[s3], %[b], %[xv], %[s3]\n\t""#)
        }
        return lines
    }
}
