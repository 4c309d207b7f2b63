import Evaluator

/// What a compiled program reported for each sample (its outputs, then its class), compared value
/// by value with the emulator: the check behind `tune check` (host C) and `tune measure` (AVR).
struct OutputComparison {
    var values = 0
    var mismatches = 0
    /// Samples whose every output and class agree.
    var exactSamples = 0
    var firstMismatch: String?
    /// The classes the program reported (-1 where a row was missing).
    var classes: [Int] = []

    /// `rows[s]` holds sample s's `expected.columns` outputs and then its class, or nil when the
    /// program gave nothing readable for it; `device` names the program in messages ("C", "AVR").
    init(expected: Batch, expectedClasses: [Int], rows: [[Int]?], device: String) {
        for s in 0..<expected.rows {
            let before = mismatches
            values += expected.columns + 1
            guard s < rows.count, let row = rows[s], row.count == expected.columns + 1 else {
                record("sample \(s): the \(device) program reported \(s < rows.count ? (rows[s].map { "\($0.count) values" } ?? "unreadable values") : "nothing"), expected \(expected.columns + 1)")
                classes.append(-1)
                continue
            }
            for o in 0..<expected.columns where Double(row[o]) != expected.values[s * expected.columns + o] {
                record("sample \(s), output \(o): emulator \(Int(expected.values[s * expected.columns + o])), \(device) \(row[o])")
            }
            let cls = row[expected.columns]
            classes.append(cls)
            if cls != expectedClasses[s] { record("sample \(s): emulator class \(expectedClasses[s]), \(device) class \(cls)") }
            if mismatches == before { exactSamples += 1 }
        }
    }

    private mutating func record(_ message: String) {
        mismatches += 1
        if firstMismatch == nil { firstMismatch = message }
    }
}
