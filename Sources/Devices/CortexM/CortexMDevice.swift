import Emit
import Foundation
import Hardware

/// Cortex-M boards: arm-none-eabi-gcc builds the firmware with the project's bare-metal runtime
/// (`tools/cortexm`), qemu runs it, and the timing plugin turns its exact instruction counts into
/// cycles with the core's timings ("instruction-timed").
public struct CortexMDevice: Device {
    public let target: Target
    public let machine: QemuMachine
    let tools: ToolCache

    /// The runtime the firmware is linked with, copied into each firmware directory.
    static let runtime = ["startup.c", "semihost.c", "semihost.h", "mcu_region.c", "mcu_region.h", "cortexm.ld"]

    public init(target: Target, machine: QemuMachine, tools: ToolCache) {
        self.target = target
        self.machine = machine
        self.tools = tools
    }

    public var cycleCount: CycleCount { .instructionTimed }
    public var platform: FirmwarePlatform { .cortexM }
    public var reservedFlashBytes: Int { 0 }

    public func runtimeFiles() throws(DeviceError) -> [String: String] {
        var files: [String: String] = [:]
        for name in Self.runtime {
            let path = tools.source("tools/cortexm/\(name)")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .toolFailed(tool: "Cortex-M runtime", output: "cannot read \(path); is MCUTUNE_HOME the checkout?")
            }
            // A fault in the simulator then ends the run with a message instead of looping forever.
            files[name] = name == "startup.c" ? "#define CORTEXM_FAULT_EXIT 1\n" + text : text
        }
        return files
    }

    public func build(in directory: String, boundingStack: Bool) throws(DeviceError) -> FirmwareBuild {
        let toolchain = try ARMToolchain.locate()
        let (elf, stackUsage) = try toolchain.build(in: directory, for: target, memory: machine.memoryMap(for: target))
        let sizes = try toolchain.binutils.sizes(of: elf, textSections: ARMToolchain.flashSections)
        let disassembly = try toolchain.binutils.disassembly(of: elf)
        let graph = ObjdumpListing(disassembly).armCallGraph()
        var stack = StackAnalysis.Result(bytes: 0, path: [], interruptBytes: 0), unbounded: String?
        do {
            stack = try StackAnalysis(graph: graph, stackUsage: stackUsage).worstCase(from: "Reset_Handler")
        } catch {
            guard !boundingStack else { throw .unboundedStack(elf: elf, reason: error.description) }
            unbounded = error.description
        }
        return FirmwareBuild(directory: directory, elf: elf, sizes: sizes, stack: stack, disassembly: disassembly,
                             symbolBytes: try toolchain.binutils.symbolSizes(of: elf), callGraph: graph, unboundedStack: unbounded)
    }

    public func run(_ build: FirmwareBuild) throws(DeviceError) -> DeviceRun {
        let toolchain = try ARMToolchain.locate()
        let qemu = try QemuCortexM.prepare(tools: tools)
        return try qemu.run(build, machine: machine, timing: CortexMTiming(core: target.core),
                            symbols: try toolchain.binutils.symbols(of: build.elf))
    }

    public func checkTools() throws(DeviceError) {
        _ = try ARMToolchain.locate()
        _ = try QemuCortexM.prepare(tools: tools)
    }

    public func toolchainDescription() throws(DeviceError) -> ToolchainDescription {
        let toolchain = try ARMToolchain.locate()
        let qemu = try QemuCortexM.prepare(tools: tools)
        return ToolchainDescription(compiler: toolchain.version(), flags: ARMToolchain.flags + ARMToolchain.cpuFlags(for: target),
                                    simulator: "\(qemu.version()), machine \(machine.name), timing plugin with the \(target.core.rawValue) TRM timings",
                                    cycles: cycleCount)
    }
}
