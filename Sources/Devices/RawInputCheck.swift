import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR

/// The raw-input path checked for real: a split's samples turned back into the raw readings a
/// sensor gave (the dataset's normalisation undone, rounded to int16), fed through the emitted
/// `model_set_input_raw` (or `model_set_step_raw`) and the model, compiled by the host compiler under
/// -Wall -Wextra -Werror and UBSan; every output integer and class is compared with the emulator run
/// on the same readings quantized by `RawInputQuantizer`.
public enum RawInputCheck {
    public struct Report: Sendable {
        public var samples: Int
        public var values: Int
        public var mismatches: Int
        public var firstMismatch: String?
        /// Inputs where the integer path differs from quantizing the float normalisation of the same
        /// readings (by at most `maxInputDifference`).
        public var inputsDifferingFromFloat: Int
        public var maxInputDifference: Int64
        public var isBitExact: Bool { mismatches == 0 }
    }

    /// The raw readings of `split` (laid out as `split.inputs`): each stored value with the
    /// normalisation undone, rounded and saturated to int16 (padding steps too; they are never fed).
    public static func rawReadings(_ split: DatasetSplit, normalisation: Normalisation, channels: Int) -> [Int16] {
        split.inputs.enumerated().map { i, x in
            let raw = normalisation.raw(x, channel: i % channels).rounded(.toNearestOrAwayFromZero)
            return Int16(min(max(raw, Double(Int16.min)), Double(Int16.max)))
        }
    }

    public static func run(program: FixedProgram, dataset: Dataset, split: DatasetSplit, directory: String) throws(DeviceError) -> Report {
        guard let normalisation = dataset.normalisation else {
            throw .unsupported(target: "host C", reason: "dataset '\(dataset.description.name)' (\(dataset.directory)/dataset.json) records no normalisation, so there is no raw-input path")
        }
        let files: RawInputEmitter?
        do { files = try RawInputEmitter(program: program, dataset: dataset) } catch {
            throw .unsupported(target: "host C", reason: "raw input of \(dataset.directory)/dataset.json: \(error.description)")
        }
        guard let files, let quantizer = files.quantizer else {
            throw .unsupported(target: "host C", reason: "dataset '\(dataset.description.name)' gives no raw-input path")
        }
        let raw = rawReadings(split, normalisation: normalisation, channels: dataset.channels)
        // The emulator on the readings as the C quantizes them: q / 2^f quantizes back to q exactly.
        let quantized = quantizer.quantize(raw)
        var asQuantized = split
        asQuantized.inputs = quantized.map { program.inputFormat.real($0) }
        let expected = FixedEmulator(program: program).run(asQuantized)
        // The same readings through the float normalisation and quantization, for comparison.
        let fromFloat = raw.enumerated().map { i, r in
            program.inputFormat.quantize(normalisation.normalise(Double(r), channel: i % dataset.channels))
        }
        let differences = zip(quantized, fromFloat).map { abs($0 - $1) }

        try BitExactCheck.writeHostProgram(program, split: split, directory: directory)
        try SourceFile.write(HostHarness.source(recurrent: program.graph.input.isSequence, rawInput: true), to: "\(directory)/harness.c")
        try SourceFile.write(files.header(), to: "\(directory)/model_input.h")
        try SourceFile.write(files.source(), to: "\(directory)/model_input.c")
        try BitExactCheck.writeSamples(raw.map { Double($0) }, split: split, outputs: program.graph.outputShape.elementCount,
                                       to: "\(directory)/raw.bin")
        let values = try BitExactCheck.compileAndRun(["model.c", "model_input.c", "harness.c"], input: "raw.bin", in: directory)
        let perSample = expected.columns + 1
        let rows: [[Int]?] = (0..<split.count).map { s in
            values.count >= (s + 1) * perSample ? values[(s * perSample)..<((s + 1) * perSample)].map { Int($0) } : nil
        }
        let comparison = OutputComparison(expected: expected, expectedClasses: Accuracy.classes(expected, outputsClassIndex: program.graph.outputsClassIndex),
                                          rows: rows, device: "C (raw input)")
        return Report(samples: split.count, values: comparison.values, mismatches: comparison.mismatches, firstMismatch: comparison.firstMismatch,
                      inputsDifferingFromFloat: differences.filter { $0 != 0 }.count, maxInputDifference: differences.max() ?? 0)
    }
}
