import FixedPoint

/// Bytes of static RAM the emitted library and its firmware declare, computed from the same
/// facts the emitter writes (so the cost model and the linker agree): the arena union, the input
/// pointer of `model.c`, and the firmware's input and output buffers (`x`, `y` in `AVRFirmware`).
public struct StaticMemory: Sendable, Equatable {
    /// `mcu_arena` as declared: a union of an int16 and an int8 array, at least 2 bytes.
    public var arena: Int
    /// `mcu_in`, one data pointer.
    public var libraryStatics: Int
    /// The caller's buffers: one timestep of input and the outputs.
    public var inputOutput: Int

    public var total: Int { arena + libraryStatics + inputOutput }

    public init(program: FixedProgram, arena plan: ArenaPlan, pointerBytes: Int) {
        let union = plan.buffers.isEmpty ? 0 : max(plan.bytes + plan.bytes % 2, 2)
        // The arena (2-aligned) and the pointer (aligned to its size) follow each other in .bss.
        self.arena = union
        self.libraryStatics = (pointerBytes - union % pointerBytes) % pointerBytes + pointerBytes
        let input = program.graph.input.shape.elementCount * program.inputFormat.bits / 8
        let output = max(program.graph.outputShape.elementCount, 1) * program.outputFormat.bits / 8
        self.inputOutput = input + output
    }
}
