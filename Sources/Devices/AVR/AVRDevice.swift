import Emit
import Foundation
import Hardware

/// AVR boards: avr-gcc and avr-libc build the firmware, simavr runs it and counts every cycle.
public struct AVRDevice: Device {
    public let target: Target
    let tools: ToolCache

    public init(target: Target, tools: ToolCache) {
        self.target = target
        self.tools = tools
    }

    public var cycleCount: CycleCount { .exact }
    public var platform: FirmwarePlatform { .avr }
    /// Kept for a bootloader (Optiboot takes 512 B on the Uno).
    public var reservedFlashBytes: Int { 512 }

    public func runtimeFiles() throws(DeviceError) -> [String: String] { [:] }

    public func build(in directory: String, boundingStack: Bool) throws(DeviceError) -> FirmwareBuild {
        let toolchain = try AVRToolchain.locate()
        let (elf, stackUsage) = try toolchain.build(in: directory, for: target)
        let sizes = try toolchain.binutils.sizes(of: elf)
        let disassembly = try toolchain.binutils.disassembly(of: elf)
        let graph = ObjdumpListing(disassembly).avrCallGraph(returnAddressBytes: target.returnAddressBytes)
        var stack = StackAnalysis.Result(bytes: 0, path: [], interruptBytes: 0), unbounded: String?
        do { stack = try StackAnalysis(graph: graph, stackUsage: stackUsage).worstCase() } catch {
            guard !boundingStack else { throw .unboundedStack(elf: elf, reason: error.description) }
            unbounded = error.description
        }
        return FirmwareBuild(directory: directory, elf: elf, sizes: sizes, stack: stack, disassembly: disassembly,
                             symbolBytes: try toolchain.binutils.symbolSizes(of: elf), callGraph: graph, unboundedStack: unbounded)
    }

    public func run(_ build: FirmwareBuild) throws(DeviceError) -> DeviceRun {
        let hazards = SimAVR.decodingHazards(in: build.disassembly)
        guard hazards.isEmpty else { throw .untrustedSimulation(elf: build.elf, hazards: hazards) }
        let run = try SimAVR.prepare(tools: tools).run(elf: build.elf, target: target)
        return DeviceRun(output: run.uart, marks: run.marks.compactMap { $0.count == 2 ? DeviceRun.Mark(id: $0[0], cycle: $0[1]) : nil },
                         peakStackBytes: run.peakStackBytes, peakStackInRegionsBytes: max(0, run.ramend - run.minSPRegion))
    }

    public func checkTools() throws(DeviceError) {
        _ = try AVRToolchain.locate()
        _ = try SimAVR.prepare(tools: tools)
    }

    public func toolchainDescription() throws(DeviceError) -> ToolchainDescription {
        let toolchain = try AVRToolchain.locate()
        return ToolchainDescription(compiler: toolchain.version(),
                                    flags: AVRToolchain.flags + ["-mmcu=\(target.avrDeviceName ?? target.mcu)"],
                                    simulator: "simavr \(SimAVR.version())", cycles: cycleCount)
    }
}
