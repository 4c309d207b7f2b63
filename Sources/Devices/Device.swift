import Emit
import Hardware

/// A board's toolchain and simulator, behind one interface that every core implements: write the
/// platform part of a firmware, build it (ELF, flash and static RAM from the size tool, worst-case
/// stack from the call graph), and run it on the simulator (what it printed, the cycles of every
/// marked region, the deepest stack). Callers never name a core; `DeviceCatalog` picks the backend.
public protocol Device: Sendable {
    var target: Target { get }
    /// How the simulator's cycles are obtained.
    var cycleCount: CycleCount { get }
    /// The platform whose firmware `main.c` this core runs.
    var platform: FirmwarePlatform { get }
    /// Flash kept free for a bootloader, not available to the program.
    var reservedFlashBytes: Int { get }

    /// Files besides `main.c`, `model.c` and `model.h` that the firmware needs (startup code, a
    /// linker script), by file name.
    func runtimeFiles() throws(DeviceError) -> [String: String]
    /// Compiles and links the C files of `directory` into `firmware.elf` and analyses it. A stack
    /// that cannot be bounded statically is an error unless `boundingStack` is false (the float
    /// baseline, whose soft-float library jumps through tables and recurses): then the build says
    /// why in `unboundedStack`, and only the simulator's deepest stack is known.
    func build(in directory: String, boundingStack: Bool) throws(DeviceError) -> FirmwareBuild
    /// Runs a firmware on the simulator until it ends.
    func run(_ build: FirmwareBuild) throws(DeviceError) -> DeviceRun
    /// Finds the toolchain and the simulator (building the host tools they need), or says which
    /// package to install: checked before a long search rather than after it.
    func checkTools() throws(DeviceError)
    /// Compiler and simulator with their versions and flags, for reports and provenance.
    func toolchainDescription() throws(DeviceError) -> ToolchainDescription
}

extension Device {
    /// A build whose worst-case stack is bounded (what the tuner budgets), or an error.
    public func build(in directory: String) throws(DeviceError) -> FirmwareBuild { try build(in: directory, boundingStack: true) }
}

/// Where a simulator's cycle counts come from.

public enum CycleCount: String, Sendable, Codable {
    /// Counted by a cycle-accurate simulator (simavr).
    case exact = "cycle-accurate"
    /// Instructions counted exactly (qemu), each timed by the core's technical reference manual.
    case instructionTimed = "instruction-timed"
}

public struct ToolchainDescription: Sendable, Equatable, Codable {
    public var compiler: String
    public var flags: [String]
    public var simulator: String
    public var cycles: CycleCount
}

/// Bytes per section kind, from the size tool.
public struct FirmwareSizes: Sendable, Equatable {
    public var text: Int
    public var data: Int
    public var bss: Int
    public var noinit: Int

    public init(text: Int, data: Int, bss: Int, noinit: Int) {
        self.text = text
        self.data = data
        self.bss = bss
        self.noinit = noinit
    }

    /// Program memory: code, constants and the initial values of .data.
    public var flash: Int { text + data }
    /// Static RAM: what .data, .bss and .noinit take before any stack.
    public var staticRAM: Int { data + bss + noinit }

    /// `size -A` lists `section size address` rows.
    static func parse(_ text: String, textSections: Set<String> = [".text"]) -> FirmwareSizes {
        var sizes = FirmwareSizes(text: 0, data: 0, bss: 0, noinit: 0)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let bytes = Int(fields[1]) else { continue }
            let name = String(fields[0])
            if textSections.contains(name) { sizes.text += bytes; continue }
            switch name {
            case ".data": sizes.data += bytes
            case ".bss": sizes.bss += bytes
            case ".noinit": sizes.noinit += bytes
            default: break
            }
        }
        return sizes
    }
}

/// A built firmware and what the toolchain says about it.
public struct FirmwareBuild: Sendable {
    public var directory: String
    public var elf: String
    public var sizes: FirmwareSizes
    public var stack: StackAnalysis.Result
    public var disassembly: String
    /// Symbol sizes from `nm -S` (data objects and functions), for what the program itself takes.
    public var symbolBytes: [String: Int]
    /// Who calls whom (`CallGraph`), as the stack analysis read it.
    public var callGraph: CallGraph
    /// Why the worst-case stack could not be bounded, for a build that allowed it (`stack` is then
    /// empty); nil when it was.
    public var unboundedStack: String? = nil

    /// Static RAM plus the worst-case stack: what the tuner compares with the RAM budget.
    public var totalRAM: Int { sizes.staticRAM + stack.bytes }
}

/// What one simulator run reported.
public struct DeviceRun: Sendable {
    /// One write of a mark (`FirmwareMark`), with the running cycle (and instruction) count.
    public struct Mark: Sendable, Equatable {
        public var id: Int
        public var cycle: Int
        public var instructions: Int?
        public init(id: Int, cycle: Int, instructions: Int? = nil) {
            self.id = id
            self.cycle = cycle
            self.instructions = instructions
        }
    }

    /// What the firmware printed.
    public var output: String
    /// Every mark, in order.
    public var marks: [Mark]
    /// Deepest stack over the whole run, and inside marked regions.
    public var peakStackBytes: Int
    public var peakStackInRegionsBytes: Int

    /// Cycles of each region between a `start` mark and the next `end` mark (other marks in between
    /// are ignored), in order.
    public func regionCycles(start: FirmwareMark = .regionStart, end: FirmwareMark = .regionEnd) -> [Int] {
        var result: [Int] = [], opened: Int?
        for mark in marks {
            if mark.id == start.rawValue { opened = mark.cycle }
            if mark.id == end.rawValue, let begin = opened { result.append(mark.cycle - begin); opened = nil }
        }
        return result
    }
}
