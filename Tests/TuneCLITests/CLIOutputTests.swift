import Foundation
import Testing
import TestSupport
import ModelIR

/// What the commands print on the bundled models.
@Suite struct CLIOutputTests {
    @Test func targetsListsTheBoards() throws {
        let result = try TuneExecutable.run(["targets"])
        #expect(result.status == 0)
        let uno = result.stdout.split(separator: "\n").first { $0.hasPrefix("uno ") }.map(String.init) ?? ""
        #expect(uno.contains("ATmega328P") && uno.contains("16 MHz") && uno.contains("2.0 KB") && uno.contains("32.0 KB"))
    }

    @Test(arguments: Repository.models)
    func inspectPrintsTheRecordedTestAccuracy(name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let recorded = try #require(model.file?.training?.float_test_accuracy)
        let result = try TuneExecutable.run(["inspect", name])
        #expect(result.status == 0, "\(result.stderr)")
        let test = result.stdout.split(separator: "\n").first { $0.hasPrefix("test ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        // split, samples, float accuracy, recorded accuracy, max difference
        let percent = String(format: "%.2f%%", recorded * 100)
        #expect(test.count == 5 && test[2] == percent && test[3] == percent, "\(result.stdout)")
        #expect(result.stdout.contains("parameters  "))
        #expect(result.stdout.contains("MACs        "))
    }

    /// `tune inspect FILE.onnx` prints how the file was imported, then the usual tables.
    @Test func inspectAnONNXFilePrintsTheImportReportFirst() throws {
        let result = try TuneExecutable.run(["inspect", "models/onnx/lenet-digits.onnx", "--data", "data/digits-image"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("models/onnx/lenet-digits.onnx: ONNX IR version ") == true, "\(result.stdout)")
        #expect(lines.contains("  Conv '/conv1/Conv' -> Conv2D 'conv1_Conv'"))
        #expect(lines.contains { $0.hasPrefix("  removed: Transpose '/Transpose'") })
        #expect(lines.contains { $0.hasPrefix("  renamed: '/conv1/Conv' -> 'conv1_Conv'") })
        #expect(lines.contains("model    models/onnx/lenet-digits.onnx"))
        let native = try ModelLoader.load(Repository.path("models/lenet-digits"))
        let percent = String(format: "%.2f%%", try #require(native.file?.training?.float_test_accuracy) * 100)
        let test = lines.first { $0.hasPrefix("test ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        #expect(test.count == 5 && test[2] == percent && test[3] == "-", "\(result.stdout)")
    }

    /// A FastGRNN that PyTorch unrolled over 100 steps is inspected as one loop, and says so.
    @Test func inspectAnUnrolledLoopSaysWhatBecameTheCell() throws {
        let result = try TuneExecutable.run(["inspect", "models/onnx/fastgrnn-basicmotions.onnx", "--data", "data/basicmotions"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  recurrent cell: a loop unrolled 100 times by the exporter; each step's 16 ONNX nodes became loop "
            + "'cell' of 14 nodes, run once per step (state 'cell.h' [16], from zero)"), "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("cell ") && $0.contains(" Loop ") && $0.hasSuffix("per step") }, "\(result.stdout)")
        #expect(lines.count < 120, "the 100 copies are not listed one by one")
    }

    @Test func defaultRunSummarisesTheSearch() throws {
        let out = makeTemporaryDirectory("run")
        let result = try TuneExecutable.run(["--budget-ram", "2048", "--target", "uno", "--out", out, "--max-evaluations", "40"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("model    fastgrnn-japanesevowels"))
        #expect(result.stdout.contains("budgets  RAM 2,048 B, flash 32,768 B; strategy genetic, seed 0"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        #expect(summary?["model"] as? String == "fastgrnn-japanesevowels")
    }

    @Test func measureRunsTheFirmwareOnSimavr() throws {
        let out = makeTemporaryDirectory("measure")
        let result = try TuneExecutable.run(["measure", "--model", "mlp-digits", "--config", "all8", "--samples", "3", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("outputs  bit-exact on uno: 33/33 values of 3 test samples"), "\(result.stdout)")
        #expect(result.stdout.contains("analysed worst case") && result.stdout.contains("total: measured"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/firmware.elf"))
    }

    @Test func measurePerNodeSaysHowEachNodeIsPriced() throws {
        let result = try TuneExecutable.run(["measure", "--model", "mlp-digits", "--config", "all8", "--samples", "2", "--per-node", "--no-profile"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("piece") && $0.contains("priced by") && $0.hasSuffix("code B  code model") }, "\(result.stdout)")
        for layer in ["fc1", "fc2", "fc3"] {
            let row = lines.first { $0.hasPrefix("\(layer) ") } ?? ""
            // How it was priced, then its function's bytes in the firmware and as the model prices them.
            let fields = row.split(separator: " ").map(String.init)
            #expect(row.contains(" dense.") && fields.dropLast(2).last == "coefficients", "\(layer): \(row)")
            let bytes = fields.suffix(2).compactMap { Int($0.replacingOccurrences(of: ",", with: "")) }
            #expect(bytes.count == 2 && bytes.allSatisfy { $0 > 16 }, "\(layer): \(row)")
        }
    }

    @Test func theCloudTableTimesAnONNXRunsFloatModelWithItsData() throws {
        let out = makeTemporaryDirectory("onnx-cloud")
        let run = try TuneExecutable.run(["--model", Repository.path("models/onnx/mlp-digits.onnx"), "--data", Repository.path("data/digits"),
                                          "--no-verify", "--no-profile", "--strategy", "greedy", "--max-evaluations", "20", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try TuneExecutable.run(["report", out, "--cloud-rtt", "50"])
        #expect(report.status == 0 && !report.stderr.contains("warning"), "\(report.stderr)")
        #expect(report.stdout.contains("| mlp-digits | uno | "), "\(report.stdout)")
    }

    @Test func theRunBuildsThePickForTheUno() throws {
        let out = makeTemporaryDirectory("run-avr")
        let result = try TuneExecutable.run(["--model", "mlp-digits", "--out", out, "--max-evaluations", "30", "--reserve-ram", "180"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("budgets  RAM 1,868 B for the model (180 B reserved)"))
        #expect(result.stdout.contains("         measured   "), "\(result.stdout)")
        #expect(result.stdout.contains("\(out)/firmware/firmware.elf: bit-exact 88/88 values on 8 test samples"), "\(result.stdout)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        let built = try #require(summary?["measured_ram_bytes"] as? Int)
        #expect(built > 0 && built <= 1868)
        // No more RAM than the same program with plain C kernels, built beside it (`PickVerification`).
        let plain = try #require(summary?["measured_plain_c_ram_bytes"] as? Int)
        #expect(built <= plain, "pick \(built) B, plain C \(plain) B")
        #expect(result.stdout.contains("; with plain C kernels \(plain) B)"), "\(result.stdout)")
        #expect(summary?["bit_exact"] as? String == "88/88")
        // The firmware's path, relative to the run (once named the staging directory, gone when complete).
        let elf = try #require(summary?["firmware_elf"] as? String)
        #expect(elf == "firmware/firmware.elf")
        #expect(FileManager.default.fileExists(atPath: "\(out)/\(elf)"))
    }

    /// `--deploy sketch`: the Arduino core's RAM is measured and taken from the budget, and the pick's
    /// sketch is built by arduino-builder and run on simavr, printing the emulator's classes.
    @Test func theSketchIsBuiltAndRunWhenItIsDeployed() throws {
        let out = makeTemporaryDirectory("run-sketch")
        let result = try TuneExecutable.run(["--model", "mlp-digits", "--out", out, "--max-evaluations", "30", "--deploy", "sketch"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("platform Arduino core: "), "\(result.stdout)")
        #expect(result.stdout.contains("         sketch     \(out)/sketch-build/mcutune_model.ino.elf: "), "\(result.stdout)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        let counted = try #require(summary?["sketch_ram_bytes"] as? Int)
        #expect(counted == summary?["sketch_measured_ram_bytes"] as? Int)
        #expect(counted <= 2048)
        #expect(summary?["sketch_classes_equal"] as? String == "8/8")
        #expect(FileManager.default.fileExists(atPath: "\(out)/sketch/mcutune_model/mcutune_model.ino"))
    }
}
