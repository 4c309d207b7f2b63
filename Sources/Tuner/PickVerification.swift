import Devices
import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The pick, checked on the board before it is taken: front points are built by the board's
/// toolchain in order of preference, and the first whose built RAM (static plus the analysed
/// worst-case stack) and flash fit the budgets is run on the board's simulator over the bundled
/// test samples. A build that fails for any reason (an object too large for the compiler, a stack
/// that cannot be bounded) passes to the next point and is recorded, so the run and its log survive.
///
/// The specialised kernels must not cost RAM: each point is built again with the plain C loop of
/// every kernel (`specialised: false`), and a point whose specialised build needs more RAM than that
/// is passed over too (a few configs out of many, whose fused loop or dense block takes a deeper
/// frame than any plain node; which, only a build says). Where every point that fits does, the
/// first of them is taken and its plain C RAM reported beside its own.
struct PickVerification {
    let device: any Device
    let directory: String
    let ramBudget: Int
    let flashBudget: Int
    /// The profile the search priced with, for the measurement's predictions.
    let profile: KernelProfile?

    /// The first point of `preference` that fits, measured, with its RAM under plain C kernels; nil when none fits.
    func pick(from preference: [Int], program: (Int) throws -> FixedProgram, samples: DatasetSplit,
              rejected: inout [PickRejection]) throws -> (index: Int, program: FixedProgram, measurement: FirmwareMeasurement, plainRAM: Int?)? {
        var grown: (index: Int, program: FixedProgram, plainRAM: Int, rejection: Int)?
        for index in preference {
            let candidate = try program(index)
            let firmware: ProgramFirmware
            do {
                firmware = try ProgramFirmware.build(program: candidate, device: device, split: samples,
                                                     maxSamples: FirmwareMain.bundledSamples, directory: directory)
            } catch {
                // A missing toolchain fails every point alike: say so instead of trying them all.
                if case .toolMissing = error { throw error }
                rejected.append(PickRejection(index: index, reason: error.description.split(separator: "\n").prefix(3).joined(separator: " ")))
                continue
            }
            let ram = firmware.build.totalRAM, flash = firmware.programFlash
            guard ram <= ramBudget, flash <= flashBudget else {
                let over = ram > ramBudget ? "needs \(ram) B of RAM once built (budget \(ramBudget) B)"
                                           : "needs \(flash) B of flash once built (budget \(flashBudget) B)"
                rejected.append(PickRejection(index: index, reason: over, ramBytes: ram, flashBytes: flash))
                continue
            }
            let plainRAM = plainCRAM(candidate, like: firmware)
            if let plainRAM, ram > plainRAM {
                rejected.append(PickRejection(index: index, reason: "its specialised kernels need \(ram) B of RAM once built, \(ram - plainRAM) B more than "
                                              + "the same program with plain C kernels (\(plainRAM) B)", ramBytes: ram, flashBytes: flash))
                if grown == nil { grown = (index, candidate, plainRAM, rejected.count - 1) }
                continue
            }
            let measurement = try FirmwareMeasurement.measure(firmware, program: candidate, device: device, split: samples, profile: profile)
            return (index, candidate, measurement, plainRAM)
        }
        guard let grown else { return nil }
        // Every point that fits takes more RAM than with plain C kernels: the first of them, not passed
        // over after all, built again (the points after it were built into the same directory).
        rejected.remove(at: grown.rejection)
        let firmware = try ProgramFirmware.build(program: grown.program, device: device, split: samples,
                                                 maxSamples: FirmwareMain.bundledSamples, directory: directory)
        let measurement = try FirmwareMeasurement.measure(firmware, program: grown.program, device: device, split: samples, profile: profile)
        return (grown.index, grown.program, measurement, grown.plainRAM)
    }

    /// Static RAM plus the analysed worst-case stack of `program` built with the plain C loop of
    /// every kernel and the samples of `firmware` (the firmware's loop over several samples takes a
    /// frame of its own), in one compile; nil when that build fails.
    private func plainCRAM(_ program: FixedProgram, like firmware: ProgramFirmware) -> Int? {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-plain-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try? ProgramFirmware.build(program: program, device: device, samples: firmware.samples, inputBits: firmware.inputBits,
                                          directory: directory, specialised: false).build.totalRAM
    }
}

/// A front point passed over when the pick was built, and why.
public struct PickRejection: Sendable, Codable, Equatable {
    public var index: Int
    public var reason: String
    public var ramBytes: Int?
    public var flashBytes: Int?

    enum CodingKeys: String, CodingKey {
        case index, reason, ramBytes = "ram_bytes", flashBytes = "flash_bytes"
    }
}

/// The pick as built and run on the board, for the summary and the log.
public struct MeasuredPick: Sendable, Codable, Equatable {
    /// Mean cycles per inference over the samples the firmware ran, and how they were counted.
    public var cycles: Double
    public var cycleCount: String
    /// The cost model's cycles for the same samples.
    public var estimatedCycles: Double
    /// Flash of the program (the firmware without its test samples), from the size tool.
    public var flashBytes: Int
    /// Static RAM (size tool) plus the analysed worst-case stack, what the budget is held to.
    public var ramBytes: Int
    public var staticRAMBytes: Int
    public var stackBytes: Int
    /// The deepest stack seen on the simulator.
    public var measuredStackBytes: Int
    /// Static RAM plus the analysed worst-case stack of the same program with plain C kernels.
    public var plainCRAMBytes: Int?
    public var samples: Int
    public var values: Int
    public var bitExactValues: Int

    public var isBitExact: Bool { values == bitExactValues }

    init(_ m: FirmwareMeasurement, plainCRAM: Int?) {
        plainCRAMBytes = plainCRAM
        cycles = m.meanCycles
        cycleCount = m.cycleCount.rawValue
        estimatedCycles = m.meanPredictedCycles
        flashBytes = m.firmware.programFlash
        ramBytes = m.analysedRAM
        staticRAMBytes = m.build.sizes.staticRAM
        stackBytes = m.build.stack.bytes
        measuredStackBytes = m.run.peakStackBytes
        samples = m.samples
        values = m.values
        bitExactValues = m.values - m.mismatches
    }

    enum CodingKeys: String, CodingKey {
        case cycles, samples, values
        case cycleCount = "cycle_count", estimatedCycles = "estimated_cycles", flashBytes = "flash_bytes", ramBytes = "ram_bytes"
        case staticRAMBytes = "static_ram_bytes", stackBytes = "stack_bytes", measuredStackBytes = "measured_stack_bytes"
        case plainCRAMBytes = "plain_c_ram_bytes"
        case bitExactValues = "bit_exact_values"
    }
}
