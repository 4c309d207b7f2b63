import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR
import Tuner

/// The raw-input path (`model_input.c`): test samples as a sensor gives them (the dataset's
/// normalisation undone) go through the emitted integer normalisation and quantization and the model,
/// compiled on the host under UBSan, and every output integer equals the emulator's on the same
/// readings. Digits are raw pixel counts (0..16), so their readings are exactly the data's; BasicMotions
/// checks the per-timestep variant of a sequence model.
@Suite struct RawInputTests {
    static let cases: [(String, String)] = [("mlp-digits", "all8"), ("lenet-digits", "all16"), ("fastgrnn-basicmotions", "all16")]

    @Test(arguments: cases)
    func theRawInputPathIsBitExactWithTheEmulator(model name: String, preset: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let program = try FixedProgram(graph: model.graph, config: try ConfigSource.resolve(preset, model: model, dataset: dataset))
        let test = try dataset.load(split: "test")
        let report = try RawInputCheck.run(program: program, dataset: dataset, split: test, directory: makeTemporaryDirectory("raw-\(name)"))
        #expect(report.samples == test.count)
        #expect(report.isBitExact, "\(name): \(report.mismatches) mismatches; first: \(report.firstMismatch ?? "")")
        // The integer path differs from the float normalisation of the same readings by at most one quantum.
        #expect(report.maxInputDifference <= 1, "\(name): \(report.inputsDifferingFromFloat) inputs differ, by up to \(report.maxInputDifference)")
    }

    /// Digits' readings are whole pixel counts, and x = raw / 16 is exact: the integer path gives
    /// exactly the quantized float normalisation, so the raw-input program is the tuned program.
    @Test func wholePixelCountsQuantizeExactly() throws {
        let dataset = try Dataset.open(Repository.path("data/digits"))
        #expect(dataset.normalisation == .scale(0.0625))
        for format in [TensorFormat(bits: 8, fracBits: 7), TensorFormat(bits: 16, fracBits: 11), TensorFormat(bits: 8, fracBits: 3)] {
            let q = try RawInputQuantizer(normalisation: .scale(0.0625), channels: 1, format: format)
            for raw in Int16(0)...16 {
                #expect(q.quantize(raw, channel: 0) == format.quantize(Double(raw) / 16), "\(format) raw \(raw)")
            }
        }
    }

    /// Over every int16 reading, the integer path is within one quantum of quantizing the float
    /// normalisation, and saturates instead of wrapping.
    @Test func everyInt16ReadingIsWithinOneQuantum() throws {
        let normalisation = Normalisation.standardise(mean: [2.5958274806666615, -1000.25], std: [7.047427855417223, 0.5])
        for format in [TensorFormat(bits: 8, fracBits: 5), TensorFormat(bits: 16, fracBits: 12)] {
            let q = try RawInputQuantizer(normalisation: normalisation, channels: 2, format: format)
            for channel in 0..<2 {
                for raw in Int16.min...Int16.max {
                    let exact = format.quantize(normalisation.normalise(Double(raw), channel: channel))
                    let got = q.quantize(raw, channel: channel)
                    guard abs(got - exact) <= 1 else {
                        Issue.record("\(format) channel \(channel) raw \(raw): \(got), float \(exact)")
                        return
                    }
                }
            }
        }
        // One raw unit wider than the whole input range: refused with a reason, not a wrong multiplier.
        #expect(throws: RawInputQuantizer.Failure.gainTooLarge(channel: 0, gain: 1e6, fracBits: 7)) {
            try RawInputQuantizer(normalisation: .scale(1e6), channels: 1, format: TensorFormat(bits: 8, fracBits: 7))
        }
    }

    /// A malformed record is an error naming dataset.json, never a crash.
    @Test func aBadNormalisationNamesTheFile() throws {
        let directory = try copyDirectory(Repository.path("data/digits"), label: "bad-normalisation")
        let path = "\(directory)/dataset.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"method\": \"scale\"", with: "\"method\": \"minmax\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.datasetMismatch(path: path, reason: "normalisation: unknown method 'minmax'; allowed: standardise, scale, none")) {
            try Dataset.open(directory)
        }
    }
}
