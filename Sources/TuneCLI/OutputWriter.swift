import Devices
import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR
import Tuner

/// Writes the pick into --out: model.c/model.h, the Arduino sketch, the board's bare firmware, and summary.json.
struct OutputWriter {
    let directory: String
    let dataset: Dataset
    let device: any Device

    /// Test samples the sketch stores (fewer when the sketch was built and they did not all fit).
    static let sketchSamples = 8
    /// Where the Arduino library and its zip go.
    static let libraryFolder = "arduino-library"

    static func write(_ text: String, to path: String) throws(DeviceError) { try SourceFile.write(text, to: path) }

    private func makeDirectory(_ path: String) throws(DeviceError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    @discardableResult
    func writeC(program: FixedProgram) throws(DeviceError) -> EmittedProgram {
        try makeDirectory(directory)
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try Self.write(emitted.header, to: "\(directory)/model.h")
        try Self.write(emitted.source, to: "\(directory)/model.c")
        return emitted
    }

    /// `sketch`: the pick's sketch as built and measured (`--deploy sketch`), already in `directory`.
    /// Returns notes for the user (why a part was left out).
    @discardableResult
    func write(program: FixedProgram, result: TuningJob.Result, ram: Int, flash: Int, sketch: SketchMeasurement? = nil) throws -> [String] {
        let emitted = try writeC(program: program)
        // Raw sensor input and class names, from dataset.json.
        let (rawInput, note) = RawInputEmitter.forOutput(program: program, dataset: dataset)
        if let rawInput {
            try Self.write(rawInput.header(), to: "\(directory)/model_input.h")
            try Self.write(rawInput.source(), to: "\(directory)/model_input.c")
        }
        // The sketch stores a few test samples, quantized, and prints each one's class.
        let test = try dataset.load(split: dataset.availableSplits.contains("test") ? "test" : "val")
        let recurrent = program.graph.input.isSequence
        let samples = sketch?.samples ?? FirmwareSamples(program: program, split: test.prefix(Self.sketchSamples))
        if sketch == nil {
            try SketchMeasurement.write(program: program, samples: samples, to: "\(directory)/sketch/\(ArduinoSketch.sketchName)", rawInput: rawInput)
        }
        // The same as an Arduino library, zipped for "Add .ZIP Library".
        let ino = ArduinoSketch.ino(recurrent: recurrent, samples: samples, inputBits: program.inputFormat.bits, labelled: rawInput?.labels != nil)
        try ArduinoLibraryPackage.write(ArduinoLibrary.files(modelName: program.graph.name, model: emitted, rawInput: rawInput,
                                                             storedSamplesSketch: ArduinoLibrary.storedSamples(fromSketch: ino)),
                                        in: "\(directory)/\(Self.libraryFolder)")
        if result.pickMeasurement == nil {  // else the verification wrote and built these already
            let firmware = "\(directory)/firmware"
            try makeDirectory(firmware)
            try Self.write(emitted.header, to: "\(firmware)/model.h")
            try Self.write(emitted.source, to: "\(firmware)/model.c")
            for (name, text) in try device.runtimeFiles() { try Self.write(text, to: "\(firmware)/\(name)") }
            try Self.write(FirmwareMain.source(platform: device.platform, recurrent: recurrent, inputBits: program.inputFormat.bits,
                                               samples: FirmwareSamples(program: program, split: test.prefix(FirmwareMain.bundledSamples))),
                           to: "\(firmware)/main.c")
        }
        try program.config.write(to: "\(directory)/config.json")
        let pick = result.pick.flatMap { result.trials[$0].evaluation.objectives }
        var summary: [String: Any] = [
            "model": program.graph.name, "config_fingerprint": program.config.fingerprint,
            "budget_ram_bytes": ram, "budget_flash_bytes": flash, "evaluations": result.trials.count,
            "front_size": result.front.count, "pick": result.pick ?? -1,
            // Without a test split there is no test accuracy: null, not 0.
            "pick_val_accuracy": pick?.accuracy ?? 0, "pick_test_accuracy": result.pickTestAccuracy.map { $0 as Any } ?? NSNull(),
            "float_test_accuracy": result.floatTestAccuracy.map { $0 as Any } ?? NSNull(), "float_val_accuracy": result.floatValAccuracy,
            "pick_cycles": pick?.cycles ?? 0, "pick_ram_bytes": pick?.ramBytes ?? 0, "pick_flash_bytes": pick?.flashBytes ?? 0,
            "arena_bytes": emitted.arena.bytes, "arena_lower_bound": emitted.arena.lowerBound,
        ]
        // Each accuracy's samples and 95% Wilson interval.
        func interval(_ accuracy: Double, _ samples: Int) -> [Double] {
            let w = Accuracy.wilson(accuracy: accuracy, samples: samples)
            return [w.lowerBound, w.upperBound]
        }
        summary["val_samples"] = result.valSamples
        summary["fidelity_samples"] = result.fidelitySamples
        summary["fidelity_source"] = result.fidelitySource
        summary["decision"] = result.decision
        summary["stopped"] = result.stopped
        summary["pick_logit_error"] = pick?.logitError ?? 0
        summary["pick_disagreement"] = pick?.disagreement ?? 0
        summary["pick_val_interval"] = interval(pick?.accuracy ?? 0, result.valSamples)
        summary["float_val_interval"] = interval(result.floatValAccuracy, result.valSamples)
        if let n = result.testSamples {
            summary["test_samples"] = n
            summary["pick_test_interval"] = interval(result.pickTestAccuracy ?? 0, n)
            summary["float_test_interval"] = interval(result.floatTestAccuracy ?? 0, n)
        }
        if let profile = result.profile?.profile {
            summary["kernel_profile"] = ["key": profile.key, "programs": profile.programs] as [String: Any]
        }
        if let m = result.pickMeasurement {
            summary["measured_cycles"] = m.meanCycles
            summary["measured_cycle_count"] = m.cycleCount.rawValue
            summary["measured_ram_bytes"] = m.analysedRAM
            summary["measured_static_ram_bytes"] = m.build.sizes.staticRAM
            summary["measured_stack_bytes"] = m.build.stack.bytes
            if let plain = result.pickPlainCRAM { summary["measured_plain_c_ram_bytes"] = plain }
            summary["measured_peak_stack_bytes"] = m.run.peakStackBytes
            summary["measured_flash_bytes"] = m.firmware.programFlash
            summary["measured_samples"] = m.samples
            summary["bit_exact"] = "\(m.values - m.mismatches)/\(m.values)"
            // Relative to the run's directory, as the sketch's: the directory is written under another
            // name and renamed when complete, so an absolute path would name the staging one.
            let elf = m.build.elf
            summary["firmware_elf"] = elf.hasPrefix(directory + "/") ? String(elf.dropFirst(directory.count + 1)) : elf
        }
        if let sketch {
            summary["sketch_flash_bytes"] = sketch.build.sizes.flash
            summary["sketch_static_ram_bytes"] = sketch.build.sizes.staticRAM
            summary["sketch_stack_bytes"] = sketch.build.stack.bytes
            summary["sketch_interrupt_stack_bytes"] = sketch.build.stack.interruptBytes
            summary["sketch_ram_bytes"] = sketch.countedRAM
            summary["sketch_measured_ram_bytes"] = sketch.measuredRAM
            summary["sketch_samples"] = sketch.samples.count
            summary["sketch_classes_equal"] = "\(sketch.samples.count - sketch.mismatches)/\(sketch.samples.count)"
            summary["sketch_elf"] = "sketch-build/\(ArduinoSketch.sketchName).ino.elf"
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
        } catch { throw DeviceError.cannotWrite(path: "\(directory)/summary.json", reason: error.localizedDescription) }
        return note.map { [$0] } ?? []
    }
}
