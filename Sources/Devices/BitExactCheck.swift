import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR

/// The core contract, checked for real: emit the C, compile it with the host compiler under
/// -Wall -Wextra -Werror and UBSan, run a whole split through it, and compare every output
/// integer (and every predicted class) with the emulator.
public struct BitExactCheck {
    public struct Report: Sendable {
        public var samples: Int
        public var values: Int
        public var mismatches: Int
        /// Samples whose every output and class agree.
        public var exactSamples: Int
        public var firstMismatch: String?
        public var emulatorAccuracy: Double
        public var cAccuracy: Double
        public var arenaBytes: Int
        public var arenaLowerBound: Int
        public var constantBytes: Int
        public var directory: String
        public var isBitExact: Bool { mismatches == 0 }
    }

    public static let compilerFlags = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined",
                                       "-fno-sanitize-recover=undefined"]

    /// Writes `model.h`, `model.c` and `harness.c` into `directory`, builds and runs them on `split`;
    /// `defines` are macros the build defines (a board's variant of a kernel, on the host).
    public static func run(program: FixedProgram, split: DatasetSplit, directory: String, defines: [String] = []) throws(DeviceError) -> Report {
        let emulator = FixedEmulator(program: program)
        let expected = emulator.run(split)
        let emitted = try writeHostProgram(program, split: split, directory: directory)

        let values = try compileAndRun(["model.c", "harness.c"], input: "input.bin", in: directory, flags: defines.map { "-D\($0)" })
        let perSample = expected.columns + 1
        guard values.count == split.count * perSample else {
            throw .toolFailed(tool: "\(directory)/harness", output: "wrote \(values.count) values, expected \(split.count * perSample)")
        }
        let emulatorClasses = Accuracy.classes(expected, outputsClassIndex: program.graph.outputsClassIndex)
        let rows: [[Int]?] = (0..<split.count).map { s in values[(s * perSample)..<((s + 1) * perSample)].map { Int($0) } }
        let comparison = OutputComparison(expected: expected, expectedClasses: emulatorClasses, rows: rows, device: "C")
        return Report(samples: split.count, values: comparison.values, mismatches: comparison.mismatches,
                      exactSamples: comparison.exactSamples, firstMismatch: comparison.firstMismatch,
                      emulatorAccuracy: Accuracy.of(classes: emulatorClasses, labels: split.labels),
                      cAccuracy: Accuracy.of(classes: comparison.classes, labels: split.labels),
                      arenaBytes: emitted.arena.bytes, arenaLowerBound: emitted.arena.lowerBound,
                      constantBytes: emitted.constantBytes, directory: directory)
    }

    /// Compiles `sources` (with `harness.c` last) in `directory` with the host compiler and runs the
    /// harness on `input`: every value it wrote to `output.bin`.
    static func compileAndRun(_ sources: [String], input: String, in directory: String, flags: [String] = []) throws(DeviceError) -> [Int32] {
        guard let cc = ProcessRunner.find("cc") else { throw .toolMissing(tool: "cc", package: "gcc") }
        let build = try ProcessRunner.run(cc, compilerFlags + flags + sources + ["-o", "harness"], in: directory)
        guard build.status == 0 else { throw .toolFailed(tool: "cc (\(directory)/\(sources.dropLast().joined(separator: ", ")))", output: build.stderr) }
        let run = try ProcessRunner.run("\(directory)/harness", [input, "output.bin"], in: directory)
        guard run.status == 0 else { throw .toolFailed(tool: "\(directory)/harness", output: run.stderr) }
        guard let data = FileManager.default.contents(atPath: "\(directory)/output.bin") else {
            throw .toolFailed(tool: "\(directory)/harness", output: "wrote no output.bin")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    }

    /// `model.h`, `model.c`, `harness.c` and the quantized samples of `split` (`input.bin`), ready to build.
    @discardableResult
    static func writeHostProgram(_ program: FixedProgram, split: DatasetSplit, directory: String) throws(DeviceError) -> EmittedProgram {
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try SourceFile.write(emitted.header, to: "\(directory)/model.h")
        try SourceFile.write(emitted.source, to: "\(directory)/model.c")
        try SourceFile.write(HostHarness.source(recurrent: program.graph.input.isSequence), to: "\(directory)/harness.c")
        try writeSamples(FixedEmulator(program: program).quantizedInputs(split), split: split,
                         outputs: program.graph.outputShape.elementCount, to: "\(directory)/input.bin")
        return emitted
    }

    static func writeSamples(_ inputs: [Double], split: DatasetSplit, outputs: Int, to path: String) throws(DeviceError) {
        let features = split.sampleShape.elementCount
        var words: [Int32] = [Int32(split.count), Int32(split.maxSteps), Int32(features), Int32(outputs)]
        var data = Data()
        words.withUnsafeBytes { data.append(contentsOf: $0) }
        let lengths = split.lengths ?? Array(repeating: split.maxSteps, count: split.count)
        let perSample = split.maxSteps * features
        for s in 0..<split.count {
            words = [Int32(lengths[s])]
            words.withUnsafeBytes { data.append(contentsOf: $0) }
            let values = inputs[(s * perSample)..<((s + 1) * perSample)].map { Int16($0) }
            values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
