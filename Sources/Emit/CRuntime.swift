import FixedPoint

/// The helper functions and tables at the top of `model.c`; only those the program uses are emitted
/// (unused static functions would be warnings under -Wall -Werror).
struct CRuntime {
    var roundingShifts: Set<Int> = []      // accumulator widths with rshr
    var saturations: Set<[Int]> = []       // [outBits, accBits]
    var sigmoid = false, tanh = false, exp = false
    /// Accumulator widths (16, 24) of the 8-bit dot product over weights in flash (`mcu_dot8_aN`).
    var dots: Set<Int> = []
    /// `mcu_dot8x4`: four rows of 8-bit weights against one input, with the DSP extension.
    var rowBlocks = false
    /// `mcu_dot8x4i`: a block of four rows whose weights are interleaved by column groups
    /// (`RowInterleaving`), with the DSP extension.
    var interleavedBlocks = false
    /// `mcu_x4i_group`: one group of four columns of an interleaved block against one input word,
    /// written out by a convolution over a gathered patch, with the DSP extension.
    var patchBlocks = false
    /// `mcu_dot16x4i`: a block of four interleaved rows widened to int16 (`RowInterleaving.Layout.widened`),
    /// with the DSP extension.
    var widenedBlocks = false
    /// `MCU_DSP_STREAM`: where the dense layers read as `FourRowStream`s are emitted so (the DSP
    /// extension, and absolute addresses for movw/movt: not position-independent code).
    var fourRowStreams = false
    /// `mcu_rq8_relu_32`: `mcu_rq8_32` followed by a fused ReLU to 0...127 (one USAT with the DSP extension).
    var requant8ReLU = false
    /// `mcu_max8x4`: the larger of each of four int8 lanes, with the DSP extension (max pools).
    var max8x4 = false
    /// `mcu_clamp16`, for a ReLU applied by the layer before it (`ClampFusion`).
    var clamp16 = false
    /// `mcu_acc24_t`: a 24-bit accumulator on AVR (`__int24`, three bytes to add), 32 bits elsewhere.
    var accumulator24 = false
    /// `mcu_rq8_32`: a 32-bit accumulator requantized to 8 bits with the shift in 16 bits.
    var requant8 = false
    /// `mcu_rq8_24`: on AVR, a 24-bit accumulator requantized to 8 bits in 24 bits.
    var requant8x24 = false
    /// `MCU_R32`: a uint32_t from flash (the norms of `SquaredDistanceExpansion`).
    var read32 = false
    /// `mcu_add_sat8`: the saturated sum of two int8 values (`SaturatingAdd`).
    var addSat8 = false
    /// `mcu_mul_rq8_S`: the product of two int8 values requantized to int8 by S (`NarrowProduct`).
    var narrowProducts: Set<Int> = []
    /// `mcu_mul16x8_rq8_S`: the product of an int16 and an int8 value requantized to int8 by S (`MixedProduct`).
    var mixedProducts: Set<Int> = []
    /// `mcu_add_sat16`, `mcu_sub_sat16`: the saturated sum or difference of two int16 terms (`SaturatingAdd16`).
    var addSat16 = false, subSat16 = false

    func emit(into w: inout CWriter) {
        w.line("/* Every helper below is inlined into each node that calls it, whatever the compiler's heuristics would")
        w.line("   choose from how many nodes call it: a node's code and cycles then depend on that node alone. */")
        w.line("#if defined(__GNUC__)")
        w.line("#define MCU_INLINE static inline __attribute__((always_inline))")
        w.line("#else")
        w.line("#define MCU_INLINE static inline")
        w.line("#endif")
        w.line("/* Arithmetic right shifts of negative values are implementation-defined in C99; GCC and Clang")
        w.line("   define them as floor division, which this code needs. Refuse to compile where that fails. */")
        w.line("typedef char mcu_arithmetic_shift_check[((-3 >> 1) == -2 && (INT32_C(-3) >> 1) == -2) ? 1 : -1];")
        w.line()
        for bits in roundingShifts.sorted() {
            let t = CType.int(bits)
            w.line("/* floor((x + 2^(s-1)) / 2^s) for 1 <= s < \(bits): a right shift rounding halves up. */")
            w.block("MCU_INLINE \(t) mcu_rshr\(bits)(\(t) x, uint8_t s)") { w in
                w.line("return (\(t))((\(t))(x + (\(t))(\(bits == 16 ? "1" : "INT\(bits)_C(1)") << (s - 1))) >> s);")
            }
        }
        let sorted = saturations.sorted(by: { $0.lexicographicallyPrecedes($1) })
        if sorted.contains(where: { $0[1] <= 32 }) {
            w.line("#if defined(__ARM_FEATURE_SAT)")
            w.line("#include <arm_acle.h>")
            w.line("#endif")
        }
        for pair in sorted {
            let (out, acc) = (pair[0], pair[1])
            let hi = (Int64(1) << (out - 1)) - 1
            w.line("/* Saturate a \(acc)-bit value to \(out) bits\(acc <= 32 ? " (one SSAT where the core has it: no branch, so no cost that depends on the data)" : ""). */")
            w.block("MCU_INLINE \(CType.int(out)) mcu_sat\(out)_\(acc)(\(CType.int(acc)) x)") { w in
                if acc <= 32 {
                    w.line("#if defined(__ARM_FEATURE_SAT)")
                    w.line("return (\(CType.int(out)))__ssat(x, \(out));")
                    w.line("#else")
                }
                w.line("return x > \(CType.literal(hi, bits: acc)) ? \(hi) : x < \(CType.literal(-hi - 1, bits: acc)) ? \(CType.literal(-hi - 1, bits: out)) : (\(CType.int(out)))x;")
                if acc <= 32 { w.line("#endif") }
            }
        }
        if !dots.isEmpty {
            w.line("#if defined(__ARM_FEATURE_DSP)")
            w.line("#include <arm_acle.h>")
            w.line("#include <string.h>")
            w.line("#endif")
        }
        if fourRowStreams {
            w.line("/* Dense layers as streams of blocks of four rows (FourRowStream): with the DSP extension, where")
            w.line("   addresses are absolute (movw/movt). */")
            w.line("#if defined(__ARM_FEATURE_DSP) && !defined(__PIC__)")
            w.line("#define MCU_DSP_STREAM 1")
            w.line("#endif")
        }
        for bits in dots.sorted() { emitDot8(accBits: bits, into: &w) }
        if rowBlocks || patchBlocks { emitRotatedWiden(into: &w) }
        if rowBlocks { emitDot8x4(into: &w) }
        if interleavedBlocks { emitDot8x4Interleaved(into: &w) }
        if patchBlocks { emitGroup8x4Interleaved(into: &w) }
        if widenedBlocks { emitDot16x4Interleaved(into: &w) }
        if max8x4 {
            w.line("#if defined(__ARM_FEATURE_DSP)")
            w.line("#include <string.h>")
            w.line("/* The larger of each of the four int8 lanes of a and b: SSUB8 sets a flag per lane where a >= b, SEL takes a there. */")
            w.block("MCU_INLINE uint32_t mcu_max8x4(uint32_t a, uint32_t b)") { w in
                w.line("uint32_t r;")
                w.line(#"__asm__ ("ssub8 %0, %1, %2\n\t" "sel %0, %1, %2" : "=&r" (r) : "r" (a), "r" (b) : "cc");"#)
                w.line("return r;")
            }
            w.line("#endif")
        }
        if requant8 || requant8ReLU {
            w.line("#if defined(__ARM_FEATURE_SAT)")
            w.line("#include <arm_acle.h>")
            w.line("#endif")
            w.line("/* mcu_sat8_32(mcu_rshr32(x, s)) for 1 <= s <= 16 (x + 2^(s-1) fits 32 bits): the int8 range is")
            w.line("   tested first, and within it t = x + 2^(s-1) fits 8 + s bits, so the shift is done in 16 bits")
            w.line("   (past 8 bits, after dropping the low byte). */")
            w.block("MCU_INLINE int8_t mcu_rq8_32(int32_t x, uint8_t s)") { w in
                w.line("int32_t t = x + (INT32_C(1) << (s - 1));")
                w.line("#if defined(__ARM_FEATURE_SAT)")
                w.line("return (int8_t)__ssat(t >> s, 8);")
                w.line("#else")
                w.line("if (t >= (INT32_C(128) << s)) return 127;")
                w.line("if (t < -(INT32_C(128) << s)) return -128;")
                w.line("return s <= 8 ? (int8_t)((int16_t)t >> s) : (int8_t)((int16_t)(t >> 8) >> (s - 8));")
                w.line("#endif")
            }
        }
        if requant8ReLU {
            w.line("/* mcu_clamp16(mcu_rq8_32(x, s), 0, 127), a requantization with the ReLU after it: with the DSP")
            w.line("   extension one USAT to 0..127 of the rounded shift (the same value: saturating to int8 first")
            w.line("   changes nothing that the clamp keeps). */")
            w.block("MCU_INLINE int8_t mcu_rq8_relu_32(int32_t x, uint8_t s)") { w in
                w.line("#if defined(__ARM_FEATURE_DSP)")
                w.line("return (int8_t)__usat((x + (INT32_C(1) << (s - 1))) >> s, 7);")
                w.line("#else")
                w.line("const int8_t v = mcu_rq8_32(x, s);")
                w.line("return v < 0 ? 0 : v;")
                w.line("#endif")
            }
        }
        if requant8x24 {
            w.line("#if defined(__AVR__)")
            w.line("/* mcu_rq8_32 of a 24-bit accumulator for 1 <= s <= 15: x + 2^(s-1) fits 24 bits (the proven bound")
            w.line("   counts the rounding term), and so do the thresholds +-128 * 2^s. */")
            w.block("MCU_INLINE int8_t mcu_rq8_24(__int24 x, uint8_t s)") { w in
                w.line("__int24 t = x + ((__int24)1 << (s - 1));")
                w.line("if (t >= ((__int24)128 << s)) return 127;")
                w.line("if (t < -((__int24)128 << s)) return -128;")
                w.line("return s <= 8 ? (int8_t)((int16_t)t >> s) : (int8_t)((int16_t)(t >> 8) >> (s - 8));")
            }
            w.line("#endif")
        }
        if read32 {
            w.line("#if defined(__AVR__)")
            w.line("#define MCU_R32(p) ((uint32_t)pgm_read_dword(p))")
            w.line("#else")
            w.line("#define MCU_R32(p) (*(p))")
            w.line("#endif")
        }
        if accumulator24 {
            w.line("/* An accumulator whose proven bound is below 2^23: 24 bits where the compiler has them. */")
            w.line("#if defined(__AVR__)")
            w.line("typedef __int24 mcu_acc24_t;")
            w.line("#else")
            w.line("typedef int32_t mcu_acc24_t;")
            w.line("#endif")
        }
        if addSat8 || !narrowProducts.isEmpty {
            // Elsewhere one SSAT where the core has it, as the requantization they replace had.
            w.line("#if defined(__ARM_FEATURE_SAT) && !defined(__AVR__)")
            w.line("#include <arm_acle.h>")
            w.line("#endif")
        }
        if addSat8 {
            w.line("/* a + b saturated to int8. On AVR one 8-bit add: the overflow flag is set exactly when the sum")
            w.line("   leaves the int8 range, and then the true sum has b's sign; one SSAT on a core with it. */")
            w.block("MCU_INLINE int8_t mcu_add_sat8(int8_t a, int8_t b)") { w in
                w.line("#if defined(__AVR__)")
                w.line(#"__asm__ ("add %0, %2\n\t" "brvc 1f\n\t" "ldi %0, 0x7f\n\t" "sbrc %2, 7\n\t" "ldi %0, 0x80\n\t" "1:" : "=d" (a) : "0" (a), "r" (b));"#)
                w.line("return a;")
                w.line("#elif defined(__ARM_FEATURE_SAT)")
                w.line("return (int8_t)__ssat((int32_t)a + (int32_t)b, 8);")
                w.line("#else")
                w.line("const int16_t s = (int16_t)((int16_t)a + (int16_t)b);")
                w.line("return s > 127 ? 127 : s < -128 ? -128 : (int8_t)s;")
                w.line("#endif")
            }
        }
        for shift in narrowProducts.sorted() {
            w.line("/* sat8(rshr(a * b, \(shift))). On AVR the rounded product is shifted left by \(8 - shift): while the overflow")
            w.line("   flag stays clear it fits 16 bits and its high byte is the result; at the first overflow the carry is")
            w.line("   its sign, the side it saturates to. */")
            w.block("MCU_INLINE int8_t mcu_mul_rq8_\(shift)(int8_t a, int8_t b)") { w in
                w.line("#if defined(__AVR__)")
                w.line("int16_t t;")
                w.line("__asm__ (")
                w.line(#"    "muls %1, %2\n\t" "movw %A0, r0\n\t" "clr r1\n\t""#)
                w.line("    \"subi %A0, lo8(-\(1 << (shift - 1)))\\n\\t\" \"sbci %B0, hi8(-\(1 << (shift - 1)))\\n\\t\"")
                for _ in 0..<(8 - shift) { w.line(#"    "lsl %A0\n\t" "rol %B0\n\t" "brvs 1f\n\t""#) }
                w.line(#"    "rjmp 2f\n\t" "1: ldi %B0, 0x7f\n\t" "adc %B0, __zero_reg__\n\t" "2:""#)
                w.line(#"    : "=&d" (t) : "d" (a), "d" (b));"#)
                w.line("return (int8_t)(uint8_t)((uint16_t)t >> 8);")
                w.line("#elif defined(__ARM_FEATURE_SAT)")
                w.line("return (int8_t)__ssat(((int32_t)a * (int32_t)b + \(1 << (shift - 1))) >> \(shift), 8);")
                w.line("#else")
                w.line("const int16_t t = (int16_t)((int16_t)((int16_t)a * (int16_t)b + \(1 << (shift - 1))) >> \(shift));")
                w.line("return t > 127 ? 127 : t < -128 ? -128 : (int8_t)t;")
                w.line("#endif")
            }
        }
        for shift in mixedProducts.sorted() {
            w.line("/* sat8(rshr(a * b, \(shift))) of an int16 a and an int8 b (MixedProduct). But on a Cortex-M, in 16 bits: a's high")
            w.line("   byte ah times b, plus its low byte al times b shifted right by 8 (rounded at a shift of 8), plus 2^(s-9)")
            w.line("   past it, shifted right by s - 8. On AVR ah * b is one muls and al * b one unsigned mul less 256 al where")
            w.line("   b < 0 (mulsu would confine al and b to r16-r23, which deepened a fused loop's frame). */")
            w.block("MCU_INLINE int8_t mcu_mul16x8_rq8_\(shift)(int16_t a, int8_t b)") { w in
                w.line("#if defined(__arm__)")
                w.line("return mcu_rq8_32((int32_t)a * (int32_t)b, \(shift));")
                w.line("#elif defined(__AVR__)")
                w.line("int16_t v;")
                w.line("__asm__ (")
                w.line(#"    "muls %B1, %2\n\t" "movw %A0, r0\n\t" "mul %A1, %2\n\t" "sbrc %2, 7\n\t" "sub r1, %A1\n\t""#)
                w.line(shift == 8 ? #"    "lsl r0\n\t" "adc %A0, r1\n\t" "brcc 1f\n\t" "subi %B0, 0xff\n\t""#
                                  : #"    "add %A0, r1\n\t" "brcc 1f\n\t" "subi %B0, 0xff\n\t""#)
                w.line(#"    "1: sbrc r1, 7\n\t" "dec %B0\n\t" "clr __zero_reg__\n\t""#
                       + (shift == 8 ? "" : " \"subi %A0, lo8(-\(1 << (shift - 9)))\\n\\t\" \"sbci %B0, hi8(-\(1 << (shift - 9)))\\n\\t\""))
                w.line(#"    : "=&d" (v) : "d" (a), "d" (b));"#)
                w.line(shift == 8 ? "const int16_t q = v;" : "const int16_t q = (int16_t)(v >> \(shift - 8));")
                w.line("return q > 127 ? 127 : q < -128 ? -128 : (int8_t)q;")
                w.line("#else")
                w.line("const int16_t hi = (int16_t)((int16_t)(int8_t)(a >> 8) * b);")
                w.line("const int16_t lo = (int16_t)((int16_t)(uint8_t)a * b);")
                if shift == 8 {
                    w.line("const int16_t q = (int16_t)(hi + (int16_t)((int16_t)(lo + 128) >> 8));")
                } else {
                    w.line("const int16_t v = (int16_t)(hi + (int16_t)(lo >> 8) + \(1 << (shift - 9)));")
                    w.line("const int16_t q = (int16_t)(v >> \(shift - 8));")
                }
                w.line("return q > 127 ? 127 : q < -128 ? -128 : (int8_t)q;")
                w.line("#endif")
            }
        }
        for (name, op, used) in [("add", "+", addSat16), ("sub", "-", subSat16)] where used {
            w.line("/* sat16(a \(op) b) (SaturatingAdd16): where the compiler reports overflow, the 16-bit \(name) and its overflow")
            w.line("   test (the true result then has a's sign); on a Cortex-M the 32-bit \(name) and SSAT. */")
            w.block("MCU_INLINE int16_t mcu_\(name)_sat16(int16_t a, int16_t b)") { w in
                w.line("#if !defined(__arm__) && ((defined(__GNUC__) && __GNUC__ >= 5) || defined(__clang__))")
                w.line("int16_t s;")
                w.line("if (__builtin_\(name)_overflow(a, b, &s)) s = a < 0 ? (-32767 - 1) : 32767;")
                w.line("return s;")
                w.line("#else")
                w.line("return mcu_sat16_32((int32_t)a \(op) (int32_t)b);")
                w.line("#endif")
            }
        }
        if clamp16 {
            w.line("/* v limited to lo..hi. */")
            w.block("MCU_INLINE int16_t mcu_clamp16(int16_t v, int16_t lo, int16_t hi)") { w in
                w.line("return v < lo ? lo : v > hi ? hi : v;")
            }
        }
        if exp { emitLookup(into: &w) }
        if sigmoid { emitTable("mcu_sigmoid_q15", ActivationTables.sigmoid, type: "int16_t", comment: "sigmoid(k/8) in Q15, k = 0..128", into: &w) }
        if tanh { emitTable("mcu_tanh_q15", ActivationTables.tanh, type: "int16_t", comment: "tanh(k/16) in Q15, k = 0..128", into: &w) }
        if exp {
            // Stored less 16384 to fit int16; interpolation commutes with the offset, so results are unchanged.
            emitTable("mcu_exp2_q14_less", ActivationTables.exp2.map { $0 - 16384 }, type: "int16_t",
                      comment: "2^(k/32) in Q14, less 16384, k = 0..32", into: &w)
            emitExp(into: &w)
        }
    }

    /// `acc + Σ w[i]·x[i]` over `n` int8 weights in flash and int8 inputs in RAM; each product is
    /// int16 (|w·x| <= 2^14), so no wider multiply is needed. On AVR the loop is assembly: `lpm Z+`,
    /// `ld X+`, `muls`, and an add of the 16-bit product into the low 2 (a16) or 3 (a24) bytes of
    /// the accumulator, eight products per iteration. Sums are kept modulo 2^16 or 2^24 and the result
    /// is sign-extended: exact because the emitter uses these only where the layer's proven bound
    /// on |acc| (every partial sum too) is below 2^15 or 2^23. Elsewhere, the same sum in C.
    private func emitDot8(accBits: Int, into w: inout CWriter) {
        let t = accBits == 16 ? "int16_t" : "int32_t"
        // a16: each product added to the accumulator's two bytes. a24: the accumulator is held as
        // C * 2^16 + s, s the signed 16-bit value of bytes B:A; a product added to s changes C only
        // when the 16-bit add overflows (V set, not taken: one cycle), and then by one toward the
        // sign the result lost, in a stub out of the straight line (`fix`). On entry and exit C is
        // moved between this form and two's complement (s < 0 borrows one from C).
        func mac(_ k: Int) -> String {
            let product = #""lpm %[a], Z+\n\t" "ld %[b], X+\n\t" "muls %[a], %[b]\n\t" "add %A[acc], r0\n\t" "adc %B[acc], r1\n\t""#
            return accBits == 16 ? product : product + "\"brvs \(30 + k)f\\n\\t\" \"\(10 + k):\\n\\t\""
        }
        func fix(_ ks: Range<Int>) -> [String] {
            accBits == 16 ? [] : ks.map { k in
                "\"\(30 + k): brmi \(50 + k)f\\n\\t\" \"dec %C[acc]\\n\\t\" \"rjmp \(10 + k)b\\n\\t\" \"\(50 + k): inc %C[acc]\\n\\t\" \"rjmp \(10 + k)b\\n\\t\""
            }
        }
        w.line("/* acc + sum of w[i] * x[i], i < n: int8 weights in flash, int8 inputs, int16 products, an accumulator")
        w.line("   whose every partial sum is proven to fit \(accBits) bits (the AVR loop keeps \(accBits) bits and sign-extends). */")
        w.block("MCU_INLINE \(t) mcu_dot8_a\(accBits)(\(t) acc, const int8_t *w, const int8_t *x, uint16_t n)") { w in
            w.line("#if defined(__AVR__)")
            w.block("while (n != 0)") { w in
                // Up to 2,040 products per pass: n mod 8 first (a block of 4, of 2, of 1, each taken
                // or jumped over by one bit of it), then steps of eight.
                w.line("uint16_t part = n > 2040u ? 2040u : n;")
                w.line("uint8_t groups = (uint8_t)(part >> 3), rest = (uint8_t)(part & 7u);")
                w.line("int8_t a, b;")
                w.line("n = (uint16_t)(n - part);")
                w.line("__asm__ volatile (")
                if accBits == 24 { w.line(#"    "sbrc %B[acc], 7\n\t" "inc %C[acc]\n\t""#) }
                var k = 0
                for (bit, count) in [(0, 1), (1, 2), (2, 4)] {
                    w.line("    \"sbrs %[rest], \(bit)\\n\\t\" \"rjmp \(bit + 1)f\\n\\t\"")
                    for i in 0..<count { w.line("    \(mac(k + i))") }
                    if accBits == 24 {
                        w.line("    \"rjmp \(bit + 1)f\\n\\t\"")
                        for line in fix(k..<k + count) { w.line("    \(line)") }
                    }
                    k += count
                    w.line("    \"\(bit + 1):\\n\\t\"")
                }
                // Eight products are longer than a conditional branch reaches: the loop closes with rjmp.
                w.line("    \"tst %[groups]\\n\\t\" \"brne 4f\\n\\t\" \"rjmp 5f\\n\\t\"")
                w.line("    \"4:\\n\\t\"")
                for i in 0..<8 { w.line("    \(mac(k + i))") }
                w.line("    \"dec %[groups]\\n\\t\" \"breq 5f\\n\\t\" \"rjmp 4b\\n\\t\"")
                for line in fix(k..<k + 8) { w.line("    \(line)") }
                w.line("    \"5:\\n\\t\"")
                if accBits == 24 { w.line(#"    "sbrc %B[acc], 7\n\t" "dec %C[acc]\n\t""#) }
                w.line("    \"clr r1\\n\\t\"")
                w.line("    : [acc] \"+r\" (acc), [w] \"+z\" (w), [x] \"+x\" (x), [groups] \"+r\" (groups), [a] \"=&d\" (a), [b] \"=&d\" (b)")
                w.line("    : [rest] \"r\" (rest)")
                w.line("    : \"memory\");")
            }
            if accBits == 24 {
                w.line("__asm__ (\"mov %D0, %C0\\n\\t\" \"lsl %D0\\n\\t\" \"sbc %D0, %D0\" : \"+r\" (acc));  /* sign-extend byte C */")
            }
            w.line("#elif defined(__ARM_FEATURE_DSP)")
            // Cortex-M4/M7: four products per step, as CMSIS-NN does: SXTB16 widens bytes 0 and 2
            // (and, rotated, 1 and 3) of a word to two int16 halves, SMLAD multiplies both pairs and
            // adds them to the sum (which the bound keeps far from 2^31).
            w.line("int32_t sum = acc;")
            w.block("for (; n >= 4u; n = (uint16_t)(n - 4u))") { w in
                w.line("uint32_t wv, xv;")
                w.line("memcpy(&wv, w, 4);")
                w.line("memcpy(&xv, x, 4);")
                w.line("w += 4;")
                w.line("x += 4;")
                w.line("sum = __smlad(__sxtb16(wv), __sxtb16(xv), sum);")
                w.line("sum = __smlad(__sxtb16((wv >> 8) | (wv << 24)), __sxtb16((xv >> 8) | (xv << 24)), sum);")
            }
            w.line("for (; n != 0; n--) sum += (int16_t)((int16_t)*w++ * (int16_t)*x++);")
            w.line("acc = (\(t))sum;")
            w.line("#else")
            let add16 = accBits == 16 ? "acc = (int16_t)(acc + (int16_t)((int16_t)*w++ * (int16_t)*x++));"
                                      : "acc += (int16_t)((int16_t)*w++ * (int16_t)*x++);"
            w.line("for (; n != 0; n--) \(add16)")
            w.line("#endif")
            w.line("return acc;")
        }
    }

    /// Cortex-M4/M7: four dot products of one input at once, as CMSIS-NN's kernels do: each input
    /// word is loaded and widened (SXTB16, and with its rotate operand the odd bytes) once for four
    /// rows of weights, and each row's word takes two SMLAD. Used only under `__ARM_FEATURE_DSP`.
    private func emitRotatedWiden(into w: inout CWriter) {
        w.line("#if defined(__ARM_FEATURE_DSP)")
        w.line("/* Bytes 1 and 3 of v as two int16 halves (SXTB16 with its rotate operand). */")
        w.block("MCU_INLINE uint32_t mcu_sxtb16_ror8(uint32_t v)") { w in
            w.line("uint32_t r;")
            w.line(#"__asm__ ("sxtb16 %0, %1, ror #8" : "=r" (r) : "r" (v));"#)
            w.line("return r;")
        }
        w.line("#endif")
    }

    private func emitDot8x4(into w: inout CWriter) {
        w.line("#if defined(__ARM_FEATURE_DSP)")
        w.line("/* s[j] += sum of w[j * stride + i] * x[i], i < n, j < 4 (every partial sum proven to fit). */")
        w.block("MCU_INLINE void mcu_dot8x4(int32_t *s, const int8_t *w, uint16_t stride, const int8_t *x, uint16_t n)") { w in
            w.line("int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];")
            w.line("const int8_t *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;")
            // Four columns a step: five words loaded, the input's widened once for the four rows.
            w.block("for (; n >= 4u; n = (uint16_t)(n - 4u))") { w in
                w.line("uint32_t xv, a, b, c, d;")
                w.line("memcpy(&xv, x, 4); memcpy(&a, w, 4); memcpy(&b, w1, 4); memcpy(&c, w2, 4); memcpy(&d, w3, 4);")
                w.line("x += 4; w += 4; w1 += 4; w2 += 4; w3 += 4;")
                w.line("const uint32_t xe = __sxtb16(xv), xo = mcu_sxtb16_ror8(xv);")
                w.line("s0 = __smlad(__sxtb16(a), xe, s0); s0 = __smlad(mcu_sxtb16_ror8(a), xo, s0);")
                w.line("s1 = __smlad(__sxtb16(b), xe, s1); s1 = __smlad(mcu_sxtb16_ror8(b), xo, s1);")
                w.line("s2 = __smlad(__sxtb16(c), xe, s2); s2 = __smlad(mcu_sxtb16_ror8(c), xo, s2);")
                w.line("s3 = __smlad(__sxtb16(d), xe, s3); s3 = __smlad(mcu_sxtb16_ror8(d), xo, s3);")
            }
            w.block("for (; n != 0; n--)") { w in
                w.line("const int16_t v = *x++;")
                w.line("s0 += (int16_t)(*w++ * v); s1 += (int16_t)(*w1++ * v); s2 += (int16_t)(*w2++ * v); s3 += (int16_t)(*w3++ * v);")
            }
            w.line("s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;")
        }
        w.line("#endif")
    }

    /// Cortex-M4/M7: four dot products over one block of four rows laid out by `RowInterleaving`
    /// (each group of four columns holds the four rows' words in turn, then the last `n mod 4`
    /// columns row by row), so one pointer walks the weights. The steps of four columns are
    /// assembly: per step one input word and four weight words loaded back to back (a load after a
    /// load pipelines), two SXTB16 for the input, two per row, and two SMLAD per row; 32
    /// columns per turn of the loop (a single turn written out), then 16, 8 and 4. The remainder (n mod 4 columns) is C.
    private func emitDot8x4Interleaved(into w: inout CWriter) {
        func rows(_ first: Int) -> [String] {
            [first, first + 1].flatMap { r in
                let a = r == first ? "a" : "b"
                return ["\"sxtb16 %[t], %[\(a)]\\n\\t\" \"sxtb16 %[\(a)], %[\(a)], ror #8\\n\\t\"",
                        "\"smlad %[s\(r)], %[t], %[xe], %[s\(r)]\\n\\t\" \"smlad %[s\(r)], %[\(a)], %[xo], %[s\(r)]\\n\\t\""]
            }
        }
        let step = [#""ldr %[xe], [%[x]], #4\n\t" "ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t""#,
                    #""sxtb16 %[xo], %[xe], ror #8\n\t" "sxtb16 %[xe], %[xe]\n\t""#]
            + rows(0) + [#""ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t""#] + rows(2)
        emitFourRowDot(name: "mcu_dot8x4i", stepMacro: "MCU_DOT8X4I_STEP", step: step, weightType: "int8_t", registers: ["a", "b", "t"],
                       stepComment: ["Four columns of a block in mcu_dot8x4i (its operands by name): one input word, widened even and odd",
                                     "   bytes (xe, xo), and each row's word (a, b) widened and multiplied into its sum."],
                       comment: ["s[j] += sum of row j's w[i] * x[i], i < n, j < 4, over a block of four rows interleaved by groups",
                                 "   of four columns (every partial sum proven to fit); returns w + 4 n, where the next block starts."],
                       remainder: ["const int16_t v = x[i];",
                                   "s0 += (int16_t)(w[i] * v); s1 += (int16_t)(w[r + i] * v); s2 += (int16_t)(w[2 * r + i] * v); s3 += (int16_t)(w[3 * r + i] * v);"],
                       into: &w)
    }

    /// Cortex-M4/M7: one group of four columns of a block of four interleaved rows
    /// (`RowInterleaving`) against the input word `xv`, for code that writes a short dot product
    /// out group by group with constant offsets (a convolution over a gathered patch): no call, no
    /// loop, no test of the length; the four sums stay in registers of the caller.
    private func emitGroup8x4Interleaved(into w: inout CWriter) {
        w.line("#if defined(__ARM_FEATURE_DSP)")
        w.line("/* s[j] += sum of w[4 j + i] * x[i], i < 4, j < 4: one group of four columns of an interleaved block, the")
        w.line("   input word x widened: xe = __sxtb16(x), xo = mcu_sxtb16_ror8(x). */")
        w.block("MCU_INLINE void mcu_x4i_group(int32_t *s, const int8_t *w, uint32_t xe, uint32_t xo)") { w in
            w.line("uint32_t a, b, c, d;")
            w.line("memcpy(&a, w, 4); memcpy(&b, w + 4, 4); memcpy(&c, w + 8, 4); memcpy(&d, w + 12, 4);")
            w.line("s[0] = __smlad(__sxtb16(a), xe, s[0]); s[0] = __smlad(mcu_sxtb16_ror8(a), xo, s[0]);")
            w.line("s[1] = __smlad(__sxtb16(b), xe, s[1]); s[1] = __smlad(mcu_sxtb16_ror8(b), xo, s[1]);")
            w.line("s[2] = __smlad(__sxtb16(c), xe, s[2]); s[2] = __smlad(mcu_sxtb16_ror8(c), xo, s[2]);")
            w.line("s[3] = __smlad(__sxtb16(d), xe, s[3]); s[3] = __smlad(mcu_sxtb16_ror8(d), xo, s[3]);")
        }
        w.line("#endif")
    }

    /// Cortex-M4/M7: `mcu_dot8x4i` over weights widened to int16 (`RowInterleaving.Layout.widened`:
    /// per row and group the halfwords w0, w2 then w1, w3, the pairs SXTB16 makes of the input
    /// word). Per step of four columns: one input word loaded and widened, and eight weight words
    /// loaded four at a time (a load after a load pipelines), each one SMLAD: no SXTB16 of weights.
    private func emitDot16x4Interleaved(into w: inout CWriter) {
        let step = [#""ldr %[xe], [%[x]], #4\n\t" "ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t" "ldr %[c], [%[w]], #4\n\t" "ldr %[d], [%[w]], #4\n\t""#,
                    #""sxtb16 %[xo], %[xe], ror #8\n\t" "sxtb16 %[xe], %[xe]\n\t""#,
                    #""smlad %[s0], %[a], %[xe], %[s0]\n\t" "smlad %[s0], %[b], %[xo], %[s0]\n\t" "smlad %[s1], %[c], %[xe], %[s1]\n\t" "smlad %[s1], %[d], %[xo], %[s1]\n\t""#,
                    #""ldr %[a], [%[w]], #4\n\t" "ldr %[b], [%[w]], #4\n\t" "ldr %[c], [%[w]], #4\n\t" "ldr %[d], [%[w]], #4\n\t""#,
                    #""smlad %[s2], %[a], %[xe], %[s2]\n\t" "smlad %[s2], %[b], %[xo], %[s2]\n\t" "smlad %[s3], %[c], %[xe], %[s3]\n\t" "smlad %[s3], %[d], %[xo], %[s3]\n\t""#]
        emitFourRowDot(name: "mcu_dot16x4i", stepMacro: "MCU_DOT16X4I_STEP", step: step, weightType: "int16_t", registers: ["a", "b", "c", "d"],
                       stepComment: ["Four columns of a block in mcu_dot16x4i (its operands by name): one input word widened (xe, xo), and",
                                     "   each row's two words of int16 pairs (w0, w2 and w1, w3) multiplied into its sum."],
                       comment: ["s[j] += sum of row j's w[i] * x[i], i < n, j < 4, over a block of four rows interleaved by groups",
                                 "   of four columns and widened to int16 (every partial sum proven to fit); returns w + 4 n."],
                       remainder: ["const int32_t v = x[i];", "s0 += w[i] * v; s1 += w[r + i] * v; s2 += w[2 * r + i] * v; s3 += w[3 * r + i] * v;"],
                       into: &w)
    }

    /// The driver both interleaved dot products share: `step` (assembly for four columns, as the
    /// macro `stepMacro`) 32 columns a turn of a loop (a single turn without the loop's count and
    /// branch), then 16, 8 and 4 as the bits of n say, and the last n mod 4 columns in C
    /// (`remainder`, with `v` the input and `r` their count). `registers`: the step's temporaries
    /// besides the input's two halves. It returns the end of the block's weights (`w + 4n`), the
    /// pointer the assembly has walked: a caller that walks block after block carries it in the
    /// register the assembly already holds it in, instead of keeping its own (which, beside the
    /// assembly's eleven registers, made gcc spill and grow the node's frame from 36 to 48 bytes).
    private func emitFourRowDot(name: String, stepMacro: String, step: [String], weightType: String, registers: [String],
                                stepComment: [String], comment: [String], remainder: [String], into w: inout CWriter) {
        let operands = [#": [s0] "+r" (s0), [s1] "+r" (s1), [s2] "+r" (s2), [s3] "+r" (s3), [x] "+r" (x), [w] "+r" (w),"#,
                        #"  [xe] "=&r" (xe), [xo] "=&r" (xo), "# + registers.map { "[\($0)] \"=&r\" (\($0))" }.joined(separator: ", ")]
        w.line("#if defined(__ARM_FEATURE_DSP)")
        w.line("/* " + stepComment[0])
        for line in stepComment.dropFirst() { w.line(line + (line == stepComment.last ? " */" : "")) }
        w.line("#define \(stepMacro) \\")
        for (i, line) in step.enumerated() { w.line("    " + line + (i == step.count - 1 ? "" : " \\")) }
        w.line("/* " + comment[0])
        for line in comment.dropFirst() { w.line(line + (line == comment.last ? " */" : "")) }
        w.block("MCU_INLINE const \(weightType) *\(name)(int32_t *s, const \(weightType) *w, const int8_t *x, uint16_t n)") { w in
            w.line("int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];")
            w.line("uint32_t xe, xo, \(registers.joined(separator: ", "));")
            let memory = #"[xm] "m" (*(const int8_t (*)[n])x), [wm] "m" (*(const "# + weightType + #" (*)[4u * n])w)"#
            w.line("uint16_t turns = (uint16_t)(n >> 5);")
            w.block("if (turns > 1u)") { w in
                w.line("__asm__ (")
                w.line(#"    "1:\n\t""#)
                w.line("    " + Array(repeating: stepMacro, count: 8).joined(separator: " "))
                w.line(#"    "subs %[turns], %[turns], #1\n\t" "bne 1b\n\t""#)
                w.line("    " + operands[0] + #" [turns] "+r" (turns),"#)
                w.line("    " + operands[1])
                w.line("    : \(memory) : \"cc\");")
            }
            for (condition, columns) in [("turns == 1u", 32), ("(n & 16u) != 0u", 16), ("(n & 8u) != 0u", 8), ("(n & 4u) != 0u", 4)] {
                w.block("\(columns == 32 ? "else " : "")if (\(condition))") { w in
                    w.line("__asm__ (")
                    w.line("    " + Array(repeating: stepMacro, count: columns / 4).joined(separator: " "))
                    w.line("    " + operands[0])
                    w.line("    " + operands[1])
                    w.line("    : \(memory));")
                }
            }
            w.line("const uint8_t r = (uint8_t)(n & 3u);")
            w.block("for (uint8_t i = 0; i < r; i++)") { w in
                for line in remainder { w.line(line) }
            }
            w.line("s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;")
            w.line("return w + 4u * r;")
        }
        w.line("#endif")
    }

    private func emitTable(_ name: String, _ values: [Int64], type: String, comment: String, into w: inout CWriter) {
        w.line("/* \(comment). */")
        w.line("static const \(type) \(name)[\(values.count)] MCU_FLASH = {")
        for chunk in stride(from: 0, to: values.count, by: 12) {
            w.line("    " + values[chunk..<min(chunk + 12, values.count)].map(String.init).joined(separator: ", ") + ",")
        }
        w.line("};")
    }

    /// Mirrors `ActivationTables.lookup`: table value at non-negative position p with g fractional
    /// bits below the grid, linear interpolation on at most 8 of them, saturating past the end.
    private func emitLookup(into w: inout CWriter) {
        w.line("/* f at position p >= 0 with g fractional bits below the table grid (interpolated). */")
        w.block("MCU_INLINE int32_t mcu_lookup(const int16_t *table, uint8_t last, int32_t p, int8_t g)") { w in
            w.block("if (g <= 0)") { w in
                w.line("uint8_t k = (uint8_t)(-g);")
                w.line("if (k >= 8 || p >= (((int32_t)last + ((int32_t)1 << k) - 1) >> k)) return p == 0 ? (int32_t)MCU_R16(&table[0]) : (int32_t)MCU_R16(&table[last]);")
                w.line("return (int32_t)MCU_R16(&table[p << k]);")
            }
            w.line("int32_t index = p >> g;")
            w.line("if (index >= last) return (int32_t)MCU_R16(&table[last]);")
            w.line("int32_t fraction = p & (((int32_t)1 << g) - 1);")
            w.line("uint8_t used = (uint8_t)g;")
            w.block("if (g > 8)") { w in
                w.line("fraction >>= (g - 8);")
                w.line("used = 8;")
            }
            w.line("int32_t lo = (int32_t)MCU_R16(&table[index]), hi = (int32_t)MCU_R16(&table[index + 1]);")
            w.line("return lo + (((hi - lo) * fraction + ((int32_t)1 << (used - 1))) >> used);")
        }
        w.line("/* Requantize a Q15 activation to `bits` bits, `s` = 15 - output fractional bits. */")
        w.block("MCU_INLINE int16_t mcu_requant_q15(int32_t t, int8_t s, uint8_t bits)") { w in
            w.line("int32_t hi = ((int32_t)1 << (bits - 1)) - 1, lo = -hi - 1;")
            w.block("if (s > 0)") { w in
                w.line("if (s >= 31) return 0;")
                w.line("t = (t + ((int32_t)1 << (s - 1))) >> s;")
            }
            w.block("else if (s < 0)") { w in
                w.line("uint8_t k = (uint8_t)(-s);")
                w.line("if (k >= bits) return (int16_t)(t > 0 ? hi : t < 0 ? lo : 0);")
                w.line("if (t > (hi >> k)) return (int16_t)hi;")
                w.line("if (t < -(((int32_t)1 << (bits - 1)) >> k)) return (int16_t)lo;")
                w.line("return (int16_t)(t * ((int32_t)1 << k));")
            }
            w.line("return (int16_t)(t > hi ? hi : t < lo ? lo : t);")
        }
    }

    /// Mirrors `ActivationTables.exp`.
    private func emitExp(into w: inout CWriter) {
        w.line("/* e^x for x with `frac` fractional bits, as `bits`-bit Q(out_frac): 2^(x log2 e) = 2^n 2^r. */")
        w.block("MCU_INLINE int16_t mcu_exp(int32_t x, int8_t frac, int8_t out_frac, uint8_t bits)") { w in
            w.block("if (frac > 16)") { w in
                w.line("x = (x + ((int32_t)1 << (frac - 17))) >> (frac - 16);")
                w.line("frac = 16;")
            }
            w.block("else if (frac < -13)") { w in
                w.line("x = mcu_requant_q15(x, (int8_t)(frac + 13), 16);")
                w.line("frac = -13;")
            }
            w.line("uint8_t f = (uint8_t)(frac + 14);")
            w.line("int32_t t = x * INT32_C(\(ActivationTables.log2eQ14));")
            w.line("int32_t n = t >> f;")
            w.line("int32_t r = t - n * ((int32_t)1 << f);")
            w.line("int32_t m = 16384 + mcu_lookup(mcu_exp2_q14_less, 32, r, (int8_t)(f - \(ActivationTables.exp2StepLog2)));")
            w.line("int32_t s = 14 - n - out_frac;")
            w.line("if (s > 30) return 0;")
            w.line("return mcu_requant_q15(m, (int8_t)(s < -62 ? -62 : s), bits);")
        }
    }
}
