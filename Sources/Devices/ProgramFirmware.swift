import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The firmware of a fixed-point program for a board: `model.c`, `model.h`, the firmware's
/// `main.c` with as many test samples as the flash holds, and the core's runtime files, built by
/// the board's toolchain. Its RAM (static plus the analysed worst-case stack) is what the tuner
/// compares with `--budget-ram`.
public struct ProgramFirmware: Sendable {
    public var build: FirmwareBuild
    public var samples: FirmwareSamples
    public var inputBits: Int

    /// Flash of the samples the firmware carries (they are test data, not part of the program).
    public var sampleBytes: Int { (build.symbolBytes["samples"] ?? 0) + (build.symbolBytes["sample_steps"] ?? 0) }
    /// Flash of the program itself: the firmware without its samples.
    public var programFlash: Int { build.sizes.flash - sampleBytes }

    /// Writes the sources into `directory` and builds them, with up to `maxSamples` samples of `split`.
    /// `marksPieces` builds the calibration variant, which marks every node (`CEmitter`);
    /// `specialised: false` the plain C of every kernel, the baseline of `tune bench --kernels`.
    public static func build(program: FixedProgram, device: any Device, split: DatasetSplit, maxSamples: Int,
                             directory: String, marksPieces: Bool = false, specialised: Bool = true) throws(DeviceError) -> ProgramFirmware {
        try write(program: program, device: device, directory: directory, marksPieces: marksPieces, specialised: specialised)
        let all = FirmwareSamples(program: program, split: split.prefix(max(1, maxSamples)))
        let bits = program.inputFormat.bits
        let (build, samples) = try buildFitting(all, inputBits: bits, device: device) { samples throws(DeviceError) in
            try compile(program, samples: samples, device: device, directory: directory)
        }
        return ProgramFirmware(build: build, samples: samples, inputBits: bits)
    }

    /// Writes the sources into `directory` and builds them once with exactly `samples` (another
    /// build's, so that the two firmwares differ in the program alone).
    public static func build(program: FixedProgram, device: any Device, samples: FirmwareSamples, inputBits: Int,
                             directory: String, specialised: Bool = true) throws(DeviceError) -> ProgramFirmware {
        try write(program: program, device: device, directory: directory, marksPieces: false, specialised: specialised)
        return ProgramFirmware(build: try compile(program, samples: samples, device: device, directory: directory),
                               samples: samples, inputBits: inputBits)
    }

    /// Builds with one sample to learn the program's flash, then with as many of `all` as the rest
    /// of the board's flash holds.
    static func buildFitting(_ all: FirmwareSamples, inputBits: Int, device: any Device,
                             compile: (FirmwareSamples) throws(DeviceError) -> FirmwareBuild) throws(DeviceError) -> (FirmwareBuild, FirmwareSamples) {
        var samples = all.prefix(1)
        var build = try compile(samples)
        if all.count > 1 {
            let room = device.target.flashBytes - device.reservedFlashBytes - build.sizes.flash
            samples = all.prefix(all.fitting(bytes: room, inputBits: inputBits))
            if samples.count > 1 { build = try compile(samples) }
        }
        return (build, samples)
    }

    /// `model.c`, `model.h` and the core's runtime files.
    static func write(program: FixedProgram, device: any Device, directory: String, marksPieces: Bool,
                      specialised: Bool = true) throws(DeviceError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
        var emitter = CEmitter(program: program, marksPieces: marksPieces, specialised: specialised)
        let emitted = emitter.emit()
        try SourceFile.write(emitted.header, to: "\(directory)/model.h")
        try SourceFile.write(emitted.source, to: "\(directory)/model.c")
        for (name, text) in try device.runtimeFiles() { try SourceFile.write(text, to: "\(directory)/\(name)") }
    }

    private static func compile(_ program: FixedProgram, samples: FirmwareSamples, device: any Device,
                                directory: String) throws(DeviceError) -> FirmwareBuild {
        let main = FirmwareMain.source(platform: device.platform, recurrent: program.graph.input.isSequence,
                                       inputBits: program.inputFormat.bits, samples: samples)
        try SourceFile.write(main, to: "\(directory)/main.c")
        return try device.build(in: directory)
    }
}

extension FirmwareSamples {
    /// The quantized inputs of every sample of `split`, as the program's input format holds them.
    public init(program: FixedProgram, split: DatasetSplit) {
        let quantized = FixedEmulator(program: program).quantizedInputs(split)
        self.init(values: quantized.map { Int64($0) }, of: split, recurrent: program.graph.input.isSequence)
    }

    /// The samples of `split` from `values`, laid out as `split.inputs` (a sequence's timesteps up to
    /// its own length).
    init(values: [Int64], of split: DatasetSplit, recurrent: Bool) {
        let features = split.sampleShape.elementCount
        let perSample = split.maxSteps * features
        var inputs: [[Int64]] = [], steps: [Int] = []
        for s in 0..<split.count {
            let length = recurrent ? (split.lengths?[s] ?? split.maxSteps) : 1
            let count = recurrent ? length * features : perSample
            inputs.append(Array(values[(s * perSample)..<(s * perSample + count)]))
            steps.append(length)
        }
        self.init(inputs: inputs, steps: steps, labels: split.labels)
    }
}

/// Writes generated sources.
public enum SourceFile {
    public static func write(_ text: String, to path: String) throws(DeviceError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
