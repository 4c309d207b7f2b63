import Emit
import Evaluator
import Foundation
import Hardware
import ModelIR

/// The float baseline measured the same way as a fixed-point program: the model emitted as plain
/// float C (`FloatCEmitter`), built into the same firmware by the board's toolchain (soft float on
/// AVR and Cortex-M0+, the FPU where the board has one) and run on its simulator over test samples.
/// Its outputs are checked against the float reference (the same float model evaluated in double
/// precision on the host) within a tolerance, since float arithmetic on the board rounds
/// differently; each sample's class is read from what the board printed.
public struct FloatFirmwareMeasurement: Sendable {
    public var build: FirmwareBuild
    public var run: DeviceRun
    public var cycleCount: CycleCount
    public var samples: Int
    /// Samples the board classified correctly (from its own outputs).
    public var correct: Int
    /// Largest difference between a board output and the reference, relative to the reference's
    /// largest magnitude on that sample.
    public var largestRelativeError: Double
    /// Samples whose class on the board differs from the reference's.
    public var classDisagreements: Int
    public var cycles: [Int]
    public var sampleBytes: Int

    /// Outputs within this relative error of the reference count as the same computation.
    public static let tolerance = 1e-3

    public var meanCycles: Double { Double(cycles.reduce(0, +)) / Double(max(cycles.count, 1)) }
    public var programFlash: Int { build.sizes.flash - sampleBytes }
    /// Static RAM plus the analysed worst-case stack, when the soft-float library let it be bounded.
    public var analysedRAM: Int? { build.unboundedStack == nil ? build.totalRAM : nil }
    public var measuredRAM: Int { build.sizes.staticRAM + run.peakStackBytes }

    public static func run(graph: Graph, device: any Device, split: DatasetSplit, maxSamples: Int,
                           directory: String) throws(DeviceError) -> FloatFirmwareMeasurement {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
        var emitter: FloatCEmitter
        do { emitter = try FloatCEmitter(graph: graph) } catch {
            throw .unsupported(target: device.target.name, reason: "the float model cannot be emitted: \(error)")
        }
        let emitted = emitter.emit()
        try SourceFile.write(emitted.header, to: "\(directory)/model.h")
        try SourceFile.write(emitted.source, to: "\(directory)/model.c")
        for (name, text) in try device.runtimeFiles() { try SourceFile.write(text, to: "\(directory)/\(name)") }

        let recurrent = graph.input.isSequence
        let all = FirmwareSamples(floatInputsOf: split.prefix(max(1, maxSamples)), recurrent: recurrent)
        let (build, samples) = try ProgramFirmware.buildFitting(all, inputBits: 32, device: device) { samples throws(DeviceError) in
            try SourceFile.write(FirmwareMain.source(platform: device.platform, recurrent: recurrent, inputBits: 32, samples: samples),
                                 to: "\(directory)/main.c")
            return try device.build(in: directory, boundingStack: false)
        }
        let run = try device.run(build)

        let used = split.prefix(samples.count)
        let reference: Batch
        do { reference = try FloatEvaluator(graph: graph).run(used) } catch {
            throw .unsupported(target: device.target.name, reason: "the float model cannot be evaluated: \(error)")
        }
        let referenceClasses = Accuracy.classes(reference, outputsClassIndex: graph.outputsClassIndex)
        let lines = run.output.split(separator: "\n")
        guard lines.count >= used.count else {
            throw .simulationFailed(simulator: "firmware", elf: build.elf,
                                    reason: "it printed \(lines.count) lines for \(used.count) samples")
        }
        var correct = 0, disagreements = 0, worst = 0.0
        for s in 0..<used.count {
            let fields = lines[s].split(separator: " ")
            guard fields.count == reference.columns + 1, let cls = Int(fields[fields.count - 1]) else {
                throw .simulationFailed(simulator: "firmware", elf: build.elf, reason: "line \(s + 1) is not \(reference.columns) outputs and a class: \(lines[s])")
            }
            let row = (0..<reference.columns).map { reference.values[s * reference.columns + $0] }
            let scale = max(row.map(abs).max() ?? 0, 1e-6)
            for (j, field) in fields.dropLast().enumerated() {
                guard let bits = UInt32(field, radix: 16) else {
                    throw .simulationFailed(simulator: "firmware", elf: build.elf, reason: "output '\(field)' on line \(s + 1) is not 8 hex digits")
                }
                let value = Double(Float(bitPattern: bits))
                worst = max(worst, value.isFinite ? abs(value - row[j]) / scale : .infinity)
            }
            if cls == used.labels[s] { correct += 1 }
            if cls != referenceClasses[s] { disagreements += 1 }
        }
        let cycles = try FirmwareMeasurement.perSample(run.regionCycles(), regions: samples.regions(recurrent: recurrent), elf: build.elf)
        let sampleBytes = (build.symbolBytes["samples"] ?? 0) + (build.symbolBytes["sample_steps"] ?? 0)
        return FloatFirmwareMeasurement(build: build, run: run, cycleCount: device.cycleCount, samples: used.count, correct: correct,
                                        largestRelativeError: worst, classDisagreements: disagreements, cycles: cycles,
                                        sampleBytes: sampleBytes)
    }
}

extension FirmwareSamples {
    /// The float inputs of every sample of `split` as IEEE-754 single-precision bit patterns.
    public init(floatInputsOf split: DatasetSplit, recurrent: Bool) {
        self.init(values: split.inputs.map { Int64(Float($0).bitPattern) }, of: split, recurrent: recurrent)
    }
}
