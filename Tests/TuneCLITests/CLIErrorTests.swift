import Foundation
import Testing
import TestSupport
import ModelIR

/// Bad input through the real executable: a one-line error that names what is wrong, a non-zero
/// exit, and no crash (a crash would exit by signal, with no "Error:" line).
@Suite struct CLIErrorTests {
    /// The first line of stderr, which must say it all.
    func expectError(_ arguments: [String], _ message: String, environment: [String: String] = [:],
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try TuneExecutable.run(arguments, environment: environment)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.status < 128, "exited by signal", sourceLocation: sourceLocation)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first == "Error: " + message, sourceLocation: sourceLocation)
    }

    func defaultModelCopy() throws -> String {
        try copyDirectory(Repository.path("models/fastgrnn-japanesevowels"), label: "cli")
    }

    @Test func unknownTarget() throws {
        try expectError(["--target", "esp32", "--budget-ram", "2048"],
                        "unknown target 'esp32'; known targets: uno, mega2560, nano33iot, nano33ble, stm32f746disco (see 'tune targets')")
    }

    @Test func budgetLargerThanTheBoard() throws {
        try expectError(["--target", "uno", "--budget-ram", "4096"], "--budget-ram 4096 exceeds the 2048 bytes that target 'uno' has")
    }

    /// With no toolchain on PATH, the error names the Debian package that provides it.
    @Test func aMissingToolchainNamesItsPackage() throws {
        let noTools = ["PATH": makeTemporaryDirectory("empty-path")]
        try expectError(["measure", "--target", "uno", "--config", "all8", "--model", "mlp-digits"],
                        "'avr-gcc' is not installed; install it with: apt-get install -y gcc-avr avr-libc (or run scripts/install-system-packages)",
                        environment: noTools)
        try expectError(["--target", "uno", "--model", "mlp-digits", "--max-evaluations", "5", "--out", makeTemporaryDirectory("no-tools")],
                        "'avr-gcc' is not installed; install it with: apt-get install -y gcc-avr avr-libc (or run scripts/install-system-packages)",
                        environment: noTools)
    }

    /// `--deploy sketch` needs the Arduino toolchain: without arduino-builder the error names its packages.
    @Test func aMissingArduinoToolchainNamesItsPackages() throws {
        let bin = makeTemporaryDirectory("no-arduino-path")
        for tool in (try? FileManager.default.contentsOfDirectory(atPath: "/usr/bin")) ?? [] where tool != "arduino-builder" {
            try? FileManager.default.createSymbolicLink(atPath: "\(bin)/\(tool)", withDestinationPath: "/usr/bin/\(tool)")
        }
        try expectError(["--model", "mlp-digits", "--deploy", "sketch", "--max-evaluations", "5", "--out", makeTemporaryDirectory("no-arduino")],
                        "'arduino-builder' is not installed; install it with: apt-get install -y arduino-builder arduino-core-avr universal-ctags (or run scripts/install-system-packages)",
                        environment: ["PATH": bin])
        try expectError(["--deploy", "zip"], "unknown --deploy 'zip'; allowed: firmware, sketch")
    }

    @Test func reserveLeavingNoRAM() throws {
        try expectError(["--reserve-ram", "2048"], "--reserve-ram 2048 leaves no RAM for the model within the 2048 B budget")
    }

    @Test func nonPositiveBudget() throws {
        try expectError(["--budget-ram=0"], "--budget-ram must be a positive number of bytes, got 0")
        // Was "Missing value for '--budget-ram <bytes>'": a negative number read as an option.
        try expectError(["--budget-ram", "-5"], "--budget-ram must be a positive number of bytes, got -5")
    }

    @Test func measuredRunsWithoutTheProfile() throws {
        try expectError(["--measure-runs", "--no-profile"], "--measure-runs measures runs beside the kernel profile: it cannot go with --no-profile")
        try expectError(["--measure-runs", "--no-verify"], "--measure-runs measures runs beside the kernel profile: it cannot go with --no-verify")
    }

    /// An ONNX file names no dataset: every command that loads it asks for --data, naming the option.
    @Test func onnxModelWithoutData() throws {
        let message = "models/onnx/mlp-digits.onnx is an ONNX model, which names no dataset; pass its dataset directory with --data DIR"
        try expectError(["inspect", "models/onnx/mlp-digits.onnx"], message)
        try expectError(["--model", "models/onnx/mlp-digits.onnx", "--target", "uno", "--budget-ram", "2048"], message)
    }

    @Test func truncatedONNXFile() throws {
        let path = (makeTemporaryDirectory("onnx") as NSString).appendingPathComponent("cut.onnx")
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.path("models/onnx/lenet-digits.onnx")))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        try expectError(["inspect", path, "--data", "data/digits-image"],
                        "\(path): not a valid ONNX model: protobuf decoding failed (the file is truncated)")
        try expectError(["inspect", "/nonexistent/model.onnx", "--data", "data/digits-image"], "ONNX model not found: /nonexistent/model.onnx")
    }

    @Test func missingModel() throws {
        try expectError(["inspect", "/nonexistent/model"], "model not found: /nonexistent/model")
    }

    @Test func truncatedNumpyFile() throws {
        let dir = try defaultModelCopy()
        let path = "\(dir)/weights/rnn.U.npy"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.dropLast(10).write(to: URL(fileURLWithPath: path))
        try expectError(["inspect", dir],
                        "\(path): not a valid .npy file: shape [16, 16] of <f4 needs 1024 data bytes, found 1014 (truncated)")
    }

    @Test func modelFileWithAWrongShape() throws {
        let dir = try defaultModelCopy()
        try NumpyArray(shape: [9, 15], dtype: .float32, values: Array(repeating: 0, count: 135)).write(to: "\(dir)/weights/fc.W.npy")
        try expectError(["--model", dir], "node 'fc': tensor 'fc.W' has shape [9,15], expected [N,16] to match input 'h' [16]")
    }

    @Test func unknownOp() throws {
        let dir = try defaultModelCopy()
        let json = try String(contentsOfFile: "\(dir)/model.json", encoding: .utf8)
            .replacingOccurrences(of: "\"op\": \"Gemm\"", with: "\"op\": \"Dense\"")
        try json.write(toFile: "\(dir)/model.json", atomically: true, encoding: .utf8)
        try expectError(["inspect", dir], "node 'fc': unknown op 'Dense'; known ops: " + Op.fileOpNames.joined(separator: ", "))
    }

    @Test func missingWeightFile() throws {
        let dir = try defaultModelCopy()
        try FileManager.default.removeItem(atPath: "\(dir)/weights/rnn.zeta.npy")
        try expectError(["--model", dir], ".npy file not found: \(dir)/weights/rnn.zeta.npy")
    }

    @Test func datasetThatDoesNotFitTheModel() throws {
        try expectError(["inspect", "fastgrnn-japanesevowels", "--data", Repository.path("data/digits")],
                        "\(Repository.path("data/digits"))/dataset.json: samples are [64], but model 'fastgrnn-japanesevowels' takes [12] sequences")
    }

    @Test func unknownOptionIsArgumentParsersError() throws {
        let result = try TuneExecutable.run(["--budget-rom", "5"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: Unknown option '--budget-rom'"))
    }

    @Test func helpForACommandThatDoesNotExistIsAnError() throws {
        let result = try TuneExecutable.run(["help", "nosuch"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: no command 'nosuch'; commands: run, check, measure"))
    }

    @Test func benchRefusesAZeroBudget() throws {
        let result = try TuneExecutable.run(["bench", "--budget-ram", "0"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: --budget-ram must be a positive number of bytes, got 0"))
    }

    @Test func outNamingAFileIsRefusedBeforeTheSearch() throws {
        let file = makeTemporaryDirectory("outfile") + "/a-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let result = try TuneExecutable.run(["--model", "mlp-digits", "--no-verify", "--out", file])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: --out \(file) is a file; give a directory (it is created, or replaced when the run completes)\n")
        #expect(!result.stdout.contains("search   "))
    }
}
