/// Gives every ONNX name a legal, unique name of our format (`[A-Za-z_][A-Za-z0-9_.]*`) and keeps
/// the pairs for the import report.
///
/// Exporters write names such as `/fc1/Gemm_output_0` or `onnx::Gemm_12`: every other character
/// becomes `_`, runs of `_` collapse, and a clash takes a suffix `_2`, `_3`, ... Nodes, tensors and
/// constants share one namespace, so no two of them ever share a name.
struct LegalNames {
    private var taken: Set<String> = []
    private(set) var renamed: [(original: String, legal: String)] = []

    /// A new legal name for `original` (`fallback` when nothing of it is usable).
    mutating func claim(_ original: String, fallback: String) -> String {
        var base = Self.sanitized(original)
        if base.isEmpty { base = Self.sanitized(fallback) }
        if base.isEmpty { base = "t" }
        if let first = base.first, !(first == "_" || (first.isASCII && first.isLetter)) { base = "t_" + base }
        var name = base
        var suffix = 2
        while taken.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
        taken.insert(name)
        if name != original, !original.isEmpty { renamed.append((original, name)) }
        return name
    }

    static func sanitized(_ name: String) -> String {
        var out = ""
        for character in name {
            let legal = character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "_")
            let c: Character = legal ? character : "_"
            if c == "_", out.last == "_" { continue }
            out.append(c)
        }
        while let first = out.first, first == "_" || first == "." { out.removeFirst() }
        while let last = out.last, last == "_" || last == "." { out.removeLast() }
        return out
    }
}
