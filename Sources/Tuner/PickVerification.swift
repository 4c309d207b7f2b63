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
struct PickVerification {
    let device: any Device
    let directory: String
    let ramBudget: Int
    let flashBudget: Int
    /// The profile the search priced with, for the measurement's predictions.
    let profile: KernelProfile?

    /// The first point of `preference` that fits, measured; nil when none does.
    func pick(from preference: [Int], program: (Int) throws -> FixedProgram, samples: DatasetSplit,
              rejected: inout [PickRejection]) throws -> (index: Int, program: FixedProgram, measurement: FirmwareMeasurement)? {
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
            let measurement = try FirmwareMeasurement.measure(firmware, program: candidate, device: device, split: samples, profile: profile)
            return (index, candidate, measurement)
        }
        return nil
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
    public var samples: Int
    public var values: Int
    public var bitExactValues: Int

    public var isBitExact: Bool { values == bitExactValues }

    init(_ m: FirmwareMeasurement) {
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
        case bitExactValues = "bit_exact_values"
    }
}
