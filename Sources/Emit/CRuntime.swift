import FixedPoint

/// The helper functions and tables at the top of `model.c`; only those the program uses are emitted
/// (unused static functions would be warnings under -Wall -Werror).
struct CRuntime {
    var roundingShifts: Set<Int> = []      // accumulator widths with rshr
    var saturations: Set<[Int]> = []       // [outBits, accBits]
    var sigmoid = false, tanh = false, exp = false
    /// Accumulator widths (16, 24) of the 8-bit dot product over weights in flash (`mcu_dot8_aN`).
    var dots: Set<Int> = []
    /// `mcu_clamp16`, for a ReLU applied by the layer before it (`ClampFusion`).
    var clamp16 = false

    func emit(into w: inout CWriter) {
        w.line("/* Arithmetic right shifts of negative values are implementation-defined in C99; GCC and Clang")
        w.line("   define them as floor division, which this code needs. Refuse to compile where that fails. */")
        w.line("typedef char mcu_arithmetic_shift_check[((-3 >> 1) == -2 && (INT32_C(-3) >> 1) == -2) ? 1 : -1];")
        w.line()
        for bits in roundingShifts.sorted() {
            let t = CType.int(bits)
            w.line("/* floor((x + 2^(s-1)) / 2^s) for 1 <= s < \(bits): a right shift rounding halves up. */")
            w.block("static inline \(t) mcu_rshr\(bits)(\(t) x, uint8_t s)") { w in
                w.line("return (\(t))((\(t))(x + (\(t))(\(bits == 16 ? "1" : "INT\(bits)_C(1)") << (s - 1))) >> s);")
            }
        }
        for pair in saturations.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let (out, acc) = (pair[0], pair[1])
            let hi = (Int64(1) << (out - 1)) - 1
            w.line("/* Saturate a \(acc)-bit value to \(out) bits. */")
            w.block("static inline \(CType.int(out)) mcu_sat\(out)_\(acc)(\(CType.int(acc)) x)") { w in
                w.line("return x > \(CType.literal(hi, bits: acc)) ? \(hi) : x < \(CType.literal(-hi - 1, bits: acc)) ? \(CType.literal(-hi - 1, bits: out)) : (\(CType.int(out)))x;")
            }
        }
        if !dots.isEmpty {
            w.line("#if defined(__ARM_FEATURE_DSP)")
            w.line("#include <arm_acle.h>")
            w.line("#include <string.h>")
            w.line("#endif")
        }
        for bits in dots.sorted() { emitDot8(accBits: bits, into: &w) }
        if clamp16 {
            w.line("/* v limited to lo..hi. */")
            w.block("static inline int16_t mcu_clamp16(int16_t v, int16_t lo, int16_t hi)") { w in
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
        // One product added to the accumulator's low bytes: a24 carries into byte C and takes
        // 2^16 back when the product is negative (its high byte r1 has bit 7 set).
        let add = accBits == 16
            ? #""add %A[acc], r0\n\t" "adc %B[acc], r1\n\t""#
            : #""add %A[acc], r0\n\t" "adc %B[acc], r1\n\t" "adc %C[acc], %[z]\n\t" "sbrc r1, 7\n\t" "dec %C[acc]\n\t""#
        let mac = #""lpm %[a], Z+\n\t" "ld %[b], X+\n\t" "muls %[a], %[b]\n\t" "# + add
        w.line("/* acc + sum of w[i] * x[i], i < n: int8 weights in flash, int8 inputs, int16 products, an accumulator")
        w.line("   whose every partial sum is proven to fit \(accBits) bits (the AVR loop keeps \(accBits) bits and sign-extends). */")
        w.block("static inline \(t) mcu_dot8_a\(accBits)(\(t) acc, const int8_t *w, const int8_t *x, uint16_t n)") { w in
            w.line("#if defined(__AVR__)")
            w.block("while (n != 0)") { w in
                // Up to 2,040 products per pass: n mod 8 first (a block of 4, of 2, of 1, each taken
                // or jumped over by one bit of it), then steps of eight.
                w.line("uint16_t part = n > 2040u ? 2040u : n;")
                w.line("uint8_t groups = (uint8_t)(part >> 3), rest = (uint8_t)(part & 7u);")
                w.line("int8_t a, b;")
                if accBits == 24 { w.line("uint8_t z;") }
                w.line("n = (uint16_t)(n - part);")
                w.line("__asm__ volatile (")
                if accBits == 24 { w.line("    \"clr %[z]\\n\\t\"") }
                for (bit, count) in [(0, 1), (1, 2), (2, 4)] {
                    w.line("    \"sbrs %[rest], \(bit)\\n\\t\" \"rjmp \(bit + 1)f\\n\\t\"")
                    for _ in 0..<count { w.line("    \(mac)") }
                    w.line("    \"\(bit + 1):\\n\\t\"")
                }
                // Eight products are longer than a conditional branch reaches: the loop closes with rjmp.
                w.line("    \"tst %[groups]\\n\\t\" \"brne 4f\\n\\t\" \"rjmp 5f\\n\\t\"")
                w.line("    \"4:\\n\\t\"")
                for _ in 0..<8 { w.line("    \(mac)") }
                w.line("    \"dec %[groups]\\n\\t\" \"breq 5f\\n\\t\" \"rjmp 4b\\n\\t\"")
                w.line("    \"5: clr r1\\n\\t\"")
                w.line("    : [acc] \"+r\" (acc), [w] \"+z\" (w), [x] \"+x\" (x), [groups] \"+r\" (groups), [a] \"=&d\" (a), [b] \"=&d\" (b)"
                       + (accBits == 24 ? ", [z] \"=&r\" (z)" : ""))
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
        w.block("static int32_t mcu_lookup(const int16_t *table, uint8_t last, int32_t p, int8_t g)") { w in
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
        w.block("static int16_t mcu_requant_q15(int32_t t, int8_t s, uint8_t bits)") { w in
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
        w.block("static int16_t mcu_exp(int32_t x, int8_t frac, int8_t out_frac, uint8_t bits)") { w in
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
