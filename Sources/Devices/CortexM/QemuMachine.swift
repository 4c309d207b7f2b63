import Hardware

/// A qemu-system-arm machine that runs a Cortex-M core's code, with the memory it has.
public struct QemuMachine: Sendable, Equatable {
    public struct MemoryMap: Sendable, Equatable {
        public var flashOrigin: Int
        public var flashBytes: Int
        public var ramOrigin: Int
        public var ramBytes: Int
    }

    public var name: String
    /// The core qemu emulates (its instructions are a superset of the board's when they differ).
    public var core: String
    public var memory: MemoryMap

    /// Memory maps read with `info mtree -f` on qemu 7.2 (tools/cortexm/README.md).
    public static let microbit = QemuMachine(name: "microbit", core: "cortex-m0",
                                             memory: .init(flashOrigin: 0, flashBytes: 256 * 1024, ramOrigin: 0x2000_0000, ramBytes: 16 * 1024))
    public static let mps2AN385 = QemuMachine(name: "mps2-an385", core: "cortex-m3",
                                              memory: .init(flashOrigin: 0, flashBytes: 4 << 20, ramOrigin: 0x2000_0000, ramBytes: 4 << 20))
    public static let mps2AN386 = QemuMachine(name: "mps2-an386", core: "cortex-m4",
                                              memory: .init(flashOrigin: 0, flashBytes: 4 << 20, ramOrigin: 0x2000_0000, ramBytes: 4 << 20))
    public static let mps2AN500 = QemuMachine(name: "mps2-an500", core: "cortex-m7",
                                              memory: .init(flashOrigin: 0, flashBytes: 4 << 20, ramOrigin: 0x2000_0000, ramBytes: 4 << 20))

    /// The machine for a board: the one of its core, unless the board has more memory than it (a
    /// SAMD21 has 32 KB of RAM, the micro:bit's nRF51 16 KB); then an MPS2 board, whose Cortex-M3
    /// runs ARMv6-M code unchanged, instruction for instruction.
    public static func forTarget(_ target: Target) -> QemuMachine? {
        let candidates: [QemuMachine]
        switch target.core {
        case .cortexM0Plus: candidates = [.microbit, .mps2AN385]
        case .cortexM3: candidates = [.mps2AN385]
        case .cortexM4: candidates = [.mps2AN386]
        case .cortexM7: candidates = [.mps2AN500]
        case .avr: candidates = []
        }
        return candidates.first { $0.memory.flashBytes >= target.flashBytes && $0.memory.ramBytes >= target.ramBytes }
    }

    /// The board's own flash and RAM at this machine's addresses.
    public func memoryMap(for target: Target) -> MemoryMap {
        MemoryMap(flashOrigin: memory.flashOrigin, flashBytes: target.flashBytes, ramOrigin: memory.ramOrigin, ramBytes: target.ramBytes)
    }
}
