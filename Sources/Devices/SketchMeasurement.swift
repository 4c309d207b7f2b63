import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The Arduino sketch of a fixed-point program, built for real by the Arduino toolchain
/// (`ArduinoBuilder`: the Arduino AVR core, LTO, `-Os`) and run on simavr: the class it prints for
/// every stored sample is compared with the emulator's, and its RAM is counted and measured.
///
/// Counted RAM is what the tuner budgets: static RAM from the size tool plus the worst-case stack
/// from the call graph (every frame read from the code, since LTO leaves no `-fstack-usage` that
/// matches the linked functions; virtual calls followed through the core's vtables), with the
/// deepest interrupt handler (the core's timer and UART) on top. Measured RAM is static RAM plus
/// the deepest stack the simulator saw outside handlers plus the deepest a handler went below the
/// point it interrupted: the same sum, observed, since a handler seldom fires at the deepest point.
public struct SketchMeasurement: Sendable {
    public var build: FirmwareBuild
    public var run: SimAVR.Run
    public var samples: FirmwareSamples
    /// The class printed for each sample, in order; nil where a line could not be read.
    public var printedClasses: [Int?]
    public var expectedClasses: [Int]

    /// How many samples the sketch stores at most (its loop counter is 8 bits).
    public static let maxSamples = 16

    public var mismatches: Int {
        zip(printedClasses, expectedClasses).filter { $0.0 != $0.1 }.count + abs(printedClasses.count - expectedClasses.count)
    }
    public var classesAgree: Bool { mismatches == 0 }
    /// Static RAM plus the analysed worst-case stack (handlers included).
    public var countedRAM: Int { build.totalRAM }
    /// Static RAM plus the deepest stack seen outside handlers plus the deepest handler.
    public var measuredRAM: Int { build.sizes.staticRAM + run.peakMainStackBytes + run.interruptStackBytes }
    /// Static RAM plus the deepest stack seen at any moment (a handler on top of wherever it fired).
    public var peakRAMSeen: Int { build.sizes.staticRAM + run.peakStackBytes }

    /// The sketch folder `directory` (whose last component must be the sketch's name): `model.c`,
    /// `model.h` and `NAME.ino` with `samples`.
    /// With `rawInput`, also `model_input.c` and `model_input.h`, and the sketch prints class names.
    /// `rawReadings`: `samples` are raw readings for `rawInput`'s `model_set_input_raw`.
    public static func write(program: FixedProgram, samples: FirmwareSamples, to directory: String,
                             rawInput: RawInputEmitter? = nil, rawReadings: Bool = false) throws(DeviceError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try SourceFile.write(emitted.header, to: "\(directory)/model.h")
        try SourceFile.write(emitted.source, to: "\(directory)/model.c")
        let name = (directory as NSString).lastPathComponent
        if let rawInput {
            try SourceFile.write(rawInput.header(), to: "\(directory)/model_input.h")
            try SourceFile.write(rawInput.source(), to: "\(directory)/model_input.c")
        }
        try SourceFile.write(ArduinoSketch.ino(recurrent: program.graph.input.isSequence, samples: samples,
                                               inputBits: program.inputFormat.bits, labelled: rawInput?.labels != nil,
                                               rawReadings: rawReadings && rawInput?.quantizer != nil),
                             to: "\(directory)/\(name).ino")
    }

    /// Writes the sketch with up to `maxSamples` samples of `split` into `sketchDirectory`, builds it
    /// into `buildDirectory` (with fewer samples if they do not fit the flash), runs it on simavr
    /// and compares what it printed.
    /// With `rawInput`, the sketch carries `model_input.c` and prints class names (`write`); with
    /// `rawReadings` (and a dataset normalisation to undo) too, it stores the samples as raw readings
    /// (`RawInputCheck.rawReadings`) and feeds them through `model_set_input_raw` on the board, and the
    /// emulator runs on the same readings as `RawInputQuantizer` quantizes them.
    public static func run(program: FixedProgram, split: DatasetSplit, maxSamples: Int, target: Target, sketchDirectory: String,
                           buildDirectory: String, tools: ToolCache, rawInput: RawInputEmitter? = nil,
                           rawReadings: Normalisation? = nil) throws(DeviceError) -> SketchMeasurement {
        let builder = try ArduinoBuilder.locate()
        var split = split.prefix(min(max(1, maxSamples), Self.maxSamples))
        var all = FirmwareSamples(program: program, split: split)
        let raw = rawReadings.flatMap { n in rawInput?.quantizer.map { (n, $0) } }
        if let (normalisation, quantizer) = raw {
            let readings = RawInputCheck.rawReadings(split, normalisation: normalisation, channels: quantizer.channels.count)
            all = FirmwareSamples(values: readings.map { Int64($0) }, of: split, recurrent: program.graph.input.isSequence)
            split.inputs = quantizer.quantize(readings).map { program.inputFormat.real($0) }  // q / 2^f quantizes back to q
        }
        var count = all.count, elf = ""
        while true {
            try write(program: program, samples: all.prefix(count), to: sketchDirectory, rawInput: rawInput, rawReadings: raw != nil)
            do {
                elf = try builder.build(sketchDirectory: sketchDirectory, buildDirectory: buildDirectory, for: target)
                break
            } catch let error where count > 1 {
                guard case .doesNotFit = error else { throw error }
                count /= 2  // the samples take flash: fewer of them
            }
        }
        let samples = all.prefix(count)
        let build = try analyse(elf: elf, builder: builder, target: target, directory: buildDirectory)
        let hazards = SimAVR.decodingHazards(in: build.disassembly)
        guard hazards.isEmpty else { throw .untrustedSimulation(elf: elf, hazards: hazards) }
        let run = try SimAVR.prepare(tools: tools).run(elf: elf, target: target)
        let expected = Accuracy.classes(FixedEmulator(program: program).run(split.prefix(count)),
                                        outputsClassIndex: program.graph.outputsClassIndex)
        return SketchMeasurement(build: build, run: run, samples: samples, printedClasses: printedClasses(run.uart, count: count),
                                 expectedClasses: expected)
    }

    /// Sizes, disassembly and the worst-case stack of a built sketch.
    static func analyse(elf: String, builder: ArduinoBuilder, target: Target, directory: String) throws(DeviceError) -> FirmwareBuild {
        let binutils = builder.binutils
        let sizes = try binutils.sizes(of: elf)
        let disassembly = try binutils.disassembly(of: elf)
        let symbols = try binutils.symbols(of: elf)
        let vtables = AVRVirtualTables(symbols: symbols, dataDump: try builder.dataDump(of: elf))
        let graph = ObjdumpListing(disassembly).avrCallGraph(returnAddressBytes: target.returnAddressBytes, vtables: vtables)
        let stack: StackAnalysis.Result
        do { stack = try StackAnalysis(graph: graph, stackUsage: []).worstCase() } catch {
            throw .unboundedStack(elf: elf, reason: error.description)
        }
        return FirmwareBuild(directory: directory, elf: elf, sizes: sizes, stack: stack, disassembly: disassembly,
                             symbolBytes: symbols.mapValues(\.size), callGraph: graph)
    }

    /// The class of each `sample S: class C ...` line, by sample; nil for a sample without one.
    static func printedClasses(_ uart: String, count: Int) -> [Int?] {
        var classes = [Int?](repeating: nil, count: count)
        for line in uart.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ")
            guard words.count >= 4, words[0] == "sample", words[1].hasSuffix(":"), words[2] == "class",
                  let sample = Int(words[1].dropLast()), sample >= 0, sample < count, let cls = Int(words[3]) else { continue }
            classes[sample] = cls
        }
        return classes
    }
}
