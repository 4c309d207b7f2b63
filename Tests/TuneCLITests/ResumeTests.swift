import Foundation
import Testing
import TestSupport

/// A run stopped mid-search (kill -9 or Ctrl-C) leaves a log of every candidate it scored, and
/// `tune --resume` finishes it to the same log and pick as a run that was never stopped.
@Suite(.serialized) struct ResumeTests {
    static let options = ["--model", "mlp-digits", "--target", "uno", "--budget-ram", "2048", "--no-verify",
                          "--max-evaluations", "400", "--seed", "3"]

    /// Where a run writes until it completes: `.NAME.partial` beside its --out.
    static func staging(_ out: String) -> String {
        ((out as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".\((out as NSString).lastPathComponent).partial")
    }

    /// Starts `tune` with `arguments`, waits until its log holds `lines` lines and no summary, sends `signal`.
    static func stop(_ arguments: [String], log: String, afterLines lines: Int, signal: Int32) throws -> Int32 {
        let process = try TuneExecutable.start(arguments)
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= lines, !text.contains(#""type":"summary""#) { break }
            usleep(10_000)
        }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func aKilledRunResumesToTheUninterruptedLogAndPick() throws {
        let whole = makeTemporaryDirectory("whole"), stopped = makeTemporaryDirectory("killed")
        let reference = try TuneExecutable.run(Self.options + ["--out", whole])
        #expect(reference.status == 0, "\(reference.stderr)")
        _ = try Self.stop(Self.options + ["--out", stopped], log: "\(Self.staging(stopped))/log.jsonl", afterLines: 80, signal: SIGKILL)
        let partial = try String(contentsOfFile: "\(Self.staging(stopped))/log.jsonl", encoding: .utf8)
        #expect(!partial.contains(#""type":"summary""#), "the run finished before it was killed; the test proves nothing")
        let resumed = try TuneExecutable.run(["--resume", stopped])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed  "))
        #expect(try String(contentsOfFile: "\(stopped)/log.jsonl", encoding: .utf8)
                == String(contentsOfFile: "\(whole)/log.jsonl", encoding: .utf8))
        #expect(!FileManager.default.fileExists(atPath: "\(stopped)/log.jsonl.interrupted"))
        #expect(!FileManager.default.fileExists(atPath: Self.staging(stopped)))
        let pick = { (dir: String) in try String(contentsOfFile: "\(dir)/config.json", encoding: .utf8) }
        #expect(try pick(stopped) == pick(whole))
    }

    @Test func ctrlCWritesTheBestSoFarAndExits130() throws {
        let out = makeTemporaryDirectory("interrupted")
        let status = try Self.stop(Self.options + ["--out", out], log: "\(Self.staging(out))/log.jsonl", afterLines: 60, signal: SIGINT)
        #expect(status == 130)
        let log = try String(contentsOfFile: "\(out)/log.jsonl", encoding: .utf8)
        #expect(log.contains(#""interrupted":true"#))
        #expect(FileManager.default.fileExists(atPath: "\(out)/model.c"))
    }

    /// The second Ctrl-C stops at once but loses nothing: it says how to go on, and that works.
    @Test func aSecondCtrlCStopsAtOnceAndTheRunResumes() throws {
        let out = makeTemporaryDirectory("twice")
        let process = try TuneExecutable.start(Self.options + ["--out", out])
        let log = "\(Self.staging(out))/log.jsonl"
        while process.isRunning, ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count < 40 {
            usleep(10_000)
        }
        kill(process.processIdentifier, SIGINT)
        usleep(1_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let resumed = try TuneExecutable.run(["--resume", out])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(out)/model.c"))
        #expect(try String(contentsOfFile: "\(out)/log.jsonl", encoding: .utf8).contains(#""type":"summary""#))
    }

    @Test func aSecondRunOnTheSameOutIsRefusedWhileTheFirstRuns() throws {
        let out = makeTemporaryDirectory("busy")
        let first = try TuneExecutable.start(Self.options + ["--out", out])
        defer { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() }
        while first.isRunning, !FileManager.default.fileExists(atPath: "\(Self.staging(out))/log.jsonl") { usleep(10_000) }
        let second = try TuneExecutable.run(Self.options + ["--out", out])
        #expect(second.status == 1)
        #expect(second.stderr.contains("is in use by another tune run (pid \(first.processIdentifier))"), "\(second.stderr)")
    }

    @Test func resumeRefusesOtherOptionsAndAMissingRun() throws {
        let mixed = try TuneExecutable.run(["--resume", makeTemporaryDirectory("x"), "--seed", "4"])
        #expect(mixed.status == 64)
        #expect(mixed.stderr.contains("give no other option"))
        let missing = try TuneExecutable.run(["--resume", makeTemporaryDirectory("empty")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("run.json is missing"))
    }
}
