import Foundation
import Testing
import TestSupport

/// `tune batch configs/smoke.yaml` (what CI runs), stopped with SIGKILL mid-batch and restarted.
@Suite(.serialized) struct BatchTests {
    static func manifest(_ dir: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: "\(dir)/manifest.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Runs whose log has candidates but no summary yet.
    static func midSearch(_ dir: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/runs")) ?? []
        return entries.filter { $0.hasSuffix(".partial") }.filter { staged in
            let log = (try? String(contentsOfFile: "\(dir)/runs/\(staged)/log.jsonl", encoding: .utf8)) ?? ""
            return log.split(separator: "\n").count > 20 && !log.contains(#""type":"summary""#)
        }.count
    }

    @Test func aBatchKilledMidRunFinishesEveryRunExactlyOnceWithTheLogsOfAnUninterruptedOne() throws {
        let whole = makeTemporaryDirectory("batch-whole"), killed = makeTemporaryDirectory("batch-killed")
        let reference = try TuneExecutable.run(["batch", "configs/smoke.yaml", "--out", whole, "--jobs", "2"])
        #expect(reference.status == 0, "\(reference.stdout)\(reference.stderr)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: "\(whole)/runs").filter { !$0.hasPrefix(".") && !$0.hasSuffix(".log") }.sorted()
        #expect(runs.count == 8)

        // Start it again elsewhere; kill it, and the runs it started, once some are done and others mid-search.
        let batch = try TuneExecutable.start(["batch", "configs/smoke.yaml", "--out", killed, "--jobs", "2"])
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, batch.isRunning {
            let done = Self.manifest(killed).filter { $0["state"] as? String == "done" }.count
            if done >= 2, Self.midSearch(killed) > 0 { break }
            usleep(20_000)
        }
        kill(batch.processIdentifier, SIGKILL)
        batch.waitUntilExit()
        // Its runs go on without it (their own process groups): kill them too, as a reboot would.
        for entry in Self.manifest(killed) where entry["state"] as? String == "started" {
            if let pid = entry["pid"] as? Int { kill(pid_t(pid), SIGKILL) }
        }
        let before = Self.manifest(killed)
        #expect(Self.midSearch(killed) > 0, "no run was stopped mid-search; the resume path was not exercised")
        #expect(before.filter { $0["state"] as? String == "done" }.count < 8, "the batch finished before it was killed")

        let restarted = try TuneExecutable.run(["batch", "configs/smoke.yaml", "--out", killed, "--jobs", "2"])
        #expect(restarted.status == 0, "\(restarted.stdout)\(restarted.stderr)")
        let entries = Self.manifest(killed)
        #expect(entries.count >= before.count)
        for run in runs {
            #expect(entries.filter { $0["id"] as? String == run && $0["state"] as? String == "done" }.count == 1, "\(run)")
            #expect(try String(contentsOfFile: "\(killed)/runs/\(run)/log.jsonl", encoding: .utf8)
                    == String(contentsOfFile: "\(whole)/runs/\(run)/log.jsonl", encoding: .utf8), "\(run)")
        }
        // Started a third time, it has nothing left to do.
        let again = try TuneExecutable.run(["batch", "configs/smoke.yaml", "--out", killed])
        #expect(again.stdout.contains("0 done now, 8 finished before, 0 failed"), "\(again.stdout)")
        let status = try TuneExecutable.run(["batch", "--status", "--out", killed])
        #expect(status.stdout.contains("batch    8 runs: 8 done"), "\(status.stdout)")
    }

    @Test func aFailingRunIsRecordedAndTheBatchGoesOn() throws {
        let dir = makeTemporaryDirectory("batch-fail")
        let config = "\(dir)/fail.yaml"
        try """
            matrix:
              model: [mlp-digits]
              target: [uno]
              budget_ram: [64, 2048]
              strategy: [greedy]
            options: {max_evaluations: 30, verify: false, profile: false}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try TuneExecutable.run(["batch", config, "--out", "\(dir)/out"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("1 done now, 0 finished before, 1 failed"), "\(result.stdout)")
        #expect(result.stdout.contains("failed   mlp-digits-uno-ram64-greedy-s0: no config fits"), "\(result.stdout)")
    }

    @Test func aBadConfigIsRefusedBeforeAnyRun() throws {
        let dir = makeTemporaryDirectory("batch-bad")
        try "matrix:\n  model: [mlp-digits]\n  target: [uno]\n  strategy: [annealing]\n".write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let result = try TuneExecutable.run(["batch", "\(dir)/bad.yaml", "--out", "\(dir)/out"])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: \(dir)/bad.yaml:4: matrix.strategy: unknown strategy 'annealing'; allowed: greedy, genetic, random, exhaustive\n")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out"))
    }
}
