/// A board we emit code for: its processor, memories and clock.
///
/// Targets are data (`configs/targets/NAME.json`), so adding a board needs no code. Cycle
/// coefficients for the cost model join this record when the tuner lands.
public struct Target: Codable, Sendable, Equatable {
    public enum Core: String, Codable, Sendable, CaseIterable {
        case avr
        case cortexM0Plus = "cortex-m0plus"
        case cortexM3 = "cortex-m3"
        case cortexM4 = "cortex-m4"
        case cortexM7 = "cortex-m7"

        /// Whether a shift costs by its distance: an AVR shifts one bit per instruction; a Cortex-M's
        /// barrel shifter moves any distance in one.
        public var shiftsBitByBit: Bool { self == .avr }
        /// Whether the core has the DSP extension (`__ARM_FEATURE_DSP`: SMLAD, SXTB16), which the
        /// emitted C uses for four rows of a dot product at once.
        public var hasDSP: Bool { self == .cortexM4 || self == .cortexM7 }
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

    /// Bytes a call pushes for its return address: 2 on AVR up to 128 KB of flash, 3 above
    /// (ATmega2560); Cortex-M keeps it in the link register (its pushes are in the frame).
    public var returnAddressBytes: Int {
        switch core {
        case .avr: flashBytes > 128 * 1024 ? 3 : 2
        default: 0
        }
    }

    /// Bytes of a data pointer (`sizeof(void *)`): 2 on AVR, 4 on Cortex-M.
    public var pointerBytes: Int { core == .avr ? 2 : 4 }

    /// The name avr-gcc (`-mmcu`) and simavr know the chip by, for AVR targets.
    public var avrDeviceName: String? { core == .avr ? mcu.lowercased() : nil }

    enum CodingKeys: String, CodingKey {
        case name, board, mcu, core, notes, cost
        case clockHz = "clock_hz", ramBytes = "ram_bytes", flashBytes = "flash_bytes"
        case intBits = "int_bits", hasFPU = "fpu"
    }
}
