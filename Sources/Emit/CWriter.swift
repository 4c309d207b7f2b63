/// Accumulates C source with indentation.
struct CWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "    ", count: depth) + s + "\n"
    }

    /// `header {` ... `}` around `body`.
    mutating func block(_ header: String, _ body: (inout CWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// `{` ... `}` around `body`: a scope of its own.
    mutating func scope(_ body: (inout CWriter) -> Void) {
        line("{")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// Every line of `other` at this writer's indentation.
    mutating func lines(of other: CWriter) {
        for l in other.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { line(String(l)) }
    }

    mutating func raw(_ s: String) { text += s }

    /// The API `model.h` declares, the same for the fixed-point program and the float baseline.
    mutating func modelAPI(recurrent: Bool) {
        if recurrent {
            line("/* A sequence is fed one timestep at a time, so it never has to sit in RAM: */")
            line("/* model_reset(); for each step model_step(x_t); then model_result(y). */")
            line("void model_reset(void);")
            line("void model_step(const model_input_t *x);")
            line("/* Writes MODEL_OUTPUT_SIZE outputs and returns the class (lowest index of the maximum). */")
            line("int16_t model_result(model_output_t *y);")
        } else {
            line("/* Writes MODEL_OUTPUT_SIZE outputs and returns the class (lowest index of the maximum). */")
            line("int16_t model_predict(const model_input_t *x, model_output_t *y);")
        }
    }
}

/// C type names and literals.
enum CType {
    static func int(_ bits: Int) -> String { "int\(bits)_t" }

    /// A literal of the `bits`-bit signed type (INT32_C / INT64_C keep wide constants portable).
    static func literal(_ v: Int64, bits: Int) -> String {
        switch bits {
        case 64: return v == Int64.min ? "INT64_MIN" : "INT64_C(\(v))"
        case 32: return v == Int64(Int32.min) ? "INT32_MIN" : "INT32_C(\(v))"
        default: return v == -32768 ? "(-32767 - 1)" : "\(v)"
        }
    }
}
