import Emit
import FixedPoint
import Foundation
import ModelIR
import Tuner

/// Writes the pick into --out: model.c/model.h, the Arduino sketch, the bare avr-gcc program, and summary.json.
struct OutputWriter {
    let directory: String
    let dataset: Dataset

    static func write(_ text: String, to path: String) throws(TunerError) { try BitExactCheck.write(text, to: path) }

    private func makeDirectory(_ path: String) throws(TunerError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    @discardableResult
    func writeC(program: FixedProgram) throws(TunerError) -> EmittedProgram {
        try makeDirectory(directory)
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try Self.write(emitted.header, to: "\(directory)/model.h")
        try Self.write(emitted.source, to: "\(directory)/model.c")
        return emitted
    }

    func write(program: FixedProgram, result: TuningJob.Result, ram: Int, flash: Int) throws {
        let emitted = try writeC(program: program)
        // One test sample, quantized, for the sketch and the firmware to run.
        let test = try dataset.load(split: dataset.availableSplits.contains("test") ? "test" : "val")
        let features = test.sampleShape.elementCount
        let steps = test.lengths?.first ?? 1
        let perSample = test.maxSteps * features
        let inputs = Array(test.inputs[0..<(program.graph.input.isSequence ? steps * features : perSample)])
        let sample = inputs.map(program.inputFormat.quantize)
        let recurrent = program.graph.input.isSequence
        let sketch = "\(directory)/sketch/\(ArduinoSketch.sketchName)"
        try makeDirectory(sketch)
        try Self.write(emitted.header, to: "\(sketch)/model.h")
        try Self.write(emitted.source, to: "\(sketch)/model.c")
        try Self.write(ArduinoSketch.ino(recurrent: recurrent, sample: sample, steps: steps, inputSize: features,
                                         inputBits: program.inputFormat.bits, label: test.labels.first ?? 0),
                       to: "\(sketch)/\(ArduinoSketch.sketchName).ino")
        if result.pickBuild == nil {  // else the build wrote and compiled these already
            try makeDirectory("\(directory)/firmware")
            try Self.write(emitted.header, to: "\(directory)/firmware/model.h")
            try Self.write(emitted.source, to: "\(directory)/firmware/model.c")
            try Self.write(AVRFirmware.source(recurrent: recurrent, inputBits: program.inputFormat.bits,
                                              samples: AVRFirmware.Samples(program: program, split: test.prefix(AVRFirmware.bundledSamples))),
                           to: "\(directory)/firmware/main.c")
        }
        try program.config.write(to: "\(directory)/config.json")
        let pick = result.pick.flatMap { result.trials[$0].evaluation.objectives }
        var summary: [String: Any] = [
            "model": program.graph.name, "config_fingerprint": program.config.fingerprint,
            "budget_ram_bytes": ram, "budget_flash_bytes": flash, "evaluations": result.trials.count,
            "front_size": result.front.count, "pick": result.pick ?? -1,
            "pick_val_accuracy": pick?.accuracy ?? 0, "pick_test_accuracy": result.pickTestAccuracy ?? 0,
            "float_test_accuracy": result.floatTestAccuracy ?? 0, "float_val_accuracy": result.floatValAccuracy,
            "pick_cycles": pick?.cycles ?? 0, "pick_ram_bytes": pick?.ramBytes ?? 0, "pick_flash_bytes": pick?.flashBytes ?? 0,
            "arena_bytes": emitted.arena.bytes, "arena_lower_bound": emitted.arena.lowerBound,
        ]
        if let build = result.pickBuild {
            summary["built_ram_bytes"] = build.totalRAM
            summary["built_static_ram_bytes"] = build.sizes.staticRAM
            summary["built_stack_bytes"] = build.stack.bytes
            summary["built_flash_bytes"] = build.sizes.flash
            summary["built_elf"] = build.elf
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
        } catch { throw TunerError.cannotWrite(path: "\(directory)/summary.json", reason: error.localizedDescription) }
    }
}
