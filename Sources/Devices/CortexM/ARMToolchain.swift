import Foundation
import Hardware

/// arm-none-eabi-gcc with newlib-nano and the project's bare-metal runtime (`tools/cortexm`):
/// builds a firmware with per-function stack usage for a Cortex-M core and a memory map.
public struct ARMToolchain: Sendable {
    public static let flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-mthumb", "-ffunction-sections", "-fdata-sections",
                               "-fstack-usage", "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles"]
    /// Sections of program memory besides .data's initial values.
    static let flashSections: Set<String> = [".text", ".ARM.exidx", ".ARM.extab", ".init_array"]

    public let gcc: String
    public let binutils: Binutils

    public static func locate() throws(DeviceError) -> ARMToolchain {
        guard let gcc = ProcessRunner.find("arm-none-eabi-gcc") else {
            throw .toolMissing(tool: "arm-none-eabi-gcc", package: "gcc-arm-none-eabi libnewlib-arm-none-eabi")
        }
        return ARMToolchain(gcc: gcc, binutils: try Binutils.locate(prefix: "arm-none-eabi-", package: "binutils-arm-none-eabi"))
    }

    /// `-mcpu` and the floating-point ABI of a core (the FPU is used where the board has one).
    public static func cpuFlags(for target: Target) -> [String] {
        switch target.core {
        case .cortexM0Plus: ["-mcpu=cortex-m0plus", "-mfloat-abi=soft"]
        case .cortexM3: ["-mcpu=cortex-m3", "-mfloat-abi=soft"]
        case .cortexM4: target.hasFPU ? ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"] : ["-mcpu=cortex-m4", "-mfloat-abi=soft"]
        case .cortexM7: target.hasFPU ? ["-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"] : ["-mcpu=cortex-m7", "-mfloat-abi=soft"]
        case .avr: []
        }
    }

    /// Compiles and links every C file of `directory` (the runtime's linker script `cortexm.ld` among
    /// the files) for `target`, with the board's flash and RAM as the memory map.
    public func build(in directory: String, for target: Target, memory: QemuMachine.MemoryMap) throws(DeviceError) -> (elf: String, stackUsage: [String]) {
        let sources = try Binutils.cSources(in: directory)
        let layout = ["-Wl,--defsym=__flash_origin=\(memory.flashOrigin)", "-Wl,--defsym=__flash_length=\(memory.flashBytes)",
                      "-Wl,--defsym=__ram_origin=\(memory.ramOrigin)", "-Wl,--defsym=__ram_length=\(memory.ramBytes)"]
        let arguments = Self.flags + Self.cpuFlags(for: target) + ["-T", "cortexm.ld"] + layout + sources + ["-lm", "-o", "firmware.elf"]
        let result = try ProcessRunner.run(gcc, arguments, in: directory)
        if result.status != 0, result.stderr.contains("region `RAM' overflowed") || result.stderr.contains("no room left for the stack") {
            throw .doesNotFit(memory: "\(target.ramBytes) B of RAM", target: target.name, detail: "its static data alone overflows the RAM\n" + result.stderr)
        }
        if result.status != 0, result.stderr.contains("region `FLASH' overflowed") {
            throw .doesNotFit(memory: "\(target.flashBytes) B of flash", target: target.name, detail: result.stderr)
        }
        guard result.status == 0 else { throw .toolFailed(tool: "arm-none-eabi-gcc (\(directory))", output: result.stderr) }
        return ("\(directory)/firmware.elf", Binutils.stackUsageFiles(for: sources, in: directory))
    }

    public func version() -> String { Binutils.firstLine(of: gcc, ["--version"]) }
}
