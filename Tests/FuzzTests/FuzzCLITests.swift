import Foundation
import Testing
import TestSupport

/// A few fuzz cases through the real `tune`, as a user runs it: whatever the input, the process
/// exits 0, or 1 with exactly one line on stderr that starts `Error: `, or 64 for a bad option;
/// never a signal. (The in-process suite runs thousands; spawning `tune` is the slow part.)
@Suite struct FuzzCLITests {
    static let seed: UInt64 = 12
    /// Cases 0..<16 of the seed: inspected, checked (C compiled and compared), or, for a target
    /// file, listed with `tune targets`.
    static let cases = Array(0..<16)

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func aMutatedInputEndsWithAResultOrOneErrorLine(index: Int) throws {
        let seeds = try Self.seeds()
        let fuzzCase = FuzzCase.make(index: index, seed: Self.seed, seeds: seeds)
        let root = makeTemporaryDirectory("fuzz-cli-\(index)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try fuzzCase.write(to: root)
        let result: CommandResult
        switch fuzzCase.artifact {
        case .target:
            result = try TuneExecutable.run(["targets"], environment: ["MCUTUNE_HOME": try home(targets: "\(root)/targets")])
        case .config:
            result = try TuneExecutable.run(["check", "--model", "\(root)/model", "--config", "\(root)/config.json", "--split", "val",
                                             "--out", "\(root)/c"])
        default:
            result = index % 2 == 0 ? try TuneExecutable.run(["inspect", "\(root)/model"])
                : try TuneExecutable.run(["check", "--model", "\(root)/model", "--config", "all8", "--split", "val", "--out", "\(root)/c"])
        }
        print("fuzz-cli: \(fuzzCase.summary) -> exit \(result.status)" + (result.status == 1 ? ": \(result.stderr.prefix(160))" : ""))
        Self.expectCleanEnd(result, fuzzCase.summary)
    }

    @Test func optionErrorsExit64WithAUsageMessage() throws {
        for arguments in [["check", "--split", "nope"], ["check", "--model", ""], ["inspect", "--no-such-option"]] {
            let result = try TuneExecutable.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: "), "\(arguments): \(result.stderr)")
        }
    }

    /// Exit 0; or 1 with exactly one line, `Error: ...`; or 64. Anything else (a signal's status,
    /// a trap's message, a second line) fails, naming the case.
    static func expectCleanEnd(_ result: CommandResult, _ what: String) {
        switch result.status {
        case 0:
            #expect(!result.stderr.contains("Error"), "\(what): exit 0 but \(result.stderr)")
        case 1:
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2 && lines[1].isEmpty && lines[0].hasPrefix("Error: ") && lines[0].count > 7,
                    "\(what): stderr is not one Error: line: \(result.stderr.debugDescription)")
            for marker in FuzzPipeline.rawErrorMarkers { #expect(!result.stderr.contains(marker), "\(what): \(result.stderr)") }
        case 64:
            #expect(result.stderr.hasPrefix("Error: "), "\(what): \(result.stderr)")
        default:
            Issue.record("\(what): exit status \(result.status) (a signal?)\nstdout: \(result.stdout.suffix(500))\nstderr: \(result.stderr.suffix(2000))")
        }
    }

    /// A checkout-like home whose boards are the case's, for `tune targets`.
    private func home(targets: String) throws -> String {
        let home = makeTemporaryDirectory("fuzz-home")
        try FileManager.default.createDirectory(atPath: "\(home)/configs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(home)/configs/targets", withDestinationPath: targets)
        try FileManager.default.createSymbolicLink(atPath: "\(home)/models", withDestinationPath: Repository.path("models"))
        return home
    }

    nonisolated(unsafe) private static var cachedSeeds: [FuzzSeed]?
    private static let lock = NSLock()

    /// The corpus, built once for all the cases of this suite.
    static func seeds() throws -> [FuzzSeed] {
        try lock.withLock {
            if let cachedSeeds { return cachedSeeds }
            let seeds = try FuzzCorpus.seeds()
            cachedSeeds = seeds
            return seeds
        }
    }
}
