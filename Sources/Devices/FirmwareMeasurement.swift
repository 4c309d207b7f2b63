import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// A fixed-point program measured for real: its firmware built by the board's toolchain and run on
/// its simulator. Every output integer the microcontroller prints is compared with the emulator,
/// and the cycles, flash and RAM it took are set beside the cost model's predictions.
public struct FirmwareMeasurement: Sendable {
    public var firmware: ProgramFirmware
    public var run: DeviceRun
    public var cycleCount: CycleCount
    public var prediction: CostModel.Estimate
    public var samples: Int
    public var values: Int
    public var mismatches: Int
    public var firstMismatch: String?
    /// Cycles of each inference (reset, steps and result for a sequence).
    public var cycles: [Int]
    /// Cycles the cost model predicts for each sample.
    public var predictedCycles: [Double]

    public var build: FirmwareBuild { firmware.build }
    public var isBitExact: Bool { mismatches == 0 }
    public var meanCycles: Double { Double(cycles.reduce(0, +)) / Double(max(cycles.count, 1)) }
    public var meanPredictedCycles: Double { predictedCycles.reduce(0, +) / Double(max(predictedCycles.count, 1)) }
    /// Static RAM from the size tool plus the deepest stack seen on the simulator.
    public var measuredRAM: Int { build.sizes.staticRAM + run.peakStackBytes }
    /// Static RAM from the size tool plus the worst-case stack from the call graph: what the tuner budgets.
    public var analysedRAM: Int { build.totalRAM }

    /// Builds `program` into `directory` with up to `maxSamples` of `split`, runs it and compares it;
    /// the predictions are the cost model's with `profile` (the model's measured kernels), if given.
    public static func run(program: FixedProgram, device: any Device, split: DatasetSplit, maxSamples: Int,
                           directory: String, profile: KernelProfile? = nil, specialised: Bool = true) throws(DeviceError) -> FirmwareMeasurement {
        let firmware = try ProgramFirmware.build(program: program, device: device, split: split, maxSamples: maxSamples,
                                                 directory: directory, specialised: specialised)
        return try measure(firmware, program: program, device: device, split: split, profile: profile)
    }

    /// Runs a built firmware and compares what it printed with the emulator.
    public static func measure(_ firmware: ProgramFirmware, program: FixedProgram, device: any Device,
                               split: DatasetSplit, profile: KernelProfile? = nil) throws(DeviceError) -> FirmwareMeasurement {
        let run = try device.run(firmware.build)
        let used = split.prefix(firmware.samples.count)
        let expected = FixedEmulator(program: program).run(used)
        let classes = Accuracy.classes(expected, outputsClassIndex: program.graph.outputsClassIndex)
        let rows: [[Int]?] = run.output.split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map { Int($0) }
            return fields.allSatisfy { $0 != nil } ? fields.compactMap { $0 } : nil
        }
        let comparison = OutputComparison(expected: expected, expectedClasses: classes, rows: rows, device: device.target.name)
        let recurrent = program.graph.input.isSequence
        let cycles = try perSample(run.regionCycles(), regions: firmware.samples.regions(recurrent: recurrent), elf: firmware.build.elf)
        // A sequence's cycles grow with its steps.
        let predicted = firmware.samples.steps.map { CostModel(target: device.target, meanSteps: Double($0), profile: profile).cycles(program) }
        return FirmwareMeasurement(firmware: firmware, run: run, cycleCount: device.cycleCount,
                                   prediction: CostModel(target: device.target, meanSteps: 1, profile: profile).estimate(program),
                                   samples: used.count, values: comparison.values, mismatches: comparison.mismatches,
                                   firstMismatch: comparison.firstMismatch, cycles: cycles, predictedCycles: predicted)
    }

    /// Sums the marked regions of each sample.
    static func perSample(_ regions: [Int], regions counts: [Int], elf: String) throws(DeviceError) -> [Int] {
        guard regions.count == counts.reduce(0, +) else {
            throw .simulationFailed(simulator: "firmware", elf: elf,
                                    reason: "it marked \(regions.count) regions, expected \(counts.reduce(0, +)) for \(counts.count) samples")
        }
        var result: [Int] = [], next = 0
        for n in counts {
            result.append(regions[next..<(next + n)].reduce(0, +))
            next += n
        }
        return result
    }
}
