import Foundation
import Hardware

/// avr-gcc and binutils-avr: builds a firmware with per-function stack usage, and reads back its
/// section sizes, symbols and disassembly.
public struct AVRToolchain: Sendable {
    /// The same flags as shared/RECIPES.md's measured builds, plus -Werror: the emitted C must be
    /// warning-free where `int` has 16 bits too.
    public static let flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections",
                               "-fstack-usage", "-Wl,--gc-sections"]

    public let gcc: String
    public let binutils: Binutils

    /// The installed toolchain, or the error that says which package to install.
    public static func locate() throws(DeviceError) -> AVRToolchain {
        guard let gcc = ProcessRunner.find("avr-gcc") else { throw .toolMissing(tool: "avr-gcc", package: "gcc-avr avr-libc") }
        return AVRToolchain(gcc: gcc, binutils: try Binutils.locate(prefix: "avr-", package: "binutils-avr"))
    }

    /// Compiles and links every C file of `directory` for `target` into `firmware.elf`.
    public func build(in directory: String, for target: Target) throws(DeviceError) -> (elf: String, stackUsage: [String]) {
        guard let device = target.avrDeviceName else {
            throw .unsupported(target: target.name, reason: "a \(target.core.rawValue) core, not AVR")
        }
        let sources = try Binutils.cSources(in: directory)
        let arguments = Self.flags + ["-mmcu=\(device)", "-DF_CPU=\(target.clockHz)UL"] + sources + ["-lm", "-o", "firmware.elf"]
        let result = try ProcessRunner.run(gcc, arguments, in: directory)
        if result.status != 0, result.stderr.contains("not within region `data'") || result.stderr.contains("region `data' overflowed") {
            throw .doesNotFit(memory: "\(target.ramBytes) B of RAM", target: target.name,
                              detail: "its static data alone overflows the RAM of the \(target.mcu); tune it with --budget-ram or use 8-bit tensors\n" + result.stderr)
        }
        if result.status != 0, result.stderr.contains("region `text' overflowed") {
            throw .doesNotFit(memory: "\(target.flashBytes) B of flash", target: target.name, detail: result.stderr)
        }
        guard result.status == 0 else { throw .toolFailed(tool: "avr-gcc (\(directory))", output: result.stderr) }
        return ("\(directory)/firmware.elf", Binutils.stackUsageFiles(for: sources, in: directory))
    }

    public func version() -> String { Binutils.firstLine(of: gcc, ["--version"]) }
}
