import Devices
import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

/// `tune --deploy sketch`: the program goes to the board inside the Arduino sketch, so the RAM the
/// Arduino core takes is measured before the search (`ArduinoPlatformCost`) and taken from the
/// budget, and the pick's own sketch is built by arduino-builder and run on simavr afterwards.
struct SketchDeployment {
    let device: any Device
    let tools: ToolCache

    /// The core's RAM, measured on the model's 8-bit program in a scratch directory.
    func platformCost(job: LoadedJob) throws -> ArduinoPlatformCost {
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-arduino-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try reporting {
            _ = try ArduinoBuilder.fqbn(for: device.target)
            let program = try FixedProgram(graph: job.model.graph, config: try ConfigSource.resolve("all8", model: job.model, dataset: job.dataset))
            let split = try job.dataset.load(split: job.dataset.availableSplits.contains("test") ? "test" : "val")
            return try ArduinoPlatformCost.measure(program: program, device: device, split: split, directory: scratch, tools: tools,
                                                   rawInput: RawInputEmitter.forOutput(program: program, dataset: job.dataset).files)
        }
    }

    /// Builds and runs the pick's sketch in `directory` (`sketch/mcutune_model` and `sketch-build`).
    func measurePick(_ program: FixedProgram, dataset: Dataset, directory: String) throws -> SketchMeasurement {
        try reporting {
            let split = try dataset.load(split: dataset.availableSplits.contains("test") ? "test" : "val")
            return try SketchMeasurement.run(program: program, split: split, maxSamples: OutputWriter.sketchSamples, target: device.target,
                                             sketchDirectory: "\(directory)/sketch/\(ArduinoSketch.sketchName)",
                                             buildDirectory: "\(directory)/sketch-build", tools: tools,
                                             rawInput: RawInputEmitter.forOutput(program: program, dataset: dataset).files)
        }
    }

    static func describe(_ cost: ArduinoPlatformCost) -> String {
        let s = cost.sketch
        return "platform Arduino core: \(Format.count(cost.ramBytes)) B of RAM beside the model (measured on the model's all8 program: "
            + "sketch \(Format.count(s.countedRAM)) B counted = static \(s.build.sizes.staticRAM) + stack \(s.build.stack.bytes), "
            + "\(Format.count(s.measuredRAM)) B on simavr; bare firmware \(Format.count(cost.firmware.totalRAM)) B)"
    }

    static func describe(_ s: SketchMeasurement, out: String, work: String) -> String {
        "         sketch     \(s.build.elf.replacingOccurrences(of: work, with: out)): flash \(Format.count(s.build.sizes.flash)) B, "
            + "RAM \(Format.count(s.countedRAM)) B counted (static \(Format.count(s.build.sizes.staticRAM)) + worst-case stack \(s.build.stack.bytes), "
            + "of which interrupts \(s.build.stack.interruptBytes)), \(Format.count(s.measuredRAM)) B measured on simavr; "
            + "classes \(s.samples.count - s.mismatches)/\(s.samples.count) equal the emulator's"
    }
}
