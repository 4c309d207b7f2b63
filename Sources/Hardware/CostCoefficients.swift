/// Per-kernel costs of a target, for the hardware cost model. Until they are calibrated on a
/// simulator they are estimates from the instruction-set manuals, and say so (`calibrated`).
public struct CostCoefficients: Codable, Sendable, Equatable {
    /// Where the numbers come from.
    public var source: String
    public var calibrated: Bool
    /// Cycles per multiply-accumulate, by accumulator bits ("16", "32", "64") and then by the wider
    /// operand's bits ("8", "16").
    public var macCycles: [String: [String: Double]]
    /// Cycles to requantize one output (round, shift, saturate), by accumulator bits.
    public var requantCycles: [String: Double]
    /// Cycles per element of an add, multiply, clamp or copy, by accumulator bits.
    public var elementwiseCycles: [String: Double]
    /// Cycles per element of a sigmoid or tanh (table lookup and interpolation), and of an exp.
    public var lookupCycles: Double
    public var expCycles: Double
    /// Cycles per node call (loop setup, pointers).
    public var nodeOverheadCycles: Double
    /// Flash of the code: a fixed part (API, helpers) and an estimate per node function.
    public var codeBaseBytes: Int
    public var codeBytesPerNode: Int
    /// Worst-case stack of the library's calls, and what the platform itself takes (serial buffers...).
    public var stackBytes: Int
    public var platformRAMBytes: Int

    enum CodingKeys: String, CodingKey {
        case source, calibrated
        case macCycles = "mac_cycles", requantCycles = "requant_cycles", elementwiseCycles = "elementwise_cycles"
        case lookupCycles = "lookup_cycles", expCycles = "exp_cycles", nodeOverheadCycles = "node_overhead_cycles"
        case codeBaseBytes = "code_base_bytes", codeBytesPerNode = "code_bytes_per_node"
        case stackBytes = "stack_bytes", platformRAMBytes = "platform_ram_bytes"
    }

    public func mac(accBits: Int, operandBits: Int) -> Double {
        macCycles["\(accBits)"]?["\(operandBits)"] ?? macCycles["\(accBits)"]?.values.max() ?? 100
    }
    public func requant(accBits: Int) -> Double { requantCycles["\(accBits)"] ?? requantCycles.values.max() ?? 50 }
    public func elementwise(accBits: Int) -> Double { elementwiseCycles["\(accBits)"] ?? elementwiseCycles.values.max() ?? 20 }
}
