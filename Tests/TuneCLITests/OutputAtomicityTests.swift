import Foundation
import Testing
import TestSupport

/// --out holds exactly one complete run's files, or the previous complete output: never a mix of
/// two runs, never a half-written run, whatever runs beside it and whenever it is killed.
@Suite(.serialized) struct OutputAtomicityTests {
    static func arguments(_ out: String, seed: Int) -> [String] {
        ["--model", "mlp-digits", "--target", "uno", "--budget-ram", "2048", "--no-verify", "--strategy", "greedy",
         "--max-evaluations", "40", "--seed", "\(seed)", "--out", out]
    }

    /// Every file of a run in `out` names the config fingerprint of its summary.json; the log ends in its summary.
    static func checkOneCompleteRun(_ out: String, _ context: String) throws {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        let fingerprint = try #require(summary?["config_fingerprint"] as? String, "\(context): no summary.json")
        for file in ["model.c", "model.h", "log.jsonl", "firmware/model.c", "firmware/main.c", "sketch/mcutune_model/model.c", "config.json", "run.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(context): \(file) missing")
        }
        for file in ["model.c", "model.h", "log.jsonl", "firmware/model.c", "sketch/mcutune_model/model.c"] {
            let text = (try? String(contentsOfFile: "\(out)/\(file)", encoding: .utf8)) ?? ""
            #expect(text.contains(fingerprint), "\(context): \(file) is not of the run whose summary says \(fingerprint)")
        }
        let log = (try? String(contentsOfFile: "\(out)/log.jsonl", encoding: .utf8)) ?? ""
        #expect(log.split(separator: "\n").last?.contains(#""type":"summary""#) == true, "\(context): the log does not end in its summary")
    }

    @Test func twoRunsOnOneOutNeverMix() throws {
        let out = makeTemporaryDirectory("atomic-pair") + "/out"
        for round in 0..<20 {
            let a = try TuneExecutable.start(Self.arguments(out, seed: round)), b = try TuneExecutable.start(Self.arguments(out, seed: round + 100))
            a.waitUntilExit()
            b.waitUntilExit()
            let statuses = [a.terminationStatus, b.terminationStatus]
            #expect(statuses.contains(0), "round \(round): \(statuses)")
            #expect(statuses.allSatisfy { $0 == 0 || $0 == 1 }, "round \(round): \(statuses)")
            try Self.checkOneCompleteRun(out, "round \(round)")
        }
    }

    @Test func aRunKilledAtAnyMomentLeavesThePreviousOutputOrItsOwn() throws {
        let out = makeTemporaryDirectory("atomic-kill") + "/out"
        let first = try TuneExecutable.run(Self.arguments(out, seed: 0))
        #expect(first.status == 0, "\(first.stderr)")
        var generator = SystemRandomNumberGenerator()
        var delays: [Int] = []
        for round in 0..<20 {
            let delay = Int.random(in: 0..<1_500_000, using: &generator)
            delays.append(delay / 1000)
            let run = try TuneExecutable.start(Self.arguments(out, seed: round + 1))
            usleep(UInt32(delay))
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            try Self.checkOneCompleteRun(out, "kill \(round) after \(delay / 1000) ms")
        }
        print("killed 20 runs after \(delays) ms")
    }
}
