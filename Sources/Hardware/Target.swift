/// A board we emit code for: its processor, memories and clock.
///
/// Targets are data (`configs/targets/NAME.json`), so adding a board needs no code. Cycle
/// coefficients for the cost model join this record when the tuner lands.
public struct Target: Codable, Sendable, Equatable {
    public enum Core: String, Codable, Sendable {
        case avr
        case cortexM0Plus = "cortex-m0plus"
        case cortexM3 = "cortex-m3"
        case cortexM4 = "cortex-m4"
        case cortexM7 = "cortex-m7"
    }

    public var name: String
    public var board: String
    public var mcu: String
    public var core: Core
    public var clockHz: Int
    public var ramBytes: Int
    public var flashBytes: Int
    /// Width of C's `int` on this core (16 on AVR): what integer promotion gives.
    public var intBits: Int
    public var hasFPU: Bool
    public var notes: String?
    public var cost: CostCoefficients

    enum CodingKeys: String, CodingKey {
        case name, board, mcu, core, notes, cost
        case clockHz = "clock_hz", ramBytes = "ram_bytes", flashBytes = "flash_bytes"
        case intBits = "int_bits", hasFPU = "fpu"
    }
}
