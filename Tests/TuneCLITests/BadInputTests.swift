import Foundation
import ModelIR
import Testing
import TestSupport

/// Inputs that used to crash the tool or pass with a wrong result (issue 12), each now refused with
/// one clear error, or warned about, before any search.
@Suite struct BadInputTests {
    /// A copy of mlp-digits and its data that a test may spoil.
    struct Copy {
        let model: String
        let data: String

        init(_ label: String) throws {
            let dir = makeTemporaryDirectory(label)
            model = "\(dir)/model"
            data = "\(dir)/data"
            try FileManager.default.copyItem(atPath: Repository.path("models/mlp-digits"), toPath: model)
            try FileManager.default.copyItem(atPath: Repository.path("data/digits"), toPath: data)
            try editModel { $0["dataset"] = data }
        }

        func editModel(_ change: (inout [String: Any]) -> Void) throws { try editJSONObject("\(model)/model.json", change) }

        func setWeight(_ file: String, index: Int, to value: Double, count: Int = 1) throws {
            let path = "\(model)/weights/\(file)"
            let array = try NumpyArray.read(contentsOf: path)
            var values = array.values
            for i in index..<(index + count) { values[i] = value }
            try NumpyArray(shape: array.shape, dtype: .float64, values: values).write(to: path)
        }

        func emptySplit(_ split: String) throws {
            let x = try NumpyArray.read(contentsOf: "\(data)/\(split)_x.npy")
            try NumpyArray(shape: [0] + x.shape.dropFirst(), dtype: .float32, values: []).write(to: "\(data)/\(split)_x.npy")
            try NumpyArray(shape: [0], dtype: .int64, values: []).write(to: "\(data)/\(split)_y.npy")
        }

        func tune(_ arguments: [String]) throws -> CommandResult {
            try TuneExecutable.run(["--model", model, "--budget-ram", "2048", "--no-verify", "--max-evaluations", "30", "--strategy", "greedy",
                                    "--out", makeTemporaryDirectory("bad-out")] + arguments)
        }
    }

    @Test func twoNodesWithOneNameAreRefusedAtLoad() throws {
        let copy = try Copy("dup-node")
        try copy.editModel { json in
            var nodes = json["nodes"] as? [[String: Any]] ?? []
            nodes[3]["name"] = "relu1"
            json["nodes"] = nodes
        }
        let result = try TuneExecutable.run(["check", "--model", copy.model, "--config", "all8"])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: \(copy.model)/model.json: two nodes are named 'relu1'; every node needs a name of its own\n")
    }

    @Test func emptyValidationAndTestSplitsAreRefusedBeforeTheSearch() throws {
        for split in ["val", "test"] {
            let copy = try Copy("empty-\(split)")
            try copy.emptySplit(split)
            let result = try copy.tune(["--target", "nano33ble"])
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("Error: \(copy.data)/\(split)_x.npy: split '\(split)' has 0 samples"), "\(result.stderr)")
            #expect(!result.stdout.contains("search   "))
        }
    }

    @Test func aWeightOutlierIsNamedWithWhatSurvives() throws {
        let copy = try Copy("outlier")
        try copy.setWeight("fc1.W.npy", index: 5, to: 1e30)
        let result = try copy.tune([])
        #expect(result.stdout.contains("warning  weight 'fc1.W': its largest magnitude 1e+30"), "\(result.stdout)")
        #expect(result.stdout.contains("round to 0 even at 16 bits"))
    }

    @Test func aFloatModelThatOverflowsIsNoBaseline() throws {
        let copy = try Copy("overflow")
        // A row of huge weights overflows a hidden unit to inf; zero weights on it in the next layer make NaN (0 x inf).
        try copy.setWeight("fc1.W.npy", index: 0, to: 1e308, count: 64)
        let fc2 = try NumpyArray.read(contentsOf: "\(copy.model)/weights/fc2.W.npy")
        for row in 0..<fc2.shape[0] { try copy.setWeight("fc2.W.npy", index: row * fc2.shape[1], to: 0) }
        let result = try copy.tune([])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Error: the float model 'mlp-digits' outputs "), "\(result.stderr)")
        #expect(result.stderr.contains("its outputs must be finite"))
    }

    @Test func whenNoCandidateCanBeBuiltTheErrorSaysWhyNotZeroBytes() throws {
        let copy = try Copy("unbuildable")
        try copy.setWeight("fc1.W.npy", index: 5, to: 1e308)
        let result = try copy.tune([])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Error: none of the 30 candidates could be built as a fixed-point program: tensor "), "\(result.stderr)")
        #expect(result.stdout.contains("warning  weight 'fc1.W'"))
    }

    @Test func anArgMaxModelWithRecordedLogitsIsInspected() throws {
        let copy = try Copy("argmax")
        try copy.editModel { json in
            var nodes = json["nodes"] as? [[String: Any]] ?? []
            nodes.append(["name": "am", "op": "ArgMax", "inputs": [json["output"] as? String ?? ""], "outputs": ["cls"]])
            json["nodes"] = nodes
            json["output"] = "cls"
        }
        let result = try TuneExecutable.run(["inspect", copy.model])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("val        359          98.05%                98.05%                  0.0e+00"), "\(result.stdout)")
    }

    @Test func aModelNameThatCouldBreakTheCIsRefused() throws {
        let copy = try Copy("name")
        try copy.editModel { $0["name"] = "mlp */ int x; /*" }
        let result = try TuneExecutable.run(["inspect", copy.model])
        #expect(result.status == 1)
        #expect(result.stderr.contains("name 'mlp */ int x; /*' is not a model name (allowed: 1 to 64 of A-Z a-z 0-9 - _ . and space)"), "\(result.stderr)")
    }

    @Test func aRecordedAccuracyInPercentIsRefused() throws {
        let copy = try Copy("percent")
        try copy.editModel { json in
            var training = json["training"] as? [String: Any] ?? [:]
            training["float_val_accuracy"] = 97.5
            json["training"] = training
        }
        let result = try TuneExecutable.run(["inspect", copy.model])
        #expect(result.status == 1)
        #expect(result.stderr.contains("training.float_val_accuracy is 97.5; accuracies are fractions in 0...1 (e.g. 0.975 for 97.5%)"), "\(result.stderr)")
    }

    @Test func withoutATestSplitTheSummaryHasNoTestAccuracy() throws {
        let copy = try Copy("no-test")
        for part in ["x", "y"] { try FileManager.default.removeItem(atPath: "\(copy.data)/test_\(part).npy") }
        let out = makeTemporaryDirectory("no-test-out")
        let result = try TuneExecutable.run(["--model", copy.model, "--budget-ram", "2048", "--no-verify", "--max-evaluations", "30",
                                             "--strategy", "greedy", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any])
        #expect(summary["pick_test_accuracy"] is NSNull)
        #expect(summary["float_test_accuracy"] is NSNull)
    }

    @Test func aTargetFileWithANegativeCostIsRefused() throws {
        let home = makeTemporaryDirectory("targets")
        for dir in ["configs", "models"] {
            try FileManager.default.createSymbolicLink(atPath: "\(home)/\(dir)", withDestinationPath: Repository.path(dir))
        }
        try FileManager.default.removeItem(atPath: "\(home)/configs")
        try FileManager.default.createDirectory(atPath: "\(home)/configs/targets", withIntermediateDirectories: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.path("configs/targets/uno.json")))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var cost = json["cost"] as? [String: Any] ?? [:]
        var cycles = cost["cycles"] as? [String: Double] ?? [:]
        cycles["relu.w8.element"] = -4
        cost["cycles"] = cycles
        json["cost"] = cost
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: "\(home)/configs/targets/uno.json"))
        let result = try TuneExecutable.run(["targets"], environment: ["MCUTUNE_HOME": home])
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"cost.cycles["relu.w8.element"] is -4.0; cycle coefficients are finite numbers 0 or more"#), "\(result.stderr)")
    }

    // Found by the fuzz suite (Tests/FuzzTests): each was a trap or a raw dump before.

    @Test func aConfigFileOfTheWrongTypeIsOneLineInWords() throws {
        let copy = try Copy("config-type")
        let config = "\(copy.model)/bad-config.json"
        try Data(#"{"formats": {"x": {"bits": "8", "frac": 3}}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let result = try TuneExecutable.run(["check", "--model", copy.model, "--config", config, "--split", "val"])
        #expect(result.status == 1)
        #expect(result.stderr == #"Error: \#(config): not a fixed-point config: formats.x.bits: expected an integer, found a string (expected {"formats": {TENSOR: {"bits": 8 or 16, "frac": N}}})"# + "\n")
    }

    @Test func aNodeNamedLikeALoweredIntermediateIsRefusedByInspect() throws {
        let model = try copyDirectory(Repository.path("models/fastgrnn-japanesevowels"), label: "lowered-name")
        let path = "\(model)/model.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var nodes = json["nodes"] as? [[String: Any]] ?? []
        nodes[1]["name"] = "rnn.h_next"
        json["nodes"] = nodes
        json["dataset"] = Repository.path("data/japanesevowels")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let result = try TuneExecutable.run(["inspect", model])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: node 'rnn' (FastGRNN): lowering it creates 'rnn.h_next', which the model already names a node; "
            + "rename that node (names 'rnn.<part>' other than its weights are the cell's intermediates)\n")
    }

    @Test func aTargetFileWithAHugeCoefficientIsRefused() throws {
        let home = makeTemporaryDirectory("targets-huge")
        try FileManager.default.createSymbolicLink(atPath: "\(home)/models", withDestinationPath: Repository.path("models"))
        try FileManager.default.createDirectory(atPath: "\(home)/configs/targets", withIntermediateDirectories: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.path("configs/targets/uno.json")))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var cost = json["cost"] as? [String: Any] ?? [:]
        var code = cost["code_bytes"] as? [String: Double] ?? [:]
        code["code.clamp.base"] = 1e300
        cost["code_bytes"] = code
        json["cost"] = cost
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: "\(home)/configs/targets/uno.json"))
        let result = try TuneExecutable.run(["targets"], environment: ["MCUTUNE_HOME": home])
        #expect(result.status == 1)
        #expect(result.stderr == #"Error: \#(home)/configs/targets/uno.json: cost.code_bytes["code.clamp.base"] is 1e+300; coefficients are at most 10^9 in magnitude"# + "\n")
    }
}
