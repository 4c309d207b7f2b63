import Foundation
import Testing
import TestSupport
@testable import Experiments

/// `tune batch --slurm` on a real single-node cluster: one array task per pending run, each writing
/// its run directory and manifest line as a local worker would.
@Suite struct SlurmBatchTests {
    @Test(.enabled(if: SlurmCluster.canStart, SlurmCluster.whyNot), .timeLimit(.minutes(10)))
    func aBatchRunsAsASlurmArray() async throws {
        let cluster = try SlurmCluster.start()
        defer { #expect(cluster.stop() == nil) }
        let environment = ["SLURM_CONF": cluster.configPath]
        let dir = makeTemporaryDirectory("slurm-batch")
        try """
            name: slurm-test
            matrix:
              model: [mlp-digits]
              target: [uno]
              budget_ram: [2048]
              strategy: [greedy]
              seed: [0, 1]
            options: {max_evaluations: 40, verify: false, profile: false}
            """.write(toFile: "\(dir)/batch.yaml", atomically: true, encoding: .utf8)
        let out = "\(dir)/out"
        let submitted = try TuneExecutable.run(["batch", "\(dir)/batch.yaml", "--out", out, "--slurm", "--time", "10"], environment: environment)
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        let words = submitted.stdout.split(separator: " ")
        let jobID = try #require(words.firstIndex(of: "job").map { String(words[$0 + 1]) }, "\(submitted.stdout)")
        let deadline = ContinuousClock.now + .seconds(150)
        while try SlurmArray.isQueued(jobID: jobID, environment: environment) {
            guard ContinuousClock.now < deadline else { Issue.record("array \(jobID) did not finish"); break }
            try await Task.sleep(for: .milliseconds(300))
        }
        let runner = BatchRunner(config: try BatchConfig.load(path: "\(out)/batch.yaml", resources: .init(root: Repository.root)),
                                 directory: out, executable: TuneExecutable.path)
        let latest = runner.manifest.latest()
        for run in runner.config.runs {
            let taskLogs = (try? FileManager.default.contentsOfDirectory(atPath: "\(out)/slurm")) ?? []
            #expect(latest[run.id]?.state == .done, "\(run.id): \(latest[run.id].map { "\($0)" } ?? "no entry"); slurm dir: \(taskLogs)")
            #expect(latest[run.id]?.worker?.hasPrefix("slurm \(jobID)_") == true)
            #expect(FileManager.default.fileExists(atPath: "\(out)/runs/\(run.id)/summary.json"))
        }
        let status = try TuneExecutable.run(["batch", "--status", "--out", out])
        #expect(status.stdout.contains("batch    2 runs: 2 done"), "\(status.stdout)")
        // Submitted again, nothing is pending.
        let again = try TuneExecutable.run(["batch", "\(dir)/batch.yaml", "--out", out, "--slurm"], environment: environment)
        #expect(again.stdout.contains("every run of \(out) has finished"), "\(again.stdout)")
    }
}
