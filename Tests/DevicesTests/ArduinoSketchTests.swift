import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR
import Tuner

/// The generated Arduino sketch, compiled by Debian's Arduino toolchain (arduino-builder, the Arduino
/// AVR core) for the Uno and run on simavr: it prints the emulator's class for every stored sample,
/// and its RAM as the tuner counts it (static RAM from the size tool, the worst-case stack of the
/// call graph, the deepest interrupt handler on top) equals the RAM measured on the simulator (static
/// RAM, the deepest stack outside handlers, the deepest handler) to the byte.
@Suite struct ArduinoSketchTests {
    static let cases: [(String, String)] = [("mlp-digits", "all8"), ("fastgrnn-japanesevowels", "all16")]

    /// The bundled model's dataset, the Uno and the model's program under `preset`.
    static func setUp(_ name: String, preset: String) throws -> (Dataset, Target, FixedProgram) {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let uno = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        return (dataset, uno, try FixedProgram(graph: model.graph, config: try ConfigSource.resolve(preset, model: model, dataset: dataset)))
    }

    @Test(arguments: cases)
    func theSketchPrintsTheEmulatorsClassesAndItsRAMIsCountedToTheByte(model name: String, preset: String) throws {
        let (dataset, uno, program) = try Self.setUp(name, preset: preset)
        let directory = makeTemporaryDirectory("sketch-\(name)")
        let measured = try SketchMeasurement.run(program: program, split: try dataset.load(split: "test"), maxSamples: 8, target: uno,
                                                 sketchDirectory: "\(directory)/mcutune_model", buildDirectory: "\(directory)/build",
                                                 tools: ToolCache(root: Repository.root),
                                                 rawInput: RawInputEmitter.forOutput(program: program, dataset: dataset).files)
        #expect(measured.samples.count == 8, "\(name): \(measured.samples.count) samples fit")
        #expect(measured.printedClasses.count == measured.expectedClasses.count)
        let printed = measured.printedClasses, expected = measured.expectedClasses, uart = measured.run.uart
        #expect(measured.classesAgree, "\(name): printed \(printed), emulator \(expected)\n\(uart)")
        let counted = measured.countedRAM, ram = measured.measuredRAM, build = measured.build, run = measured.run
        #expect(counted == ram,
                "\(name): counted \(counted) B (static \(build.sizes.staticRAM) + stack \(build.stack.bytes), of which interrupts \(build.stack.interruptBytes): \(build.stack.path)), measured \(ram) B (main \(run.peakMainStackBytes), interrupts \(run.interruptStackBytes)); \(build.elf)")
        #expect(measured.peakRAMSeen <= measured.countedRAM)
        // The Arduino core's interrupts (timer 0, the UART) ran, so their stack was measured, not assumed.
        #expect(measured.run.interruptStackBytes > 0)
        // The class names come from model_label, out of flash.
        if let labels = dataset.labels, let first = measured.expectedClasses.first {
            #expect(uart.hasPrefix("sample 0: class \(first) \(labels[first]) (label "), "\(uart)")
        }
    }

    /// The Arduino library zips with the library folder at its top, and, unzipped into a libraries
    /// folder as "Add .ZIP Library" does, both examples (the stored samples, and raw readings over
    /// Serial, per sample or per timestep) compile against it with arduino-builder.
    @Test(arguments: ["mlp-digits", "fastgrnn-basicmotions"])
    func theLibraryZipsAndItsExamplesCompile(model name: String) throws {
        let (dataset, uno, program) = try Self.setUp(name, preset: "all8")
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        let rawInput = try #require(RawInputEmitter.forOutput(program: program, dataset: dataset).files)
        let samples = FirmwareSamples(program: program, split: try dataset.load(split: "test").prefix(4))
        let ino = ArduinoSketch.ino(recurrent: program.graph.input.isSequence, samples: samples, inputBits: program.inputFormat.bits, labelled: true)
        let directory = makeTemporaryDirectory("library-\(name)")
        let package = try ArduinoLibraryPackage.write(
            ArduinoLibrary.files(modelName: name, model: emitted, rawInput: rawInput, storedSamplesSketch: ArduinoLibrary.storedSamples(fromSketch: ino)),
            in: "\(directory)/libraries")
        let listing = try ProcessRunner.run(try #require(ProcessRunner.find("unzip")), ["-Z1", package.zip])
        let entries = Set(listing.stdout.split(separator: "\n").map(String.init))
        for file in ["library.properties", "library.json", "src/mcutune_model.h", "src/model.c", "src/model_input.c",
                     "examples/StoredSamples/StoredSamples.ino", "examples/SerialRawInput/SerialRawInput.ino"] {
            #expect(entries.contains("mcutune_model/\(file)"), "\(file) not in \(package.zip): \(entries.sorted())")
        }
        // What the IDE installs: the zip's contents, in a libraries folder of their own.
        let installed = "\(directory)/installed"
        try FileManager.default.createDirectory(atPath: installed, withIntermediateDirectories: true)
        let unzip = try ProcessRunner.run(try #require(ProcessRunner.find("unzip")), ["-q", package.zip, "-d", installed])
        #expect(unzip.status == 0, "\(unzip.stderr)")
        let fromZip = ArduinoLibraryPackage(librariesDirectory: installed, zip: package.zip)
        #expect(fromZip.examples() == ["SerialRawInput", "StoredSamples"])
        for example in fromZip.examples() {
            let elf = try fromZip.compileExample(example, for: uno, buildDirectory: "\(directory)/build-\(example)")
            #expect(FileManager.default.fileExists(atPath: elf))
        }
    }

    /// The raw-input path on the board: the sketch stores raw readings (digits' pixel counts,
    /// BasicMotions' readings rounded to whole units) and normalises them with model_set_input_raw
    /// (model_set_step_raw per timestep) on the Uno; the classes equal the emulator's on the same
    /// readings, and the RAM is still counted to the byte.
    @Test(arguments: ["mlp-digits", "fastgrnn-basicmotions"])
    func rawReadingsGiveTheEmulatorsClassesOnTheUno(model name: String) throws {
        let (dataset, uno, program) = try Self.setUp(name, preset: "all8")
        let normalisation = try #require(dataset.normalisation)
        let directory = makeTemporaryDirectory("sketch-raw-\(name)")
        let measured = try SketchMeasurement.run(program: program, split: try dataset.load(split: "test"), maxSamples: 8, target: uno,
                                                 sketchDirectory: "\(directory)/mcutune_model", buildDirectory: "\(directory)/build",
                                                 tools: ToolCache(root: Repository.root),
                                                 rawInput: RawInputEmitter.forOutput(program: program, dataset: dataset).files,
                                                 rawReadings: normalisation)
        let ino = try String(contentsOfFile: "\(directory)/mcutune_model/mcutune_model.ino", encoding: .utf8)
        #expect(ino.contains(program.graph.input.isSequence ? "model_set_step_raw(raw, x);" : "model_set_input_raw(raw, x);"))
        #expect(measured.samples.count == 8)
        let printed = measured.printedClasses, expected = measured.expectedClasses, uart = measured.run.uart
        #expect(measured.classesAgree, "\(name): printed \(printed), emulator \(expected)\n\(uart)")
        #expect(measured.countedRAM == measured.measuredRAM)
    }
}
