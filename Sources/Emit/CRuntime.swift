import FixedPoint

/// The helper functions and tables at the top of `model.c`; only those the program uses are emitted
/// (unused static functions would be warnings under -Wall -Werror).
struct CRuntime {
    var roundingShifts: Set<Int> = []      // accumulator widths with rshr
    var saturations: Set<[Int]> = []       // [outBits, accBits]
    var sigmoid = false, tanh = false, exp = false

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
