/// Unique, deterministic C identifiers for tensor and node names (which may contain dots).
struct CIdentifiers {
    private var assigned: [String: String] = [:]
    private var used: Set<String> = []
    let prefix: String

    init(prefix: String) { self.prefix = prefix }

    /// `rnn.W` -> `prefix_rnn_W`; a second name that sanitises to the same text gets `_2`, `_3`, ...
    mutating func name(_ original: String) -> String {
        if let existing = assigned[original] { return existing }
        let base = prefix + "_" + String(original.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        var candidate = base, n = 2
        while used.contains(candidate) {
            candidate = "\(base)_\(n)"
            n += 1
        }
        used.insert(candidate)
        assigned[original] = candidate
        return candidate
    }
}
