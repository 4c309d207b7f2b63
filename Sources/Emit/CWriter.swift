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

    mutating func raw(_ s: String) { text += s }
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
