import Testing
@testable import Tuner
import FixedPoint
import ModelIR

/// The strategies against a fake evaluator whose objectives are known functions of the genes.
@Suite struct StrategyTests {
    /// Accuracy rises with bits and with offsets near 0; RAM and cycles grow with bits; a RAM budget
    /// makes some candidates infeasible.
    struct FakeEvaluator: CandidateEvaluator {
        var budgetRAM: Int
        var calls = 0
        mutating func evaluate(_ c: Candidate) -> Evaluation {
            calls += 1
            var accuracy = 0.5, ram = 0, cycles = 0.0
            for (i, g) in c.genes.enumerated() {
                accuracy += (g.bits == 16 ? 0.04 : 0.02) / Double(i + 1) - 0.01 * Double(abs(g.offset)) / Double(i + 2)
                ram += g.bits * (i + 3)
                cycles += Double(g.bits * g.bits) * Double(i + 1) + Double(g.offset + 3)
            }
            let objectives = Evaluation.Objectives(accuracy: accuracy, disagreement: 0, cycles: cycles, ramBytes: ram, flashBytes: 100)
            if ram > budgetRAM {
                return Evaluation(objectives: objectives, outcome: .overBudget, violation: Double(ram - budgetRAM))
            }
            return Evaluation(objectives: objectives, outcome: .ok)
        }
    }

    func space(variables: Int) -> SearchSpace {
        var maxAbs: [String: Double] = [:]
        var nodes: [Node] = []
        var previous = "x"
        for i in 0..<variables - 1 {
            nodes.append(Node(name: "n\(i)", op: .tanh, inputs: [previous], output: "t\(i)"))
            previous = "t\(i)"
            maxAbs["t\(i)"] = 1
        }
        maxAbs["x"] = 2
        let graph = try! Graph.checked(name: "chain", input: .init(name: "x", shape: Shape([3]), isSequence: false),
                                       output: previous, constants: [:], nodes: nodes)
        return SearchSpace(graph: graph, profile: RangeProfile(maxAbs: maxAbs), offsets: -2...1)
    }

    /// The non-dominated feasible set, by brute force over every trial.
    func expectedFront(_ trials: [Evaluation]) -> Set<[Double]> {
        let feasible = trials.filter(\.isFeasible).compactMap(\.objectives)
        let keys = feasible.filter { a in !feasible.contains { Pareto.dominates($0, a) } }
        return Set(keys.map { [$0.accuracy, $0.cycles, Double($0.ramBytes), Double($0.flashBytes)] })
    }

    func check<S: SearchStrategy>(_ strategy: S, variables: Int, seed: UInt64) -> SearchContext<FakeEvaluator> {
        var strategy = strategy
        var context = SearchContext(evaluator: FakeEvaluator(budgetRAM: 40 * variables + 60), maxEvaluations: 5000)
        var generator = SeededGenerator(seed: seed)
        strategy.search(space(variables: variables), &context, generator: &generator)
        let reported = Set(context.front.compactMap { context.trials[$0].evaluation.objectives }
            .map { [$0.accuracy, $0.cycles, Double($0.ramBytes), Double($0.flashBytes)] })
        #expect(reported == expectedFront(context.trials.map(\.evaluation)), "\(strategy.name)")
        #expect(context.front.allSatisfy { context.trials[$0].evaluation.isFeasible })
        return context
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func everyStrategyReportsExactlyTheNonDominatedFeasibleSet(seed: UInt64) {
        _ = check(GreedySearch(maxLoss: 0.02), variables: 4, seed: seed)
        _ = check(GeneticSearch(populationSize: 12, generations: 6), variables: 4, seed: seed)
        _ = check(RandomSearch(evaluations: 60), variables: 4, seed: seed)
        _ = check(ExhaustiveSearch(), variables: 3, seed: seed)
    }

    @Test func exhaustiveVisitsEveryCandidateOnce() {
        let context = check(ExhaustiveSearch(), variables: 3, seed: 0)
        #expect(context.trials.count == 8 * 8 * 8)
        #expect(context.evaluator.calls == 512)
    }

    @Test func memoizationEvaluatesEachCandidateOnce() {
        var context = SearchContext(evaluator: FakeEvaluator(budgetRAM: 1000), maxEvaluations: 100)
        let c = space(variables: 2).uniform(bits: 8)
        _ = context.evaluate(c)
        _ = context.evaluate(c)
        #expect(context.trials.count == 1 && context.evaluator.calls == 1)
    }

    @Test func geneticFrontDominatesOrEqualsTheUniformConfigs() {
        let s = space(variables: 5)
        var context = SearchContext(evaluator: FakeEvaluator(budgetRAM: 10_000), maxEvaluations: 5000)
        var generator = SeededGenerator(seed: 9)
        var genetic = GeneticSearch(populationSize: 16, generations: 10)
        genetic.search(s, &context, generator: &generator)
        var probe = FakeEvaluator(budgetRAM: 10_000)
        let front = context.front.compactMap { context.trials[$0].evaluation.objectives }
        for uniform in [s.uniform(bits: 16), s.uniform(bits: 8)] {
            guard let u = probe.evaluate(uniform).objectives else { continue }
            #expect(front.contains { Pareto.dominates($0, u) || $0 == u })
        }
    }

    @Test func constraintDominationPrefersFeasibleThenSmallerViolation() {
        let o = Evaluation.Objectives(accuracy: 0.9, disagreement: 0, cycles: 1, ramBytes: 1, flashBytes: 1)
        let feasible = Evaluation(objectives: o, outcome: .ok)
        let slightly = Evaluation(objectives: o, outcome: .overBudget, violation: 10)
        let far = Evaluation(objectives: o, outcome: .overBudget, violation: 100)
        #expect(Pareto.constrainedDominates(feasible, slightly))
        #expect(Pareto.constrainedDominates(slightly, far))
        #expect(!Pareto.constrainedDominates(far, feasible))
    }

    @Test func hypervolumeOfKnownFronts() {
        func point(_ acc: Double, _ ram: Int) -> Evaluation.Objectives {
            .init(accuracy: acc, disagreement: 0, cycles: 0, ramBytes: ram, flashBytes: 0)
        }
        // One point at error 0.2, RAM 0.5 of the reference: a 0.8 x 0.5 rectangle.
        #expect(abs(Pareto.hypervolume([point(0.8, 500)], ramReference: 1000) - 0.4) < 1e-12)
        // Adding a dominated point changes nothing; a better one adds its own area.
        #expect(abs(Pareto.hypervolume([point(0.8, 500), point(0.7, 600)], ramReference: 1000) - 0.4) < 1e-12)
        #expect(abs(Pareto.hypervolume([point(0.8, 500), point(0.9, 750)], ramReference: 1000) - (0.8 * 0.25 + 0.9 * 0.25)) < 1e-12)
    }
}
