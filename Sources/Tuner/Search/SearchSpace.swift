import FixedPoint
import ModelIR

/// One choice per free tensor: its bit width and a scale offset from its data-driven format.
public struct Gene: Hashable, Sendable, Codable {
    public var bits: Int
    public var offset: Int
    public init(bits: Int, offset: Int) {
        self.bits = bits
        self.offset = offset
    }
}

/// A point of the search space: one gene per variable, in the space's variable order.
public struct Candidate: Hashable, Sendable {
    public var genes: [Gene]
    public init(genes: [Gene]) { self.genes = genes }
}

/// The search space: per free tensor (weights, input, activations, states, temporaries), bits 8 or
/// 16 and a fractional-bit offset around the data-driven format at that width.
public struct SearchSpace: Sendable {
    public struct Variable: Sendable {
        public var tensor: String
        /// Data-driven fractional bits at 8 and at 16 bits.
        public var fracBits8: Int
        public var fracBits16: Int
        /// Elements of the tensor (what one bit of width costs, in bits).
        public var elements: Int
        public var isWeight: Bool
    }

    public let variables: [Variable]
    public let offsets: ClosedRange<Int>
    public let bitChoices: [Int]
    /// Formats of the tied tensors' sources are filled in by normalization; they start here.
    let baseline: [String: TensorFormat]

    public init(graph lowered: Graph, profile: RangeProfile, offsets: ClosedRange<Int> = -3...2, bitChoices: [Int] = [8, 16]) {
        let tied = FixedPointGraph.tiedTensors(of: lowered)
        var variables: [Variable] = []
        var baseline: [String: TensorFormat] = [:]
        for tensor in FixedPointGraph.tensors(of: lowered) {
            let maxAbs = profile.maxAbs[tensor] ?? 0
            baseline[tensor] = TensorFormat.fitting(maxAbs: maxAbs, bits: 16)
            guard !tied.contains(tensor) else { continue }
            let elements = lowered.constants[tensor]?.shape.elementCount ?? lowered.shapes[tensor]?.elementCount ?? 1
            variables.append(Variable(tensor: tensor, fracBits8: TensorFormat.fitting(maxAbs: maxAbs, bits: 8).fracBits,
                                      fracBits16: TensorFormat.fitting(maxAbs: maxAbs, bits: 16).fracBits,
                                      elements: elements, isWeight: lowered.constants[tensor] != nil))
        }
        self.variables = variables
        self.offsets = offsets
        self.bitChoices = bitChoices
        self.baseline = baseline
    }

    /// Number of candidates: (bit choices x offsets) ^ variables, saturating.
    public var size: Double { Double(bitChoices.count * offsets.count).power(variables.count) }

    public func uniform(bits: Int, offset: Int = 0) -> Candidate {
        Candidate(genes: variables.map { _ in Gene(bits: bits, offset: offset) })
    }

    public func config(for candidate: Candidate) -> QuantConfig {
        var formats = baseline
        for (variable, gene) in zip(variables, candidate.genes) {
            let base = gene.bits == 8 ? variable.fracBits8 : variable.fracBits16
            let frac = min(max(base + gene.offset, FixedPointGraph.fracBitsRange.lowerBound), FixedPointGraph.fracBitsRange.upperBound)
            formats[variable.tensor] = TensorFormat(bits: gene.bits, fracBits: frac)
        }
        return QuantConfig(formats: formats)
    }

    public func random(using generator: inout SeededGenerator) -> Candidate {
        Candidate(genes: variables.map { _ in
            Gene(bits: bitChoices[Int(generator.next() % UInt64(bitChoices.count))],
                 offset: offsets.lowerBound + Int(generator.next() % UInt64(offsets.count)))
        })
    }
}

extension Double {
    func power(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in Swift.min(acc * self, 1e300) } }
}
