import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The firmware of a fixed-point program built with avr-gcc, with what the toolchain says about it:
/// flash and static RAM from avr-size, and the worst-case stack from `-fstack-usage` and the call
/// graph. Its total RAM is what the tuner compares with `--budget-ram` for the pick.
public struct AVRFirmwareBuild: Sendable {
    public var directory: String
    public var elf: String
    public var samples: AVRFirmware.Samples
    public var sizes: AVRToolchain.Sizes
    public var stack: StackAnalysis.Result
    public var disassembly: String

    /// Static RAM plus the worst-case stack.
    public var totalRAM: Int { sizes.staticRAM + stack.bytes }

    /// Writes `model.c`, `model.h` and the firmware's `main.c` (with up to `maxSamples` samples of
    /// `split`, as many as fit in the target's flash) into `directory` and builds them.
    public static func build(program: FixedProgram, target: Target, split: DatasetSplit, maxSamples: Int,
                             directory: String) throws(TunerError) -> AVRFirmwareBuild {
        let toolchain = try AVRToolchain.locate()
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try BitExactCheck.write(emitted.header, to: "\(directory)/model.h")
        try BitExactCheck.write(emitted.source, to: "\(directory)/model.c")
        let all = AVRFirmware.Samples(program: program, split: split.prefix(max(1, maxSamples)))
        // Build with one sample to learn the program's flash, then with as many as the rest holds
        // (keeping 512 bytes for a bootloader).
        var samples = all.prefix(1)
        var build = try compile(program, samples: samples, toolchain: toolchain, target: target, directory: directory)
        var sizes = try toolchain.sizes(of: build.elf)
        if all.count > 1 {
            let room = target.flashBytes - 512 - sizes.flash
            samples = all.prefix(all.fitting(bytes: room, inputBits: program.inputFormat.bits))
            if samples.count > 1 {
                build = try compile(program, samples: samples, toolchain: toolchain, target: target, directory: directory)
                sizes = try toolchain.sizes(of: build.elf)
            }
        }
        let disassembly = try toolchain.disassembly(of: build.elf)
        let stackFiles = build.stackUsageFiles.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
        let analysis = StackAnalysis(disassembly: disassembly, stackUsage: stackFiles, returnAddressBytes: target.returnAddressBytes)
        let stack: StackAnalysis.Result
        do { stack = try analysis.worstCase() } catch { throw .unboundedStack(elf: build.elf, reason: error.description) }
        return AVRFirmwareBuild(directory: directory, elf: build.elf, samples: samples, sizes: sizes, stack: stack,
                                disassembly: disassembly)
    }

    private static func compile(_ program: FixedProgram, samples: AVRFirmware.Samples, toolchain: AVRToolchain, target: Target,
                                directory: String) throws(TunerError) -> AVRToolchain.Build {
        let main = AVRFirmware.source(recurrent: program.graph.input.isSequence, inputBits: program.inputFormat.bits, samples: samples)
        try BitExactCheck.write(main, to: "\(directory)/main.c")
        return try toolchain.build(sources: ["main.c", "model.c"], in: directory, for: target)
    }
}

extension AVRFirmware.Samples {
    /// The quantized inputs of every sample of `split`, as the program's input format holds them.
    public init(program: FixedProgram, split: DatasetSplit) {
        let quantized = FixedEmulator(program: program).quantizedInputs(split)
        let features = split.sampleShape.elementCount
        let perSample = split.maxSteps * features
        var inputs: [[Int64]] = [], steps: [Int] = []
        for s in 0..<split.count {
            let length = program.graph.input.isSequence ? (split.lengths?[s] ?? split.maxSteps) : 1
            let count = program.graph.input.isSequence ? length * features : perSample
            inputs.append(quantized[(s * perSample)..<(s * perSample + count)].map { Int64($0) })
            steps.append(length)
        }
        self.init(inputs: inputs, steps: steps, labels: split.labels)
    }

    public func prefix(_ n: Int) -> AVRFirmware.Samples {
        AVRFirmware.Samples(inputs: Array(inputs.prefix(n)), steps: Array(steps.prefix(n)), labels: Array(labels.prefix(n)))
    }

    /// How many leading samples fit in `bytes` of flash (at least one).
    func fitting(bytes: Int, inputBits: Int) -> Int {
        var used = 0, n = 0
        for sample in inputs {
            used += sample.count * inputBits / 8 + 2
            if used > bytes { break }
            n += 1
        }
        return max(n, 1)
    }
}
