import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR
import Testing
import TestSupport
import Tuner

/// Fused elementwise runs (`ElementwiseFusion`) never raise the arena: on random configs of every
/// recurrent reference model (whose cells are where the runs are) and on the random graphs, the
/// specialised program's arena lower bound is at most the plain program's. An LSTM's output-gate
/// run once kept its candidate gate live across the output gate's products (a Uno pick's arena
/// 160 B against 144).
@Suite struct FusionArenaPropertyTests {
    static let recurrentModels = ["lstm-japanesevowels", "gru-italypowerdemand", "fastgrnn-japanesevowels", "fastgrnn-basicmotions"]

    @Test(arguments: recurrentModels)
    func fusedRunsNeverRaiseTheArenaOfARecurrentModel(_ name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let lowered = try Lowering.lower(model.graph)
        let space = SearchSpace(graph: lowered, profile: try Calibration.profile(model.graph, on: try dataset.load(split: "val").prefix(8)))
        var generator = SeededGenerator(seed: 13)
        var candidates = [space.uniform(bits: 8), space.uniform(bits: 16)]
        // Mixed widths are where fusion and the arena disagree: a stored value takes an input's
        // buffer only if it is no wider.
        for _ in 0..<150 { candidates.append(space.random(using: &generator)) }
        var split = 0, checked = 0
        for candidate in candidates {
            guard let program = try? FixedProgram(graph: lowered, config: space.config(for: candidate)) else { continue }
            checked += 1
            let fused = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches)
            let plain = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches, fusing: false)
            #expect(fused.lowerBound <= plain.lowerBound, "\(name) \(candidate.genes): fused arena bound \(fused.lowerBound) B > plain \(plain.lowerBound) B")
            if fused.lowerBound == plain.lowerBound, fused.bytes > plain.bytes {
                Issue.record("\(name) \(candidate.genes): fused arena \(fused.bytes) B > plain \(plain.bytes) B at the same bound")
            }
            let wholeRuns = ElementwiseFusion.runs(program).count
            if ElementwiseFusion.groups(program).count != wholeRuns { split += 1 }
        }
        #expect(checked >= 100)
        print("\(name): \(checked) configs, \(split) with a run split or left unfused to keep the arena")
    }

    @Test func fusedRunsNeverRaiseTheArenaOfARandomGraph() throws {
        var checked = 0
        for seed in RandomGraphSeeds.standard {
            guard let random = try? RandomGraphCase(seed: seed),
                  let program = try? FixedProgram(graph: random.graph, config: random.config),
                  !ElementwiseFusion.runs(program).isEmpty else { continue }
            let fused = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches)
            // Gathered patches are specialised too: compare where there are none.
            guard !fused.buffers.contains(where: { $0.tensors.contains { $0.hasSuffix("#patch") } }) else { continue }
            let plain = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches, fusing: false)
            checked += 1
            #expect(fused.lowerBound <= plain.lowerBound, "seed \(seed): fused arena bound \(fused.lowerBound) B > plain \(plain.lowerBound) B\n\(random.summary)")
        }
        #expect(checked >= 20)
    }
}
