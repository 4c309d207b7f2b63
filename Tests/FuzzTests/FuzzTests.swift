import Dispatch
import FixedPoint
import Foundation
import Testing

/// Issue 12, item 3: mutated models, weights, datasets, targets and configs, and random byte flips
/// and truncations of any of them, each of which must end with a result that passes its checks or
/// with one clear error line; never a trap (which ends this process: that is the failure we hunt)
/// and never a hang (a watchdog names a case that runs over a minute and ends the process).
///
/// Environment: `MCUTUNE_FUZZ_SEED` (default 12), `MCUTUNE_FUZZ_CASES` (default 2,000),
/// `MCUTUNE_FUZZ_ONLY=N` to replay case N alone, `MCUTUNE_FUZZ_VERBOSE=1` to print each case
/// before it runs and its outcome after (a trap's case is the last one its thread started).
@Suite struct FuzzTests {
    static let defaultSeed: UInt64 = 12
    static let defaultCases = 2_000
    /// Three minutes for the default 2,000 cases (they take under one), more for a bigger run.
    static let minutesAllowed = max(3, (ProcessInfo.processInfo.environment["MCUTUNE_FUZZ_CASES"].flatMap { Int($0) } ?? 0) / 600)

    struct Result: Sendable {
        var fuzzCase: FuzzCase
        var outcome: FuzzOutcome
        var seconds: Double
    }

    @Test(.timeLimit(.minutes(Self.minutesAllowed)))
    func mutatedInputsEndInAResultOrOneErrorLine() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["MCUTUNE_FUZZ_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let count = environment["MCUTUNE_FUZZ_CASES"].flatMap { Int($0) } ?? Self.defaultCases
        let only = environment["MCUTUNE_FUZZ_ONLY"].flatMap { Int($0) }
        let verbose = environment["MCUTUNE_FUZZ_VERBOSE"] == "1"
        let indices = only.map { [$0] } ?? Array(0..<count)

        let started = Date()
        let seeds = try FuzzCorpus.seeds()
        let pipeline = try FuzzPipeline(seeds: seeds)
        let results = Self.runAll(indices, seed: seed, seeds: seeds, pipeline: pipeline, verbose: verbose)
        let seconds = Date().timeIntervalSince(started)

        print(Self.report(results, seed: seed, seconds: seconds))
        let failures = results.filter { if case .failure = $0.outcome { true } else { false } }
        for result in failures.prefix(40) {
            if case let .failure(step, reason) = result.outcome {
                Issue.record("\(result.fuzzCase.summary)\n  at \(step): \(reason)\n  replay: MCUTUNE_FUZZ_SEED=\(seed) MCUTUNE_FUZZ_ONLY=\(result.fuzzCase.index)")
            }
        }
        #expect(results.count == indices.count)
    }

    /// Every case, on as many threads as there are cores; results in case order whatever the scheduling.
    static func runAll(_ indices: [Int], seed: UInt64, seeds: [FuzzSeed], pipeline: FuzzPipeline, verbose: Bool) -> [Result] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, indices.count))
        let board = RunBoard()
        let watchdog = Thread { board.watch(seed: seed) }
        watchdog.start()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for position in stride(from: worker, to: indices.count, by: workers) {
                let fuzzCase = FuzzCase.make(index: indices[position], seed: seed, seeds: seeds)
                if verbose { FileHandle.standardError.write(Data("fuzz: \(fuzzCase.summary)\n".utf8)) }
                board.started(fuzzCase)
                let start = Date()
                let outcome = pipeline.run(fuzzCase)
                let result = Result(fuzzCase: fuzzCase, outcome: outcome, seconds: Date().timeIntervalSince(start))
                if verbose { FileHandle.standardError.write(Data(String(format: "fuzz:   case %d, %.3f s -> ", fuzzCase.index, result.seconds).appending("\(outcome)\n").utf8)) }
                board.finished(result)
            }
        }
        board.close()
        return board.results.sorted { $0.fuzzCase.index < $1.fuzzCase.index }
    }

    /// The cases in flight and the results so far, shared by the workers and the watchdog.
    ///
    /// The cases run synchronously, so the suite's time limit cannot cancel one that hangs: the
    /// watchdog names a slow case on stderr, and ends the process with a failure once it hangs.
    final class RunBoard: @unchecked Sendable {
        /// A case running longer than this is named on stderr (once); cases take under a second.
        static let slowSeconds = 20.0
        /// A case running longer than this hangs: the process exits with status 1.
        static let hangSeconds = 60.0
        private let lock = NSLock()
        private var running: [Int: (summary: String, start: Date, reported: Bool)] = [:]
        private var done = false
        private(set) var results: [Result] = []

        func started(_ fuzzCase: FuzzCase) { lock.withLock { running[fuzzCase.index] = (fuzzCase.summary, Date(), false) } }

        func finished(_ result: Result) {
            lock.withLock {
                running[result.fuzzCase.index] = nil
                results.append(result)
            }
        }

        func close() { lock.withLock { done = true } }

        func watch(seed: UInt64) {
            while !lock.withLock({ done }) {
                Thread.sleep(forTimeInterval: 1)
                lock.withLock {
                    for (index, entry) in running.sorted(by: { $0.key < $1.key }) {
                        let seconds = Date().timeIntervalSince(entry.start)
                        let replay = "(replay: MCUTUNE_FUZZ_SEED=\(seed) MCUTUNE_FUZZ_ONLY=\(index))"
                        if seconds > Self.hangSeconds {
                            FileHandle.standardError.write(Data("fuzz: HANG: \(entry.summary) has run for \(Int(seconds)) s \(replay)\n".utf8))
                            exit(1)
                        }
                        if !entry.reported, seconds > Self.slowSeconds {
                            FileHandle.standardError.write(Data("fuzz: still running after \(Int(seconds)) s: \(entry.summary) \(replay)\n".utf8))
                            running[index]?.reported = true
                        }
                    }
                }
            }
        }
    }

    /// `fuzz: N cases, seed S, K completed, M refused with an error, 0 crashes`, then a line per artifact.
    static func report(_ results: [Result], seed: UInt64, seconds: Double) -> String {
        func counts(_ rs: [Result]) -> (completed: Int, refused: Int, failed: Int) {
            rs.reduce(into: (0, 0, 0)) { sum, r in
                switch r.outcome {
                case .completed: sum.0 += 1
                case .refused: sum.1 += 1
                case .failure: sum.2 += 1
                }
            }
        }
        let all = counts(results)
        var lines = ["fuzz: \(results.count) cases, seed \(seed), \(all.completed) completed, \(all.refused) refused with an error, "
            + "0 crashes" + (all.failed > 0 ? ", \(all.failed) FAILED" : "") + String(format: " (%.1f s)", seconds)]
        for artifact in FuzzCase.Artifact.allCases {
            let rs = results.filter { $0.fuzzCase.artifact == artifact }
            let c = counts(rs)
            lines.append("  " + artifact.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
                         + String(format: "%5d cases: %4d completed, %4d refused", rs.count, c.completed, c.refused)
                         + (c.failed > 0 ? ", \(c.failed) failed" : ""))
        }
        // Where refusals come from, and the slowest case (a near-hang shows here first).
        var steps: [String: Int] = [:]
        for r in results { if case let .refused(step, _) = r.outcome { steps[step.components(separatedBy: " ")[0], default: 0] += 1 } }
        lines.append("  refused at: " + steps.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if let slowest = results.max(by: { $0.seconds < $1.seconds }) {
            lines.append(String(format: "  slowest: %.2f s, ", slowest.seconds) + slowest.fuzzCase.summary)
        }
        return lines.joined(separator: "\n")
    }
}
