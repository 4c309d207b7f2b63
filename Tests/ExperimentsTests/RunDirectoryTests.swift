import Testing
@testable import Experiments
@testable import Tuner

@Suite struct RunDirectoryTests {
    @Test func tornLastLineIsSkippedWithAWarning() {
        let text = #"{"type":"candidate","index":0,"strategy":"greedy","formats":[[16,8]],"fingerprint":"a","outcome":"ok"}"# + "\n"
            + #"{"type":"candidate","index":1,"strat"#
        let log = SearchLogFile.parse(text, path: "x/log.jsonl")
        #expect(log.candidates.count == 1)
        #expect(log.warnings.count == 1)
        #expect(log.warnings.first?.contains("x/log.jsonl:2") == true)
        #expect(log.warnings.first?.contains("torn") == true)
    }
}
