import FixedPoint
import Foundation

/// What `tune --resume` takes from an interrupted run: every candidate its log recorded, looked up
/// by the formats it resolves to, so the same search with the same seed walks the same path without
/// evaluating any of them again. The log being replaced is kept beside it (`log.jsonl.interrupted`)
/// until the resumed run has written its summary, so a resume killed in turn loses nothing either.
final class SearchResume: @unchecked Sendable {
    let logPath: String
    let keptPath: String
    private let table: [[[Int]]: Evaluation]
    private let space: SearchSpace

    init(logPath: String, header: SearchLog.Header, space: SearchSpace) throws {
        self.logPath = logPath
        keptPath = logPath + ".interrupted"
        self.space = space
        let paths = [keptPath, logPath].filter { FileManager.default.fileExists(atPath: $0) }
        // No log yet (stopped before its search began): everything is evaluated afresh.
        let expected = SearchLogFile.parse(SearchLog.encodeLine(header), path: "").headerFields
        var table: [[[Int]]: Evaluation] = [:]
        var lines: [SearchLog.CandidateLine] = []
        for path in paths {
            let file = try SearchLogFile.read(path: path)
            guard file.header != nil else {
                if file.candidates.isEmpty { continue }  // killed before its header: nothing to take
                throw TunerError.resumeMismatch(path: path, differences: ["it has no header line"])
            }
            let differences = Set(expected.keys).union(file.headerFields.keys).sorted().compactMap { key -> String? in
                let (was, now) = (file.headerFields[key], expected[key])
                return was == now ? nil : "\(key): \(was ?? "absent") in the log, \(now ?? "absent") now"
            }
            guard differences.isEmpty else { throw TunerError.resumeMismatch(path: path, differences: differences) }
            for line in file.candidates where table[line.formats] == nil {
                table[line.formats] = Evaluation(
                    objectives: line.objectives, outcome: line.outcome, message: line.message,
                    violation: EmulatorCandidateEvaluator.violation(outcome: line.outcome, objectives: line.objectives,
                                                                    ramBudget: header.budgetRAMBytes, flashBudget: header.budgetFlashBytes))
                lines.append(line)
            }
        }
        self.table = table
        // Everything known so far, in one file the next resume reads if this one is killed too.
        var text = SearchLog.encodeLine(header) + "\n"
        for line in lines { text += SearchLog.encodeLine(line) + "\n" }
        let temporary = keptPath + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)), rename(temporary, keptPath) == 0 else {
            throw TunerError.cannotWrite(path: keptPath, reason: "cannot keep the interrupted log beside the new one")
        }
    }

    /// The recorded evaluation of `candidate`, if the interrupted run scored its formats.
    func evaluation(of candidate: Candidate) -> Evaluation? { table[Self.formats(space.config(for: candidate), space: space)] }

    var count: Int { table.count }

    /// The resumed run wrote its summary: the interrupted log is no longer needed.
    func finished() { try? FileManager.default.removeItem(atPath: keptPath) }

    /// Per variable of `space`, [bits, fractional bits] under `config`: a candidate as the log writes it.
    static func formats(_ config: QuantConfig, space: SearchSpace) -> [[Int]] {
        space.variables.map { v in [config.formats[v.tensor]?.bits ?? 0, config.formats[v.tensor]?.fracBits ?? 0] }
    }
}
