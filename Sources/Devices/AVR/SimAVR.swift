import Foundation
import Hardware

/// Runs AVR firmware on simavr through a small libsimavr host program (`tools/simavr/run-firmware.c`),
/// which reports the cycle of every GPIOR1 mark, the lowest stack pointer and the UART output.
public struct SimAVR: Sendable {
    /// What one run reported.
    public struct Run: Sendable, Decodable {
        public var state: String
        public var cycles: Int
        public var ramend: Int
        /// Lowest stack pointer over the whole run, and inside marked regions.
        public var minSP: Int
        public var minSPRegion: Int
        /// Lowest stack pointer outside interrupt handlers (where a handler interrupted counts), and
        /// the most bytes a handler took below the stack pointer it interrupted.
        public var minSPMain: Int
        public var interruptStackBytes: Int
        public var tooManyMarks: Bool
        /// `[value, cycle]` of every write to GPIOR1.
        public var marks: [[Int]]
        public var uart: String

        enum CodingKeys: String, CodingKey {
            case state, cycles, ramend, marks, uart
            case minSP = "min_sp", minSPRegion = "min_sp_region", tooManyMarks = "too_many_marks"
            case minSPMain = "min_sp_main", interruptStackBytes = "interrupt_stack"
        }

        /// Bytes of stack at the deepest point: the stack pointer starts at RAMEND and points at
        /// the next free byte.
        public var peakStackBytes: Int { max(0, ramend - minSP) }
        /// The deepest stack of the program outside interrupt handlers.
        public var peakMainStackBytes: Int { max(0, ramend - minSPMain) }
    }

    public let host: String

    /// The host program, built once per version of its source.
    public static func prepare(tools: ToolCache) throws(DeviceError) -> SimAVR {
        guard let pkgConfig = ProcessRunner.find("pkg-config") else { throw .toolMissing(tool: "pkg-config", package: "pkg-config") }
        let flags = try ProcessRunner.run(pkgConfig, ["--cflags", "--libs", "simavr"])
        guard flags.status == 0 else { throw .toolMissing(tool: "libsimavr", package: "simavr libsimavr-dev libelf-dev") }
        let words = flags.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        return SimAVR(host: try tools.binary(for: "tools/simavr/run-firmware.c", flags: ["-O2", "-w"], libraries: words + ["-lelf"]))
    }

    /// libsimavr's version, as pkg-config knows it.
    public static func version() -> String {
        guard let pkgConfig = ProcessRunner.find("pkg-config"),
              let result = try? ProcessRunner.run(pkgConfig, ["--modversion", "simavr"]), result.status == 0 else { return "(unknown version)" }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `elf` on the target's MCU until it sleeps with interrupts off (or `maxCycles` pass).
    public func run(elf: String, target: Target, maxCycles: Int = 4_000_000_000) throws(DeviceError) -> Run {
        guard let device = target.avrDeviceName else {
            throw .unsupported(target: target.name, reason: "simavr runs AVR boards only")
        }
        let result = try ProcessRunner.run(host, [device, "\(target.clockHz)", elf, "\(maxCycles)"])
        // simavr prints "Loaded ..." lines of its own on stdout; the report is the last line.
        guard result.status == 0, let last = result.stdout.split(separator: "\n").last,
              let run = try? JSONDecoder().decode(Run.self, from: Data(last.utf8)) else {
            throw .simulationFailed(simulator: "simavr", elf: elf, reason: "no report\n" + result.stderr + result.stdout)
        }
        guard run.state == "done" else {
            throw .simulationFailed(simulator: "simavr", elf: elf, reason: "the firmware \(run.state == "timeout" ? "did not finish within \(maxCycles) cycles" : "crashed") after \(run.cycles) cycles")
        }
        return run
    }

    /// Places where simavr 1.6 (Debian 12) decodes wrongly: a skip instruction followed by an
    /// `adiw`/`sbiw` whose constant has its low four bits at 12 or more looks like a 32-bit
    /// instruction to it, and it skips one word too many (fixed upstream in 2020). A run of a
    /// firmware that contains one cannot be trusted.
    public static func decodingHazards(in disassembly: String) -> [String] {
        let skips: Set<String> = ["cpse", "sbrc", "sbrs", "sbic", "sbis"]
        var hazards: [String] = []
        for function in ObjdumpListing(disassembly).functions {
            for (skip, next) in zip(function.instructions, function.instructions.dropFirst())
            where skips.contains(skip.mnemonic) && (next.mnemonic == "adiw" || next.mnemonic == "sbiw") {
                let constant = next.operands.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                let k = constant.hasPrefix("0x") ? Int(constant.dropFirst(2), radix: 16) : Int(constant)
                if let k, k & 15 >= 12 { hazards.append("\(skip.line) / \(next.line)") }
            }
        }
        return hazards
    }
}
