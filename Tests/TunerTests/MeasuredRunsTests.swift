import Foundation
import Testing
import TestSupport
import Devices
import FixedPoint
import Hardware
import ModelIR
@testable import Tuner

/// A search that measures its candidates' fused runs (`tune --measure-runs`) on the simulated Uno:
/// every candidate it scores has its run priced at what the board measured, the same seed gives
/// the same log, and a run measured on one validation sample prices the run as it goes on other
/// inputs.
@Suite struct MeasuredRunsTests {
    @Test func aSearchThatMeasuresRunsPricesEachCandidatesRunAsTheBoardRunsIt() throws {
        let model = try ModelLoader.load(Repository.path("models/fastgrnn-japanesevowels"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let board = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let device = try DeviceCatalog(root: Repository.root).device(for: board)
        var profiling = KernelProfiling(device: device, cacheDirectory: nil)
        profiling.programs = 2
        func search() throws -> TuningJob.Result {
            try TuningJob(model: model, dataset: dataset, target: board, settings: .init(
                strategy: .random, seed: 3, budgets: .init(ramBytes: 2048, flashBytes: board.flashBytes, maxLoss: nil), maxEvaluations: 4,
                profiling: profiling, profileDirectory: makeTemporaryDirectory("profile"), measureRuns: true)).run()
        }
        let result = try search()
        #expect(result.runMeasurementFailure == nil)
        // The profile's two programs (all8, all16) did not hold the random candidates' runs.
        #expect(result.runsMeasured >= 1 && result.runsMeasured <= 4)
        #expect(result.log.text.contains("\"measured_runs\":true"))
        let profile = try #require(result.profile?.profile)
        #expect(profile.programs == 2)
        let programs = try result.trials.map { try FixedProgram(graph: model.graph, config: result.space.config(for: $0.candidate)) }
        for program in programs {
            #expect(!profile.lacksMeasurement(of: program, dsp: false, avr: true))
        }
        // The same seed, the same measurements, the same log.
        #expect(try search().log.text == result.log.text)

        // The run of the first candidate measured again on two whole test sequences: priced within 3%.
        let program = try #require(programs.first)
        let test = try dataset.load(split: "test").prefix(2)
        let nodes = try KernelProfiler.measureNodes(program, split: test, device: device, directory: makeTemporaryDirectory("run"))
        let run = try #require(nodes.first { $0.variant == KernelProfile.fusedRun })
        let counts = try #require(CostFeatures.nodes(program, dsp: false, avr: true)[run.node])
        let priced = try #require(profile.lookup(node: run.node, counts: counts, priced: 0))
        #expect(priced.basis == .signature)
        #expect(abs(priced.cycles / run.measuredCycles - 1) < 0.03, "priced \(priced.cycles), measured \(run.measuredCycles)")
    }
}
