import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// A fixed-point program measured for real: its firmware built with avr-gcc and run on simavr.
/// Every output integer the microcontroller prints is compared with the emulator, and the cycles,
/// flash and RAM it took are set beside the cost model's predictions.
public struct AVRMeasurement: Sendable {
    public var build: AVRFirmwareBuild
    public var run: SimAVR.Run
    public var prediction: CostModel.Estimate
    public var samples: Int
    public var values: Int
    public var mismatches: Int
    public var firstMismatch: String?
    /// Cycles of each inference (reset, steps and result for a sequence).
    public var cycles: [Int]
    /// Cycles the cost model predicts for each sample.
    public var predictedCycles: [Double]

    public var isBitExact: Bool { mismatches == 0 }
    public var meanCycles: Double { Double(cycles.reduce(0, +)) / Double(max(cycles.count, 1)) }
    public var meanPredictedCycles: Double { predictedCycles.reduce(0, +) / Double(max(predictedCycles.count, 1)) }
    /// Static RAM from avr-size plus the deepest stack seen on the simulator.
    public var measuredRAM: Int { build.sizes.staticRAM + run.peakStackBytes }
    /// Static RAM from avr-size plus the worst-case stack from the call graph: what the tuner budgets.
    public var analysedRAM: Int { build.totalRAM }

    public static func run(program: FixedProgram, target: Target, split: DatasetSplit, maxSamples: Int, directory: String,
                           resources: BundledResources) throws(TunerError) -> AVRMeasurement {
        let build = try AVRFirmwareBuild.build(program: program, target: target, split: split, maxSamples: maxSamples,
                                               directory: directory)
        let hazards = SimAVR.decodingHazards(in: build.disassembly)
        guard hazards.isEmpty else { throw .untrustedSimulation(elf: build.elf, hazards: hazards) }
        let simulator = try SimAVR.prepare(resources: resources)
        let run = try simulator.run(elf: build.elf, target: target)

        let used = split.prefix(build.samples.count)
        let expected = FixedEmulator(program: program).run(used)
        let classes = Accuracy.classes(expected, outputsClassIndex: program.graph.outputsClassIndex)
        let rows: [[Int]?] = run.uart.split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map { Int($0) }
            return fields.allSatisfy { $0 != nil } ? fields.compactMap { $0 } : nil
        }
        let comparison = OutputComparison(expected: expected, expectedClasses: classes, rows: rows, device: "AVR")
        // A sequence's cycles grow with its steps.
        let predicted = build.samples.steps.map { CostModel(target: target, meanSteps: Double($0)).cycles(program) }
        return AVRMeasurement(build: build, run: run, prediction: CostModel(target: target, meanSteps: 1).estimate(program),
                              samples: used.count, values: comparison.values, mismatches: comparison.mismatches,
                              firstMismatch: comparison.firstMismatch,
                              cycles: run.regionCycles(start: AVRFirmware.regionStart, end: AVRFirmware.regionEnd),
                              predictedCycles: predicted)
    }
}
