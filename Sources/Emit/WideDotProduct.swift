import FixedPoint

/// AVR: the rows of a dense node whose weights or input are 16-bit (or whose 8-bit sum needs all
/// 32 bits), each row's dot product in assembly. avr-gcc writes such a product at the
/// accumulator's width: a 16x16-bit product into a 64-bit sum becomes libgcc's 32x32->64 multiply
/// (`__mulsidi3`, 269 cycles a product on the default model's pick), a 16x8-bit one into 32 bits a
/// 32-bit multiply (72). Here each product is taken at its real width, byte by byte (`mul`,
/// `mulsu`, `muls`: an 8x8 product each, two cycles), and each partial product is added into the
/// sum's bytes at its offset, its sign byte taken from the carry the multiply leaves (bit 15 of
/// its product): 22 cycles for 16x8 bits, 33 for 16x16 (38 into 40 bits), the loop included. The sum is kept modulo
/// 2^32 (or 2^40, for a 64-bit accumulator whose proven bound is below 2^39) and sign-extended:
/// exact, as the layer's proven bound holds for the sum.
///
/// The assembly is written at the node's call site with its row length built in (the products
/// before the loop of four, the loop's count as a constant), and both pointers carried from row to
/// row in the registers the assembly walks (the weights are contiguous; the input pointer is
/// stepped back at each row's end): beside the sum, its pointers and temporaries the node then
/// keeps only its row count, and its frame stays within plain C's (`SpecialisedRAMTests`). Other
/// cores keep the plain loop.
public struct WideDotProduct: Hashable, Sendable {
    /// Weight (flash) and input (RAM) widths, 8 or 16, and the sum's bytes (4 or 5).
    public let weightBits: Int
    public let inputBits: Int
    public let accumulatorBytes: Int
    /// Whether a 40-bit sum is requantized in 32 bits: floor(v / 2^8) fits int32, and for a shift
    /// s >= 9, floor((v + 2^(s-1)) / 2^s) = floor((floor(v / 2^8) + 2^(s-9)) / 2^(s-8)) (the low byte
    /// only adds a fraction below one to a whole numerator), so the 32-bit requantization by s - 8
    /// of floor(v / 2^8) is exact; for s = 8 that value plus bit 7 of v, saturated. Where the shift
    /// is shorter, or a ReLU is fused into the store, the sum is widened to int64 first.
    public let requantizesFrom32Bits: Bool

    /// The bound the 5-byte form takes: below 2^39, and so far below that the sum less its low byte
    /// plus one still fits int32 (`requantizesFrom32Bits`).
    static let fortyBitLimit = 549_755_813_888.0 - 512
    /// The longest row: the loop's count of steps of four is one byte.
    public static let longestRow = 1_023

    /// The dot product of `step`, a dense node, or nil where it is not emitted so: its weights far,
    /// its operands both 8-bit and taken by `mcu_dot8_aN`, its rows longer than `longestRow`, or its
    /// accumulator 16-bit or past 2^39.
    public static func of(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> WideDotProduct? {
        guard case .dense = plan.shape, !far.contains(plan.weights),
              let weights = program.constants[plan.weights], let x = step.inputs.first?.bits,
              [8, 16].contains(weights.format.bits), [8, 16].contains(x),
              let k = weights.shape.dims.last, k <= longestRow,
              CEmitter.shortRowLength(plan, step: step, program: program, far: far) == nil,
              CEmitter.dot8Width(plan, step: step, program: program, far: far) == nil else { return nil }
        switch plan.accBits {
        case 32:
            return WideDotProduct(weightBits: weights.format.bits, inputBits: x, accumulatorBytes: 4, requantizesFrom32Bits: false)
        case 64 where plan.bound < fortyBitLimit:
            return WideDotProduct(weightBits: weights.format.bits, inputBits: x, accumulatorBytes: 5,
                                  requantizesFrom32Bits: plan.shift >= 8 && ClampFusion.clamp(after: step, in: program, far: far) == nil)
        default: return nil
        }
    }

    /// Whether `step`'s 40-bit sum is requantized in 32 bits (`requantizesFrom32Bits`).
    public static func requantizesFrom32Bits(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Bool {
        of(plan, step: step, program: program, far: far)?.requantizesFrom32Bits ?? false
    }

    /// The kernel's name in cost terms and comments (`.r32`: requantized from 32 bits).
    public var variant: String { "dense.wide.w\(weightBits).x\(inputBits).a\(accumulatorBytes * 8)\(requantizesFrom32Bits ? ".r32" : "")" }

    /// The rows of the node: `rows` outputs, each `store` (of `acc`) after the sum of `initial` (an
    /// expression of `o`, the row) and row o of `weights` (a flash array of k-long rows) times `x`.
    /// A 40-bit sum is `acc` as an int64 for `store`, or, where it `requantizesFrom32Bits` by the
    /// node's `shift`, as an int32 less its low byte for `store32`.
    func emitRows(rows: Int, length k: Int, weights: String, x: String, initial: String, store: String, store32: String,
                  shift: Int, into c: inout CWriter) {
        let (wt, xt) = ("int\(weightBits)_t", "int\(inputBits)_t")
        let sum = accumulatorBytes == 4 ? "int32_t" : "uint32_t"
        c.line("/* Each row's \(weightBits)x\(inputBits)-bit products in assembly (WideDotProduct), the sum in \(accumulatorBytes) bytes. */")
        c.line("const \(wt) *wp = \(weights);")
        c.line("const \(xt) *xp = \(x);")
        c.block("for (mcu_index_t o = 0; o < \(rows); o++)") { c in
            if accumulatorBytes == 4 {
                c.line("\(sum) acc = \(initial);")
            } else {
                // The initial value's low four bytes and its fifth (it fits 40 bits: the bound counts it).
                c.line("const int64_t start = \(initial);")
                c.line("\(sum) low = (uint32_t)((uint64_t)start & 0xFFFFFFFFu);")
                c.line("uint8_t high = (uint8_t)(((uint64_t)start >> 32) & 0xFFu);")
            }
            c.line("uint8_t " + temporaries(length: k).joined(separator: ", ") + ";")
            c.line("__asm__ volatile (")
            for line in assembly(length: k) { c.line("    " + line) }
            var outputs = ["[acc] \"+r\" (\(accumulatorBytes == 4 ? "acc" : "low"))"]
            if accumulatorBytes > 4 { outputs.append("[hi] \"+r\" (high)") }
            outputs += ["[w] \"+z\" (wp)", "[x] \"+x\" (xp)"]
            outputs += temporaries(length: k).map { "[\($0)] \"=&\(Self.constraint($0))\" (\($0))" }
            c.line("    : " + outputs.joined(separator: ", "))
            c.line("    :")
            c.line("    : \"memory\");")
            if requantizesFrom32Bits {
                // floor(high:low / 2^8) as an int32: its bytes as unsigned, less 2^32 where the top bit is set.
                c.line("const uint32_t bytes = (low >> 8) | ((uint32_t)high << 24);")
                c.line("const int32_t shifted = (high & 0x80u) != 0u ? -(int32_t)(~bytes) - 1 : (int32_t)bytes;")
                c.line("const int32_t acc = \(shift == 8 ? "shifted + (int32_t)((low >> 7) & 1u)" : "shifted");")
                c.line(store32)
            } else {
                if accumulatorBytes > 4 {
                    // high:low as an int64: below 2^40 as unsigned, less 2^40 where its top bit is set.
                    c.line("const uint64_t bits = ((uint64_t)high << 32) | low;")
                    c.line("const int64_t acc = (high & 0x80u) != 0u ? -(int64_t)((UINT64_C(1) << 40) - bits) : (int64_t)bits;")
                }
                c.line(store)
            }
        }
    }

    /// `steps` counts the loop (ldi needs r16-r31); MULSU takes r16-r23 only (avr-gcc's "a").
    private static func constraint(_ name: String) -> String {
        switch name {
        case "steps": return "d"
        case "w0", "w1", "x0", "x1": return "a"
        default: return "r"
        }
    }

    private func temporaries(length k: Int) -> [String] {
        var names = ["w0"] + (weightBits == 16 ? ["w1"] : []) + ["x0"] + (inputBits == 16 ? ["x1"] : [])
        if pieces.contains(where: { $0.signed && $0.offset + 2 < accumulatorBytes }) { names.append("s") }
        if needsZero { names.append("z") }
        if k / 4 > 1 { names.append("steps") }
        return names
    }

    private var needsZero: Bool { pieces.contains { !$0.signed && $0.offset + 2 < accumulatorBytes } }

    /// One row: the k mod 4 products first, then a loop of four (a single turn without it), then
    /// the input pointer stepped back to the row's start; r1, which MUL* overwrite, cleared.
    func assembly(length k: Int) -> [String] {
        var lines: [String] = []
        if needsZero { lines.append(#""clr %[z]\n\t""#) }
        for _ in 0..<(k % 4) { lines.append(product) }
        let steps = k / 4
        if steps == 1 {
            for _ in 0..<4 { lines.append(product) }
        } else if steps > 1 {
            // Four products are longer than a conditional branch reaches: the loop closes with rjmp.
            lines.append("\"ldi %[steps], \(steps)\\n\\t\" \"1:\\n\\t\"")
            for _ in 0..<4 { lines.append(product) }
            lines.append(#""dec %[steps]\n\t" "breq 2f\n\t" "rjmp 1b\n\t" "2:\n\t""#)
        }
        let bytes = k * inputBits / 8
        lines.append("\"subi %A[x], lo8(\(bytes))\\n\\t\" \"sbci %B[x], hi8(\(bytes))\\n\\t\" \"clr r1\\n\\t\"")
        return lines
    }

    /// The 8x8-bit pieces of one product: weight byte i times input byte j at byte offset i + j,
    /// signed where either byte is its operand's top one.
    private var pieces: [(instruction: String, offset: Int, signed: Bool)] {
        let (wBytes, xBytes) = (weightBits / 8, inputBits / 8)
        var result: [(String, Int, Bool)] = []
        for i in 0..<wBytes {
            for j in 0..<xBytes {
                let (sw, sx) = (i == wBytes - 1, j == xBytes - 1)
                let instruction: String
                switch (sw, sx) {
                case (false, false): instruction = "mul %[w\(i)], %[x\(j)]"
                case (true, true): instruction = "muls %[w\(i)], %[x\(j)]"
                case (true, false): instruction = "mulsu %[w\(i)], %[x\(j)]"
                case (false, true): instruction = "mulsu %[x\(j)], %[w\(i)]"
                }
                result.append((instruction, i + j, sw || sx))
            }
        }
        return result
    }

    /// One product as one line of C string literals: its loads, then each piece and its adds.
    var product: String {
        var asm: [String] = (0..<weightBits / 8).map { "lpm %[w\($0)], Z+" } + (0..<inputBits / 8).map { "ld %[x\($0)], X+" }
        for piece in pieces {
            asm.append(piece.instruction)
            let extended = piece.offset + 2 < accumulatorBytes
            if piece.signed && extended { asm.append("sbc %[s], %[s]") }
            asm.append("add \(byte(piece.offset)), r0")
            if piece.offset + 1 < accumulatorBytes { asm.append("adc \(byte(piece.offset + 1)), r1") }
            for b in (piece.offset + 2)..<max(accumulatorBytes, piece.offset + 2) {
                asm.append("adc \(byte(b)), \(piece.signed ? "%[s]" : "%[z]")")
            }
        }
        return asm.map { "\"\($0)\\n\\t\"" }.joined(separator: " ")
    }

    private func byte(_ k: Int) -> String { k < 4 ? "%\(["A", "B", "C", "D"][k])[acc]" : "%[hi]" }
}
