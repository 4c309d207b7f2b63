import FixedPoint

/// A squared distance of 8-bit operands, emitted as an 8-bit dot product. With a = 2^sx, b = 2^sp
/// (one of them 1, as the formats are aligned to the finer one):
///
///     Σ_i (a·x_i − b·p_i)² = a²·Σ x_i² + b²·Σ p_i² − 2ab·Σ x_i·p_i
///
/// Σ x² is summed once per call, b²·Σ p² is a constant per prototype (a table in flash, computed
/// here), and Σ x·p is `mcu_dot8_a24` over the prototype's row: the loop of the dense layers (on
/// AVR `lpm`/`ld`/`muls`, on Cortex-M4 SMLAD) instead of one 16 × 16 → 32-bit multiply per element.
/// The three terms are combined in uint32_t, modulo 2^32: the true sum is the node's (the same
/// integer, so the emulator's semantics are unchanged), and it is proven below 2^31 by the node's
/// accumulator, so its residue is itself. Where the proof is missing the plain loop stays.
public enum SquaredDistanceExpansion {
    /// Whether `step` is emitted this way: a squared distance of an 8-bit input and 8-bit near
    /// prototypes, an accumulator of at most 32 bits, every partial sum of Σ x·p below 2^23 (the
    /// 24-bit dot product) and the cross term's factor 2ab a power of two below 2^32.
    public static func applies(to step: FixedStep, program: FixedProgram, far: Set<String>) -> Bool {
        guard case let .squaredDistance(name, shiftX, shiftP, _, accBits) = step.kernel, accBits <= 32,
              step.inputs.first?.bits == 8, let p = program.constants[name], p.format.bits == 8, !far.contains(name),
              p.shape.dims.count == 2, shiftX >= 0, shiftP >= 0, shiftX + shiftP + 1 < 32 else { return false }
        let largestP = Int64(p.values.map { $0.magnitude }.max() ?? 0)
        return Int64(p.shape.dims[1]) * 128 * largestP < 8_388_608
    }

    /// b²·Σ p² for each prototype (row of P): each below 2^31, as the whole sum is.
    public static func norms(_ step: FixedStep, program: FixedProgram) -> [Int64] {
        guard case let .squaredDistance(name, _, shiftP, _, _) = step.kernel, let p = program.constants[name] else { return [] }
        let n = p.shape.dims[1]
        return (0..<p.shape.dims[0]).map { j in
            p.values[j * n..<(j + 1) * n].reduce(Int64(0)) { $0 + $1 * $1 } << (2 * shiftP)
        }
    }

    /// Bytes of the table of norms in flash (a uint32_t per prototype); 0 where it does not apply.
    public static func bytes(_ step: FixedStep, program: FixedProgram, far: Set<String>) -> Int {
        guard applies(to: step, program: program, far: far), case let .squaredDistance(name, _, _, _, _) = step.kernel else { return 0 }
        return 4 * (program.constants[name]?.shape.dims[0] ?? 0)
    }
}
