/// Pareto dominance over (accuracy ↑, fidelity's logit error ↓, cycles ↓, RAM ↓, flash ↓), with constraint domination
/// (Deb's NSGA-II, section III-C): a feasible point beats an infeasible one, and of two infeasible
/// points the one less over its budgets wins.
public enum Pareto {
    public static func dominates(_ a: Evaluation.Objectives, _ b: Evaluation.Objectives) -> Bool {
        let noWorse = a.accuracy >= b.accuracy && a.logitError <= b.logitError && a.cycles <= b.cycles && a.ramBytes <= b.ramBytes
            && a.flashBytes <= b.flashBytes
        let better = a.accuracy > b.accuracy || a.logitError < b.logitError || a.cycles < b.cycles || a.ramBytes < b.ramBytes
            || a.flashBytes < b.flashBytes
        return noWorse && better
    }

    public static func constrainedDominates(_ a: Evaluation, _ b: Evaluation) -> Bool {
        switch (a.isFeasible, b.isFeasible) {
        case (true, false): return true
        case (false, true): return false
        case (false, false): return a.violation < b.violation
        case (true, true):
            guard let x = a.objectives, let y = b.objectives else { return false }
            return dominates(x, y)
        }
    }

    /// Indices of the feasible evaluations no other feasible one dominates (points with the same
    /// objectives are kept once: the first).
    public static func front(_ evaluations: [Evaluation]) -> [Int] {
        let feasible = evaluations.indices.filter { evaluations[$0].isFeasible && evaluations[$0].objectives != nil }
        var front: [Int] = []
        for i in feasible {
            guard let a = evaluations[i].objectives else { continue }
            let dominated = feasible.contains { j in evaluations[j].objectives.map { dominates($0, a) } ?? false }
            let duplicate = front.contains { j in
                evaluations[j].objectives.map { !dominates($0, a) && !dominates(a, $0) && $0.accuracy == a.accuracy
                    && $0.logitError == a.logitError && $0.cycles == a.cycles && $0.ramBytes == a.ramBytes && $0.flashBytes == a.flashBytes } ?? false
            }
            if !dominated && !duplicate { front.append(i) }
        }
        return front
    }

    /// Non-dominated sorting under constraint domination: fronts of indices, best first.
    public static func sortedFronts(_ evaluations: [Evaluation]) -> [[Int]] {
        var dominatedBy = Array(repeating: 0, count: evaluations.count)
        var dominating = Array(repeating: [Int](), count: evaluations.count)
        for i in evaluations.indices {
            for j in evaluations.indices where i != j {
                if constrainedDominates(evaluations[i], evaluations[j]) { dominating[i].append(j) }
                else if constrainedDominates(evaluations[j], evaluations[i]) { dominatedBy[i] += 1 }
            }
        }
        var fronts: [[Int]] = []
        var current = evaluations.indices.filter { dominatedBy[$0] == 0 }
        while !current.isEmpty {
            fronts.append(current)
            var next: [Int] = []
            for i in current {
                for j in dominating[i] {
                    dominatedBy[j] -= 1
                    if dominatedBy[j] == 0 { next.append(j) }
                }
            }
            current = next.sorted()
        }
        return fronts
    }

    /// Crowding distance of each member of one front (larger is lonelier; ends are infinite).
    public static func crowding(_ front: [Int], _ evaluations: [Evaluation]) -> [Int: Double] {
        var distance = Dictionary(uniqueKeysWithValues: front.map { ($0, 0.0) })
        let keys: [(Evaluation.Objectives) -> Double] = [{ $0.accuracy }, { $0.logitError }, { $0.cycles }, { Double($0.ramBytes) },
                                                         { Double($0.flashBytes) }]
        for key in keys {
            let value = Dictionary(uniqueKeysWithValues: front.map { ($0, key(evaluations[$0].objectives ?? zero)) })
            let sorted = front.sorted { (value[$0] ?? 0, $0) < (value[$1] ?? 0, $1) }
            guard let first = sorted.first, let last = sorted.last else { continue }
            distance[first] = .infinity
            distance[last] = .infinity
            let span = (value[last] ?? 0) - (value[first] ?? 0)
            guard span > 0, sorted.count > 2 else { continue }
            for k in 1..<(sorted.count - 1) {
                distance[sorted[k], default: 0] += ((value[sorted[k + 1]] ?? 0) - (value[sorted[k - 1]] ?? 0)) / span
            }
        }
        return distance
    }

    static let zero = Evaluation.Objectives(accuracy: 0, disagreement: 0, cycles: 0, ramBytes: 0, flashBytes: 0)

    /// Area dominated by a front in (error, RAM) normalized to [0,1]², against the reference point
    /// (error 1, RAM `ramReference`): larger is better. Used to compare strategies.
    public static func hypervolume(_ points: [Evaluation.Objectives], ramReference: Double) -> Double {
        var pts: [(error: Double, ram: Double)] = []
        for p in points {
            let ram = min(Double(p.ramBytes) / ramReference, 1)
            if ram < 1 { pts.append((1 - p.accuracy, ram)) }
        }
        pts.sort { a, b in a.ram < b.ram || (a.ram == b.ram && a.error < b.error) }
        var volume = 0.0, bestError = 1.0
        for (i, p) in pts.enumerated() {
            bestError = min(bestError, p.error)
            let nextRAM: Double = i + 1 < pts.count ? pts[i + 1].ram : 1
            volume += (1 - bestError) * (nextRAM - p.ram)
        }
        return volume
    }
}
