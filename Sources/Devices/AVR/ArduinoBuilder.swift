import Foundation
import Hardware

/// Debian's Arduino toolchain: `arduino-builder` with the Arduino AVR core (`arduino-core-avr`),
/// which compiles a sketch folder the way the Arduino IDE does (the core, LTO, `-Os`), and needs
/// `ctags` on the PATH to prototype the sketch's functions.
public struct ArduinoBuilder: Sendable {
    /// Where `arduino-core-avr` installs the core, and `arduino-builder` its own platform files.
    public static let hardwareDirectories = ["/usr/share/arduino/hardware", "/usr/share/arduino-builder"]
    public static let coreDirectory = "/usr/share/arduino/hardware/arduino/avr"
    /// avr-gcc 5.4's `float.h` defines `DECIMAL_DIG` for C99 only, and the core's `WString.cpp`
    /// needs it under C++11 too: without this the core does not compile.
    public static let extraFlags = "-DDECIMAL_DIG=__DECIMAL_DIG__"
    static let packages = "arduino-builder arduino-core-avr universal-ctags"

    public let builder: String
    public let binutils: Binutils

    /// The installed toolchain, or the error that names the Debian package to install.
    public static func locate() throws(DeviceError) -> ArduinoBuilder {
        guard let builder = ProcessRunner.find("arduino-builder") else { throw .toolMissing(tool: "arduino-builder", package: packages) }
        guard FileManager.default.fileExists(atPath: "\(coreDirectory)/platform.txt") else {
            throw .toolMissing(tool: "the Arduino AVR core (\(coreDirectory))", package: "arduino-core-avr")
        }
        guard ProcessRunner.find("ctags") != nil else { throw .toolMissing(tool: "ctags", package: "universal-ctags") }
        return ArduinoBuilder(builder: builder, binutils: try Binutils.locate(prefix: "avr-", package: "binutils-avr"))
    }

    /// The board the Arduino core knows `target` as (its fully qualified board name).
    public static func fqbn(for target: Target) throws(DeviceError) -> String {
        switch target.avrDeviceName {
        case "atmega328p": return "arduino:avr:uno"
        case "atmega2560": return "arduino:avr:mega:cpu=atmega2560"
        default: throw .unsupported(target: target.name, reason: "the Arduino sketch is built for AVR boards with an ATmega328P or ATmega2560")
        }
    }

    /// Compiles `sketchDirectory` (which holds `NAME.ino` for its folder's NAME, and its C files)
    /// into `buildDirectory`, with the libraries in the folders `libraries`; returns the ELF.
    public func build(sketchDirectory: String, buildDirectory: String, for target: Target, libraries: [String] = []) throws(DeviceError) -> String {
        let name = (sketchDirectory as NSString).lastPathComponent
        do { try FileManager.default.createDirectory(atPath: buildDirectory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: buildDirectory, reason: error.localizedDescription)
        }
        var arguments = ["-compile"]
        for directory in Self.hardwareDirectories { arguments += ["-hardware", directory] }
        for directory in libraries { arguments += ["-libraries", directory] }
        arguments += ["-tools", "/usr/bin", "-tools", "/usr/share/arduino-builder", "-fqbn", try Self.fqbn(for: target),
                      "-prefs=compiler.cpp.extra_flags=\(Self.extraFlags)", "-build-path", buildDirectory,
                      "\(sketchDirectory)/\(name).ino"]
        let result = try ProcessRunner.run(builder, arguments)
        let output = result.stdout + result.stderr
        if result.status != 0, output.contains("ctags pattern is missing") || output.contains("\"ctags\"") {
            throw .toolMissing(tool: "ctags", package: "universal-ctags")
        }
        if result.status != 0, output.contains("Sketch too big") || output.contains("region `text' overflowed") {
            throw .doesNotFit(memory: "\(target.flashBytes) B of flash", target: target.name, detail: output)
        }
        if result.status != 0, output.contains("Not enough memory") || output.contains("region `data' overflowed") {
            throw .doesNotFit(memory: "\(target.ramBytes) B of RAM", target: target.name, detail: output)
        }
        guard result.status == 0 else { throw .toolFailed(tool: "arduino-builder (\(sketchDirectory))", output: output) }
        let elf = "\(buildDirectory)/\(name).ino.elf"
        guard FileManager.default.fileExists(atPath: elf) else {
            throw .toolFailed(tool: "arduino-builder (\(sketchDirectory))", output: "it left no \(elf)\n" + output)
        }
        return elf
    }

    /// The initial contents of `.data` (`objdump -s -j .data`), where the core's virtual tables live.
    public func dataDump(of elf: String) throws(DeviceError) -> String {
        let result = try ProcessRunner.run(binutils.objdump, ["-s", "-j", ".data", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "\(binutils.objdump) -s \(elf)", output: result.stderr) }
        return result.stdout
    }

    public func version() -> String { Binutils.firstLine(of: builder, ["-version"]) }
}
