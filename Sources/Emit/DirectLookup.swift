import FixedPoint

/// Unary elementwise kernels of an 8-bit input, emitted as one table of all 256 outputs in flash,
/// indexed by the input byte: sigmoid, tanh and exp (no interpolation, no 32-bit arithmetic on
/// the device) and a scale by a constant (no wide multiply). Each entry is the kernel's own
/// integer semantics (`IntegerArithmetic`, `ActivationTables`, as the emulator computes them),
/// so the table is bit-exact by construction; it costs 256 bytes of flash (512 for a 16-bit
/// output) and about a tenth of the cycles.
public enum DirectLookup {
    /// Whether `step` is emitted as a table.
    public static func applies(to step: FixedStep) -> Bool {
        guard step.node.inputs.count == 1, step.inputs.first?.bits == 8 else { return false }
        switch step.kernel {
        case .sigmoid, .tanh, .exp: return true
        case let .scale(_, _, accBits): return accBits < 64
        default: return false
        }
    }

    /// Bytes of the table in flash.
    public static func bytes(_ step: FixedStep) -> Int { applies(to: step) ? 256 * step.output.bits / 8 : 0 }

    /// What the table of `step` follows from: nodes with the same key share one table (an LSTM's
    /// input, forget and output gates are one sigmoid where their formats agree; gcc merged such
    /// tables on the Cortex-M4 and not on AVR, 256 B the flash estimate could not tell).
    public static func key(_ step: FixedStep) -> String { "\(step.kernel) -> \(step.output)" }

    /// Bytes of the distinct tables of `steps` (shared tables once, `key`).
    public static func bytes(_ steps: [FixedStep]) -> Int {
        var seen = Set<String>()
        return steps.reduce(0) { $0 + (applies(to: $1) && seen.insert(key($1)).inserted ? bytes($1) : 0) }
    }

    /// The 256 outputs in the order of the input byte read as unsigned: entry j is the output for
    /// the input j (j < 128) or j - 256.
    public static func table(for step: FixedStep) -> [Int64]? {
        guard applies(to: step) else { return nil }
        let bits = step.output.bits
        let f: (Int64) -> Int64
        switch step.kernel {
        case let .sigmoid(fracBits, shift):
            f = { IntegerArithmetic.requantized(ActivationTables.sigmoidQ15($0, fracBits: fracBits), shift: shift, bits: bits) }
        case let .tanh(fracBits, shift):
            f = { IntegerArithmetic.requantized(ActivationTables.tanhQ15($0, fracBits: fracBits), shift: shift, bits: bits) }
        case let .exp(fracBits):
            let output = step.output
            f = { ActivationTables.exp($0, fracBits: fracBits, output: output) }
        case let .scale(multiplier, shift, _):
            f = { IntegerArithmetic.requantized($0 * multiplier, shift: shift, bits: bits) }
        default:
            return nil
        }
        return (0..<256).map { f($0 < 128 ? Int64($0) : Int64($0) - 256) }
    }
}
