import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The RAM the Arduino core takes beside the model, measured rather than guessed: one program is
/// built both as the bare firmware (the model alone, what the cost model and the pick's check
/// count) and as the Arduino sketch (run on simavr, its counted RAM checked against what it
/// used); the difference is the core's Serial buffers, timer state, its deeper frames around the
/// model and its interrupt handlers' stack.
///
/// The difference depends a little on the program: around a model whose inference is shallower than
/// the core's printing, the sketch's deepest chain is the printing, and the difference is largest.
/// Measured on the model's smallest program (8-bit everywhere), it errs on the safe side for the
/// deeper ones; the pick's own sketch is built and measured afterwards all the same.
public struct ArduinoPlatformCost: Sendable {
    public var sketch: SketchMeasurement
    public var firmware: FirmwareBuild

    /// Counted RAM of the sketch minus that of the bare firmware of the same program.
    public var ramBytes: Int { max(0, sketch.countedRAM - firmware.totalRAM) }

    /// Builds `program` both ways under `directory` and runs its sketch on the simulator.
    public static func measure(program: FixedProgram, device: any Device, split: DatasetSplit, directory: String,
                               tools: ToolCache, rawInput: RawInputEmitter? = nil) throws(DeviceError) -> ArduinoPlatformCost {
        let firmware = try ProgramFirmware.build(program: program, device: device, split: split, maxSamples: 1,
                                                 directory: "\(directory)/firmware")
        let sketch = try SketchMeasurement.run(program: program, split: split, maxSamples: 1, target: device.target,
                                               sketchDirectory: "\(directory)/sketch/\(ArduinoSketch.sketchName)",
                                               buildDirectory: "\(directory)/sketch-build", tools: tools, rawInput: rawInput)
        guard sketch.classesAgree else {
            throw .simulationFailed(simulator: "simavr", elf: sketch.build.elf,
                                    reason: "the sketch printed classes \(sketch.printedClasses.map { $0.map(String.init) ?? "-" }) where the emulator gives \(sketch.expectedClasses)")
        }
        return ArduinoPlatformCost(sketch: sketch, firmware: firmware.build)
    }
}
