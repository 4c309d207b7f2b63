import Emit
import Foundation
import Hardware

/// Runs Cortex-M firmware on qemu-system-arm with the project's TCG plugin
/// (`tools/cortexm/insn-timer.c`), which counts every executed instruction, weights each with the
/// core's timing table (`CortexMTiming`), records each marker call and the lowest stack store.
/// The firmware prints through semihosting and ends with a semihosting exit.
public struct QemuCortexM: Sendable {
    /// What the plugin reports (`out=` JSON).
    struct Report: Decodable {
        var instructions: Int
        var cycles: Int
        var unknown: Int
        /// `[marker, cycles, instructions]` of each marker call, with running totals.
        var marks: [[Int]]
        var minStore: Int?
        var minStoreRegion: Int?

        enum CodingKeys: String, CodingKey {
            case instructions, cycles, unknown, marks
            case minStore = "min_store", minStoreRegion = "min_store_region"
        }
    }

    public let qemu: String
    public let plugin: String

    public static func prepare(tools: ToolCache) throws(DeviceError) -> QemuCortexM {
        guard let qemu = ProcessRunner.find("qemu-system-arm") else {
            throw .toolMissing(tool: "qemu-system-arm", package: "qemu-system-arm")
        }
        let plugin = try tools.binary(for: "tools/cortexm/insn-timer.c", flags: ["-O2", "-shared", "-fPIC"], suffix: ".so")
        return QemuCortexM(qemu: qemu, plugin: plugin)
    }

    public func version() -> String { Binutils.firstLine(of: qemu, ["--version"]) }

    /// Runs `build` on `machine` with `timing`, for at most `timeout` seconds.
    func run(_ build: FirmwareBuild, machine: QemuMachine, timing: CortexMTiming, symbols: [String: (address: Int, size: Int)],
             timeout: Double = 600) throws(DeviceError) -> DeviceRun {
        let table = timing.table(for: ObjdumpListing(build.disassembly))
        let tablePath = "\(build.directory)/firmware.timing", reportPath = "\(build.directory)/firmware.run.json"
        try SourceFile.write("# address size base taken_extra after_load is_load (\(timing.core.rawValue))\n"
                             + table.entries.map(\.line).joined(separator: "\n") + "\n", to: tablePath)
        var markers: [String] = []
        for mark in FirmwareMark.allCases {
            // Markers the firmware does not call are not linked; later ones cannot follow a missing one.
            guard let symbol = symbols[mark.function] else { break }
            markers.append(String(symbol.address, radix: 16))
        }
        guard let stackLow = symbols["_ebss"]?.address ?? symbols["__stack_limit"]?.address,
              let stackTop = symbols["_estack"]?.address else {
            throw .simulationFailed(simulator: "qemu", elf: build.elf, reason: "the firmware has no _ebss and _estack symbols (is it linked with cortexm.ld?)")
        }
        func escaped(_ path: String) -> String { path.replacingOccurrences(of: ",", with: ",,") }
        var plugin = "\(escaped(plugin)),table=\(escaped(tablePath)),out=\(escaped(reportPath))"
        plugin += ",stack_lo=\(String(stackLow, radix: 16)),stack_hi=\(String(stackTop, radix: 16))"
        if !markers.isEmpty { plugin += ",marks=" + markers.joined(separator: ":") }
        try? FileManager.default.removeItem(atPath: reportPath)
        let arguments = ["-M", machine.name, "-display", "none", "-monitor", "none", "-serial", "none",
                         "-chardev", "stdio,id=sh0", "-semihosting-config", "enable=on,target=native,chardev=sh0",
                         "-kernel", build.elf, "-plugin", plugin]
        let result = try ProcessRunner.run(qemu, arguments, timeout: timeout)
        if result.timedOut {
            throw .simulationFailed(simulator: "qemu \(machine.name)", elf: build.elf, reason: "it did not finish within \(Int(timeout)) s")
        }
        guard result.status == 0 else {
            let fault = result.stdout.split(separator: "\n").last { $0.hasPrefix("fault ") }.map { " (\($0): a CPU exception)" } ?? ""
            throw .simulationFailed(simulator: "qemu \(machine.name)", elf: build.elf,
                                    reason: "exit status \(result.status)\(fault)\n" + result.stderr)
        }
        guard let data = FileManager.default.contents(atPath: reportPath),
              let report = try? JSONDecoder().decode(Report.self, from: data) else {
            throw .simulationFailed(simulator: "qemu \(machine.name)", elf: build.elf, reason: "the timing plugin wrote no report\n" + result.stderr)
        }
        let marks = report.marks.compactMap { $0.count == 3 ? DeviceRun.Mark(id: $0[0], cycle: $0[1], instructions: $0[2]) : nil }
        return DeviceRun(output: result.stdout, marks: marks,
                         peakStackBytes: report.minStore.map { stackTop - $0 } ?? 0,
                         peakStackInRegionsBytes: report.minStoreRegion.map { stackTop - $0 } ?? 0)
    }
}
