import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The programs a calibration measures: small models of every family the tool runs (MLPs, CNNs
/// with plain and depthwise convolutions and pooling, FastGRNN, GRU and LSTM cells, ProtoNN, and
/// chains of elementwise ops), with shapes spread over the sizes microcontroller models have and
/// random per-tensor formats around the data-driven ones, so every kernel is seen at every operand
/// and accumulator width and over a range of shifts. Deterministic in its seed. None of the
/// reference models is among them: the cost model is checked on those afterwards.
public enum BenchmarkSuite {
    public struct Program: Sendable {
        public var name: String
        public var program: FixedProgram
        /// Inputs to run (random, roughly unit variance, as normalised sensor data is).
        public var split: DatasetSplit
    }

    public enum Family: String, CaseIterable, Sendable {
        case mlp, cnn, recurrent, protonn, elementwise
        /// A dense layer whose weights are far arrays (`CEmitter.farConstants`): only for boards
        /// whose flash holds them.
        case wide
    }

    /// `count` programs that cover the kernel variants evenly: a pool of random programs of every
    /// family (each accepted by `fits`; those whose accumulators would need more than 64 bits are
    /// drawn again) from which programs are taken one by one, each time the one whose kernel
    /// variants (kind, operand and accumulator widths) have been seen least so far.
    /// - Parameter far: also draw `wide` programs (an AVR board with more than 64 KB of flash).
    public static func programs(count: Int, seed: UInt64, far: Bool = false, fits: (FixedProgram) -> Bool = { _ in true }) -> [Program] {
        var generator = SeededGenerator(seed: seed)
        var pool: [(program: Program, variants: Set<String>)] = []
        var attempts = 0
        while pool.count < count * 4 && attempts < count * 40 {
            attempts += 1
            // Convolutions come in the most variants (widths by channel count), so twice as often.
            let families: [Family] = [.mlp, .cnn, .recurrent, .cnn, .protonn, .elementwise] + (far ? [.wide] : [])
            let family = families[attempts % families.count]
            var builder = BenchmarkGraphBuilder(generator: generator)
            guard let graph = try? builder.graph(family) else { generator = builder.generator; continue }
            generator = builder.generator
            let split = randomSplit(for: graph, generator: &generator)
            guard let config = try? randomConfig(for: graph, split: split, generator: &generator),
                  let program = try? FixedProgram(graph: graph, config: config), fits(program) else { continue }
            pool.append((Program(name: "\(family.rawValue)-\(attempts)", program: program, split: split), variants(of: program)))
        }
        var seen: [String: Int] = [:], chosen: [Program] = []
        while chosen.count < count, !pool.isEmpty {
            func score(_ variants: Set<String>) -> Double { variants.reduce(0) { $0 + 1 / Double(1 + (seen[$1] ?? 0)) } }
            guard let best = pool.indices.max(by: { (score(pool[$0].variants), $1) < (score(pool[$1].variants), $0) }) else { break }
            let taken = pool.remove(at: best)
            for variant in taken.variants { seen[variant, default: 0] += 1 }
            chosen.append(taken.program)
        }
        return chosen
    }

    /// The kernel variants a program runs: every count of its nodes' work but the shift terms, and
    /// for multiply-accumulate kernels the size class of their inner loop (short loops cost more
    /// per multiply-accumulate, so each width needs short and long ones).
    static func variants(of program: FixedProgram) -> Set<String> {
        var keys = Set<String>()
        // The variants as any core counts them (a DSP core adds its four-row blocks to the same kernels;
        // an AVR emits some convolutions in forms of its own, so both counts are covered).
        let counted = [CostFeatures.nodes(program, dsp: false, avr: false), CostFeatures.nodes(program, dsp: false, avr: true)]
        for nodes in counted {
            for step in program.allSteps {
                let counts = nodes[step.node.name] ?? [:]
                for key in counts.keys where !key.hasSuffix(".bits") { keys.insert(key) }
                for key in counts.keys where key.hasSuffix(".mac") {
                    let rows = counts.first { $0.key.hasSuffix(".row") || $0.key.hasSuffix(".out") }?.value ?? 1
                    let inner = (counts[key] ?? 0) / max(rows, 1)
                    keys.insert("\(key).\(inner <= 4 ? "k4" : inner <= 16 ? "k16" : "long")")
                }
            }
        }
        return keys
    }

    /// Two samples (sequences of 3-10 steps), each value the mean of three uniforms in [-2, 2].
    static func randomSplit(for graph: Graph, generator: inout SeededGenerator) -> DatasetSplit {
        let count = 2
        let features = graph.input.shape.elementCount
        let steps = graph.input.isSequence ? generator.int(3...10) : 1
        var inputs: [Double] = []
        for _ in 0..<(count * steps * features) {
            inputs.append((generator.double(-2, 2) + generator.double(-2, 2) + generator.double(-2, 2)) / 1.5)
        }
        return DatasetSplit(name: "calibration", inputs: inputs, labels: Array(repeating: 0, count: count),
                            lengths: graph.input.isSequence ? Array(repeating: steps, count: count) : nil,
                            sampleShape: graph.input.shape, maxSteps: steps)
    }

    /// Every tensor at 8 or 16 bits (the share of 16-bit tensors drawn per program) and its
    /// data-driven fractional bits, mostly unchanged, sometimes a few bits off either way, rarely far
    /// off (which makes wide accumulators and long shifts).
    static func randomConfig(for graph: Graph, split: DatasetSplit, generator: inout SeededGenerator) throws -> QuantConfig {
        let lowered = try Lowering.lower(graph)
        let profile = try Calibration.profile(graph, on: split)
        let share16 = generator.pick([0.0, 0.3, 0.5, 0.7, 1.0])
        let farRate = generator.pick([0.0, 0.0, 0.05, 0.15])
        // Some programs quantize their weights coarsely (small integers), as the tuner's cheapest
        // candidates do; their accumulators then fit 16 bits even over long rows.
        let coarseWeights = generator.chance(0.3)
        var formats: [String: TensorFormat] = [:]
        for tensor in FixedPointGraph.tensors(of: lowered) {
            let bits = generator.chance(share16) ? 16 : 8
            let fit = TensorFormat.fitting(maxAbs: profile.maxAbs[tensor] ?? 0, bits: bits).fracBits
            var offset = generator.chance(0.6) ? 0 : generator.int(-2...1)
            if coarseWeights, lowered.constants[tensor] != nil { offset = -generator.int(2...(bits == 8 ? 5 : 11)) }
            if generator.chance(farRate) { offset = generator.chance(0.5) ? generator.int(4...10) : -generator.int(4...10) }
            let range = FixedPointGraph.fracBitsRange
            formats[tensor] = TensorFormat(bits: bits, fracBits: min(max(fit + offset, range.lowerBound), range.upperBound))
        }
        return QuantConfig(formats: formats)
    }
}

extension SeededGenerator {
    /// Uniform in `range` (the modulo bias is negligible for these small ranges); unlike the
    /// standard library's `random(in:using:)`, the same on every Swift version.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func double(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0...(options.count - 1))] }
    /// Log-uniform in `range`: small and large sizes equally likely.
    mutating func size(_ range: ClosedRange<Int>) -> Int {
        let lo = log(Double(range.lowerBound)), hi = log(Double(range.upperBound) + 0.999)
        return min(range.upperBound, Int(exp(double(lo, hi))))
    }
}
