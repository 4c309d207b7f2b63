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
        let classes = program.graph.outputsClassIndex ? expected.values.map { Int($0) } : expected.argMaxRows()
        let outputs = max(program.graph.outputShape.elementCount, 1)
        let lines = run.uart.split(separator: "\n").map { $0.split(separator: " ").map { Int($0) } }
        var mismatches = 0, first: String?, values = 0
        func mismatch(_ text: String) {
            mismatches += 1
            if first == nil { first = text }
        }
        for s in 0..<used.count {
            guard s < lines.count, lines[s].count == outputs + 1, lines[s].allSatisfy({ $0 != nil }) else {
                mismatch("sample \(s): the firmware printed \(s < lines.count ? "'\(lines[s].map { $0.map(String.init) ?? "?" }.joined(separator: " "))'" : "nothing")")
                continue
            }
            for o in 0..<expected.columns {
                values += 1
                let got = lines[s][o] ?? 0, want = Int(expected.values[s * expected.columns + o])
                if got != want { mismatch("sample \(s), output \(o): emulator \(want), AVR \(got)") }
            }
            values += 1
            if lines[s][outputs] != classes[s] { mismatch("sample \(s): emulator class \(classes[s]), AVR class \(lines[s][outputs] ?? -1)") }
        }
        let estimate = CostModel(target: target, meanSteps: 1).estimate(program)
        var cyclesBySteps: [Int: Double] = [:]
        let predicted = build.samples.steps.map { steps in
            if let known = cyclesBySteps[steps] { return known }
            let cycles = CostModel(target: target, meanSteps: Double(steps)).estimate(program).cycles
            cyclesBySteps[steps] = cycles
            return cycles
        }
        return AVRMeasurement(build: build, run: run, prediction: estimate, samples: used.count, values: values,
                              mismatches: mismatches, firstMismatch: first,
                              cycles: run.regionCycles(start: AVRFirmware.regionStart, end: AVRFirmware.regionEnd),
                              predictedCycles: predicted)
    }
}
