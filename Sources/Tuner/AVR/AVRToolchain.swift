import Foundation
import Hardware

/// avr-gcc and binutils-avr: builds a firmware with per-function stack usage, and reads back its
/// section sizes and disassembly.
public struct AVRToolchain: Sendable {
    /// What a build produced.
    public struct Build: Sendable {
        public var elf: String
        /// The `-fstack-usage` files of the sources (one per translation unit).
        public var stackUsageFiles: [String]
        public var directory: String
    }

    /// Bytes per section kind, from `avr-size -A`.
    public struct Sizes: Sendable, Equatable {
        public var text: Int
        public var data: Int
        public var bss: Int
        public var noinit: Int
        /// Program memory: code, constants and the initial values of .data.
        public var flash: Int { text + data }
        /// Static RAM: what .data, .bss and .noinit take before any stack.
        public var staticRAM: Int { data + bss + noinit }
    }

    /// The same flags as shared/RECIPES.md's measured builds, plus -Werror: the emitted C must be
    /// warning-free where `int` has 16 bits too.
    public static let flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections",
                               "-fstack-usage", "-Wl,--gc-sections"]

    public let gcc: String
    public let size: String
    public let objdump: String

    /// The installed toolchain, or the error that says which package to install.
    public static func locate() throws(TunerError) -> AVRToolchain {
        guard let gcc = ProcessRunner.find("avr-gcc") else { throw .toolMissing(tool: "avr-gcc", package: "gcc-avr avr-libc") }
        guard let size = ProcessRunner.find("avr-size"), let objdump = ProcessRunner.find("avr-objdump") else {
            throw .toolMissing(tool: "avr-size", package: "binutils-avr")
        }
        return AVRToolchain(gcc: gcc, size: size, objdump: objdump)
    }

    /// Compiles and links `sources` (in `directory`) for `target` into `firmware.elf`.
    public func build(sources: [String], in directory: String, for target: Target) throws(TunerError) -> Build {
        guard let device = target.avrDeviceName else {
            throw .toolFailed(tool: "avr-gcc", output: "target '\(target.name)' has a \(target.core.rawValue) core, not AVR")
        }
        let arguments = Self.flags + ["-mmcu=\(device)", "-DF_CPU=\(target.clockHz)UL"] + sources + ["-o", "firmware.elf"]
        let result = try ProcessRunner.run(gcc, arguments, in: directory)
        if result.status != 0, result.stderr.contains("not within region `data'") || result.stderr.contains("region `data' overflowed") {
            throw .toolFailed(tool: "avr-gcc (\(directory))",
                              output: "the program's static data alone does not fit the \(target.ramBytes) B of RAM of \(target.mcu) (target '\(target.name)'); tune it with --budget-ram or use 8-bit tensors\n" + result.stderr)
        }
        guard result.status == 0 else { throw .toolFailed(tool: "avr-gcc (\(directory))", output: result.stderr) }
        let stackFiles = sources.map { "\(directory)/" + (($0 as NSString).lastPathComponent as NSString).deletingPathExtension + ".su" }
            .filter { FileManager.default.fileExists(atPath: $0) }
        return Build(elf: "\(directory)/firmware.elf", stackUsageFiles: stackFiles, directory: directory)
    }

    public func sizes(of elf: String) throws(TunerError) -> Sizes {
        let result = try ProcessRunner.run(size, ["-A", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "avr-size \(elf)", output: result.stderr) }
        return Self.parseSizes(result.stdout)
    }

    /// `avr-size -A` lists `section size address` rows.
    static func parseSizes(_ text: String) -> Sizes {
        var sizes = Sizes(text: 0, data: 0, bss: 0, noinit: 0)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let bytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case ".text": sizes.text += bytes
            case ".data": sizes.data += bytes
            case ".bss": sizes.bss += bytes
            case ".noinit": sizes.noinit += bytes
            default: break
            }
        }
        return sizes
    }

    public func disassembly(of elf: String) throws(TunerError) -> String {
        let result = try ProcessRunner.run(objdump, ["-d", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "avr-objdump -d \(elf)", output: result.stderr) }
        return result.stdout
    }
}
