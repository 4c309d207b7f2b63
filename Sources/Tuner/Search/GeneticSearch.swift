import FixedPoint
/// NSGA-II (Deb et al., IEEE TEC 2002): non-dominated sorting, crowding distance and constraint
/// domination over (accuracy, cycles, RAM, flash).
///
/// The first population holds the seeds (greedy's result, the uniform 16- and 8-bit configs) and
/// random candidates. Each generation breeds children by binary tournament (lower front rank,
/// then larger crowding distance), uniform crossover and per-gene mutation (flip the width, or move
/// the scale by one), and keeps the best `populationSize` of parents and children.
public struct GeneticSearch: SearchStrategy {
    public let name = "genetic"
    public var populationSize: Int
    public var generations: Int
    public var mutationRate: Double
    public var seeds: [Candidate]

    public init(populationSize: Int = 24, generations: Int = 12, mutationRate: Double = 0.1, seeds: [Candidate] = []) {
        self.populationSize = populationSize
        self.generations = generations
        self.mutationRate = mutationRate
        self.seeds = seeds
    }

    public mutating func search<E: CandidateEvaluator>(_ space: SearchSpace, _ context: inout SearchContext<E>,
                                                       generator: inout SeededGenerator) {
        var population: [Candidate] = []
        for seed in seeds + [space.uniform(bits: 16), space.uniform(bits: 8)] where !population.contains(seed) {
            population.append(seed)
        }
        while population.count < populationSize { population.append(space.random(using: &generator)) }
        population = Array(population.prefix(populationSize))
        var scored = population.map { ($0, context.evaluate($0)) }
        for _ in 0..<generations where !context.shouldStop {
            let (rank, crowding) = Self.rankAndCrowding(scored.map(\.1))
            var children: [Candidate] = []
            while children.count < populationSize && !context.shouldStop {
                let a = tournament(rank, crowding, &generator), b = tournament(rank, crowding, &generator)
                var child = crossover(scored[a].0, scored[b].0, &generator)
                mutate(&child, space, &generator)
                children.append(child)
            }
            let combined = scored + children.map { ($0, context.evaluate($0)) }
            scored = Self.survivors(combined, count: populationSize)
        }
    }

    /// Front rank and crowding distance of each member.
    static func rankAndCrowding(_ evaluations: [Evaluation]) -> (rank: [Int], crowding: [Double]) {
        var rank = Array(repeating: 0, count: evaluations.count)
        var crowding = Array(repeating: 0.0, count: evaluations.count)
        for (r, front) in Pareto.sortedFronts(evaluations).enumerated() {
            let distance = Pareto.crowding(front, evaluations)
            for i in front {
                rank[i] = r
                crowding[i] = distance[i] ?? 0
            }
        }
        return (rank, crowding)
    }

    /// The best `count` by (front rank, larger crowding distance), keeping each candidate once.
    static func survivors(_ combined: [(Candidate, Evaluation)], count: Int) -> [(Candidate, Evaluation)] {
        var unique: [(Candidate, Evaluation)] = []
        var seen = Set<Candidate>()
        for entry in combined where seen.insert(entry.0).inserted { unique.append(entry) }
        let (rank, crowding) = rankAndCrowding(unique.map(\.1))
        let order = unique.indices.sorted { (rank[$0], -crowding[$0], $0) < (rank[$1], -crowding[$1], $1) }
        return order.prefix(count).map { unique[$0] }
    }

    private func tournament(_ rank: [Int], _ crowding: [Double], _ generator: inout SeededGenerator) -> Int {
        let a = Int(generator.next() % UInt64(rank.count)), b = Int(generator.next() % UInt64(rank.count))
        if rank[a] != rank[b] { return rank[a] < rank[b] ? a : b }
        return crowding[a] >= crowding[b] ? a : b
    }

    private func crossover(_ a: Candidate, _ b: Candidate, _ generator: inout SeededGenerator) -> Candidate {
        Candidate(genes: zip(a.genes, b.genes).map { generator.next() & 1 == 0 ? $0 : $1 })
    }

    private func mutate(_ c: inout Candidate, _ space: SearchSpace, _ generator: inout SeededGenerator) {
        for i in c.genes.indices where Double(generator.next() >> 11) / Double(1 << 53) < mutationRate {
            if generator.next() & 1 == 0 {
                c.genes[i].bits = c.genes[i].bits == 8 ? 16 : 8
            } else {
                let step = generator.next() & 1 == 0 ? -1 : 1
                c.genes[i].offset = min(max(c.genes[i].offset + step, space.offsets.lowerBound), space.offsets.upperBound)
            }
        }
    }
}
