import Evaluator
import Foundation

/// Which front point the tuner takes, in order of preference (the first that builds and fits wins).
public enum PickRule: Sendable, Equatable {
    /// Among the points whose validation accuracy is not significantly below the best (a one-sided
    /// exact McNemar test at 5% against the most accurate point, on the same validation samples),
    /// the most faithful to the float model on the fidelity samples (the fewest class disagreements,
    /// then the lowest logit error, within `logitTolerance`), then the fewest cycles, then the least RAM. On a small or easy validation split accuracies are noise
    /// or ties; fidelity is measured on many more inputs and decides.
    case accurate
    /// The fewest cycles among the points whose class differs from the float model's on at most
    /// `maxLoss` (a fraction) of inputs like the fidelity samples with 95% confidence (the one-sided
    /// Wilson bound of their disagreement there): disagreement bounds the accuracy loss, whatever
    /// the labels.
    case fastest(maxLoss: Double)
    /// The same, the least RAM first.
    case smallest(maxLoss: Double)
    /// The best validation accuracy, ties broken by fewer cycles, then less RAM: the rule before
    /// fidelity, kept to compare with (`tune bench --picks`).
    case validation

    public static let names = ["accurate", "fastest", "smallest", "validation"]

    /// The rule named `name`; `fastest` and `smallest` need `maxLoss`.
    public init?(name: String, maxLoss: Double?) {
        switch (name, maxLoss) {
        case ("accurate", _): self = .accurate
        case ("validation", _): self = .validation
        case let ("fastest", loss?): self = .fastest(maxLoss: loss)
        case let ("smallest", loss?): self = .smallest(maxLoss: loss)
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .accurate: "accurate"
        case .fastest: "fastest"
        case .smallest: "smallest"
        case .validation: "validation"
        }
    }

    /// Significance of the paired test behind `accurate`.
    public static let significance = 0.05
    /// Logit errors closer than this (a thousandth of the float outputs' variance) count as equal.
    public static let logitTolerance = 1e-3

    /// z of a one-sided 95% bound.
    static let oneSided95 = 1.6448536269514722

    /// The disagreement with the float model that `samples` fidelity samples bound at 95% (one-sided)
    /// when `observed` of them disagree.
    public static func disagreementBound(_ observed: Double, samples: Int) -> Double {
        Accuracy.wilson(accuracy: observed, samples: samples, z: oneSided95).upperBound
    }

    /// `front` (indices into `evaluations`) in order of preference, the fidelity measured on
    /// `fidelitySamples` inputs; points that do not qualify are left out.
    public func preference(_ front: [Int], _ evaluations: [Evaluation], fidelitySamples: Int) -> [Int] {
        let points = front.compactMap { i in evaluations[i].objectives.map { (index: i, o: $0) } }
        switch self {
        case .accurate:
            let kept = Set(Self.equivalent(front, evaluations))
            let equivalent = points.filter { kept.contains($0.index) }
            // The most faithful: fewest disagreements with float, then logit errors within `logitTolerance`
            // of the best count as equal, and the fewest cycles of those goes first.
            let fewest = equivalent.map(\.o.disagreement).min() ?? 0
            let closest = equivalent.filter { $0.o.disagreement == fewest }.map(\.o.logitError).min() ?? 0
            let faithful = equivalent.filter { $0.o.disagreement == fewest && $0.o.logitError <= closest + Self.logitTolerance }
            let first = Set(faithful.map(\.index)), second = Set(equivalent.map(\.index))
            return faithful.sorted { ($0.o.cycles, $0.o.ramBytes, $0.o.logitError, $0.index) < ($1.o.cycles, $1.o.ramBytes, $1.o.logitError, $1.index) }
                .map(\.index)
                + equivalent.filter { !first.contains($0.index) }
                .sorted { ($0.o.disagreement, $0.o.logitError, $0.o.cycles, $0.index) < ($1.o.disagreement, $1.o.logitError, $1.o.cycles, $1.index) }
                .map(\.index)
                + points.filter { !second.contains($0.index) }
                .sorted { (-$0.o.accuracy, $0.o.logitError, $0.o.cycles, $0.index) < (-$1.o.accuracy, $1.o.logitError, $1.o.cycles, $1.index) }
                .map(\.index)
        case .validation:
            return points.sorted { (-$0.o.accuracy, $0.o.cycles, $0.o.ramBytes, $0.index) < (-$1.o.accuracy, $1.o.cycles, $1.o.ramBytes, $1.index) }
                .map(\.index)
        case let .fastest(maxLoss):
            return points.filter { Self.disagreementBound($0.o.disagreement, samples: fidelitySamples) <= maxLoss + 1e-12 }
                .sorted { ($0.o.cycles, $0.o.ramBytes, $0.o.logitError, $0.index) < ($1.o.cycles, $1.o.ramBytes, $1.o.logitError, $1.index) }
                .map(\.index)
        case let .smallest(maxLoss):
            return points.filter { Self.disagreementBound($0.o.disagreement, samples: fidelitySamples) <= maxLoss + 1e-12 }
                .sorted { ($0.o.ramBytes, $0.o.cycles, $0.o.logitError, $0.index) < ($1.o.ramBytes, $1.o.cycles, $1.o.logitError, $1.index) }
                .map(\.index)
        }
    }

    /// The points of `front` whose validation accuracy is not significantly below the most accurate
    /// one's (ties: the lower logit error), in front order.
    public static func equivalent(_ front: [Int], _ evaluations: [Evaluation]) -> [Int] {
        let points = front.compactMap { i in evaluations[i].objectives.map { (index: i, o: $0) } }
        guard let best = points.min(by: { (-$0.o.accuracy, $0.o.logitError, $0.index) < (-$1.o.accuracy, $1.o.logitError, $1.index) }) else { return [] }
        return points.filter { !significantlyWorse(evaluations[$0.index].correct, than: evaluations[best.index].correct) }.map(\.index)
    }

    /// Whether a candidate with per-sample correctness `a` is significantly less accurate than one
    /// with `b` on the same samples: the one-sided exact McNemar test (of the samples exactly one of
    /// them gets right, b gets so many more that a fair coin would give as many less than 5% of the time).
    public static func significantlyWorse(_ a: [UInt64], than b: [UInt64]) -> Bool {
        guard a.count == b.count, !a.isEmpty else { return false }
        var onlyB = 0, onlyA = 0
        for (x, y) in zip(a, b) {
            onlyB += (y & ~x).nonzeroBitCount
            onlyA += (x & ~y).nonzeroBitCount
        }
        return mcnemarPValue(onlyB, onlyA) < significance
    }

    /// P(X ≥ k) for X ~ Binomial(k + m, 1/2): the chance of at least `k` of the `k + m` discordant
    /// samples going one way if neither candidate were better.
    public static func mcnemarPValue(_ k: Int, _ m: Int) -> Double {
        let n = k + m
        guard n > 0, k > 0 else { return 1 }
        let logHalf = Double(n) * log(0.5)
        var total = 0.0
        for i in k...n {
            total += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) + logHalf)
        }
        return min(1, total)
    }
}
