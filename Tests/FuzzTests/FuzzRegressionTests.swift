import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Testing
import TestSupport
import Tuner

/// Inputs the fuzzer found that trapped, hung or gave a bad message, each now refused with one
/// clear line (or handled), in the module that was wrong.
@Suite struct FuzzRegressionTests {
    /// A copy of a bundled model pointing at its bundled dataset, to spoil.
    struct Spoiled {
        let model: String

        init(_ name: String) throws {
            model = try copyDirectory(Repository.path("models/\(name)"), label: "regression")
            let dataset = try #require(try ModelLoader.load(Repository.path("models/\(name)")).datasetPath)
            try edit { $0["dataset"] = dataset }
        }

        func edit(_ change: (inout [String: Any]) -> Void) throws { try editJSONObject("\(model)/model.json", change) }

        func editNode(_ index: Int, _ change: (inout [String: Any]) -> Void) throws {
            try edit { json in
                var nodes = json["nodes"] as? [[String: Any]] ?? []
                change(&nodes[index])
                json["nodes"] = nodes
            }
        }
    }

    private func loadError(_ directory: String) -> String? {
        do { _ = try ModelLoader.load(directory); return nil } catch { return error.description }
    }

    // MARK: ModelIR

    /// Was a trap: `NumpyHeader` checked the wrapped product, so 2^32 x 2^32 (= 0 mod 2^64) passed.
    @Test func aNpyShapeWhoseElementCountOverflowsIsRefused() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        let data = NumpyMutator.assemble(header: header, payload: Data(count: 16))
        #expect(throws: ModelError.malformedNumpy(path: "w.npy", reason: "'shape' [4294967296, 4294967296] is too large (at most 2^40 elements)")) {
            try NumpyArray.parse(data, path: "w.npy")
        }
    }

    /// Was a trap: the Reshape target's element count overflowed in the shape checker.
    @Test func aReshapeWhoseSizeOverflowsIsRefused() throws {
        var fixture = ModelFixture.dense(inputs: 4, outputs: 3)
        var nodes = fixture.json["nodes"] as? [[String: Any]] ?? []
        nodes.insert(["name": "r", "op": "Reshape", "inputs": ["x"], "outputs": ["xr"],
                      "attributes": ["shape": [999_999, 999_999, 999_999, 999_999]]], at: 0)
        nodes[1]["inputs"] = ["xr"]
        fixture.json["nodes"] = nodes
        let dir = try fixture.write()
        #expect(loadError(dir) == "node 'r': attribute 'shape' is [999999,999999,999999,999999], which does not hold the 4 elements of [4]")
    }

    /// A shape from model.json may ask for any size: past 2^20 elements a tensor is refused before anything is allocated.
    @Test func aTensorOfMoreThanTheElementLimitIsRefusedNamingTheFile() throws {
        var fixture = ModelFixture.dense(inputs: 4, outputs: 3)
        fixture.json["input"] = ["name": "x", "shape": [2048, 1024]]
        let dir = try fixture.write()
        #expect(loadError(dir) == "\(dir)/model.json: tensor 'x' would have shape [2048,1024], more than 1048576 (2^20) elements per sample, "
            + "the most one tensor may have")
    }

    /// Was a trap in the C emitter (two functions for one node name) once lowering ran.
    @Test func aNodeNamedLikeALoweredIntermediateIsRefusedAtLoad() throws {
        let spoiled = try Spoiled("fastgrnn-japanesevowels")
        try spoiled.editNode(1) { $0["name"] = "rnn.uh" }
        #expect(loadError(spoiled.model) == "node 'rnn' (FastGRNN): lowering it creates 'rnn.uh', which the model already names a node; "
            + "rename that node (names 'rnn.<part>' other than its weights are the cell's intermediates)")
    }

    /// Was silent: lowering merged its derived constant over the model's own constant of that name.
    @Test func aConstantNamedLikeADerivedOneIsRefused() throws {
        let spoiled = try Spoiled("gru-italypowerdemand")
        try spoiled.edit { json in
            var constants = json["constants"] as? [String: String] ?? [:]
            constants["rnn.r_x.b"] = constants.removeValue(forKey: "fc.b")
            json["constants"] = constants
            var nodes = json["nodes"] as? [[String: Any]] ?? []
            nodes[1]["weights"] = ["W": "fc.W", "b": "rnn.r_x.b"]
            json["nodes"] = nodes
        }
        #expect(loadError(spoiled.model)?.hasPrefix("node 'rnn' (GRU): lowering it creates 'rnn.r_x.b', which the model already names a constant") == true)
    }

    /// Was "2 inputs, expected exactly 1 output".
    @Test func aNodeWithTwoOutputsSaysOutputs() throws {
        let spoiled = try Spoiled("mlp-digits")
        try spoiled.editNode(0) { $0["outputs"] = ["a", "b"] }
        #expect(loadError(spoiled.model) == "node 'fc1' (Gemm): 2 outputs ('a', 'b'); every node writes exactly 1")
    }

    /// Was two lines of `Error:`: a name from a file may hold a newline.
    @Test func aNameWithANewlineStaysOnOneLine() throws {
        let spoiled = try Spoiled("mlp-digits")
        try spoiled.edit { $0["name"] = "a\nb" }
        #expect(loadError(spoiled.model) == "\(spoiled.model)/model.json: name 'a\\nb' is not a model name (allowed: 1 to 64 of A-Z a-z 0-9 - _ . and space)")
    }

    /// The tuner's errors carry names from files too (a tensor in a RAM hint, a model's name).
    @Test func aTunerErrorWithANewlineInANameStaysOnOneLine() {
        let error = TunerError.nothingFits(smallestRAM: 900, budgetRAM: 512, smallestFlash: 10, budgetFlash: 100, largestTensors: ["x\ny (800 B)"])
        #expect(!error.description.contains("\n"))
        #expect(error.description.hasSuffix("largest tensors in RAM: x\\ny (800 B)"))
    }

    /// Was Foundation's "The operation could not be completed. (NSCocoaErrorDomain error 256.)".
    @Test func aConstantPathThatIsADirectoryIsNamed() throws {
        let spoiled = try Spoiled("mlp-digits")
        try spoiled.edit { json in
            var constants = json["constants"] as? [String: String] ?? [:]
            constants["fc1.b"] = "weights"
            json["constants"] = constants
        }
        #expect(loadError(spoiled.model) == "cannot read \(spoiled.model)/weights: a directory, not a .npy file")
    }

    /// Was "nodes[0].attributes.pads: expected a string" (the decoder's last attempt).
    @Test func anAttributeOfNoAllowedKindSaysWhatIsAllowed() throws {
        let spoiled = try Spoiled("lenet-digits")
        try spoiled.editNode(0) { $0["attributes"] = ["pads": ["a", 1]] }
        #expect(loadError(spoiled.model) == "\(spoiled.model)/model.json: nodes[0].attributes.pads: expected a number, a list of numbers or a string")
    }

    /// Was silent: a length of 1.5 ran 1 step; and the message named no index.
    @Test func aFractionalSequenceLengthIsRefusedWithItsIndex() throws {
        let data = try copyDirectory(Repository.path("data/italypowerdemand"), label: "lengths")
        let lengths = try NumpyArray.read(contentsOf: "\(data)/val_lengths.npy")
        var values = lengths.values
        values[3] = 1.5
        try NumpyArray(shape: lengths.shape, dtype: .float64, values: values).write(to: "\(data)/val_lengths.npy")
        #expect(throws: ModelError.datasetMismatch(path: "\(data)/val_lengths.npy", reason: "length 1.5 at index 3 is not a whole number of steps in 1...24")) {
            try Dataset.open(data).load(split: "val")
        }
    }

    /// Was a dump naming `Dictionary<String, Any>`.
    @Test func aWrongJSONTypeInAModelSaysWhatWasExpectedInWords() throws {
        let spoiled = try Spoiled("mlp-digits")
        try spoiled.edit { $0["input"] = [1, 2] }
        #expect(loadError(spoiled.model) == "\(spoiled.model)/model.json: input: expected an object, found an array")
    }

    /// Was "not valid JSON", then "a number does not fit its key" without the key: Foundation's
    /// decoder reports a fraction under an integer key at the top level.
    @Test func aFractionWhereAnIntegerBelongsIsNamedByKeyAndValue() throws {
        let spoiled = try Spoiled("mlp-digits")
        try spoiled.edit { $0["version"] = 1.5 }
        #expect(loadError(spoiled.model) == "\(spoiled.model)/model.json: version: expected an integer, found 1.5")
        let path = makeTemporaryDirectory("config") + "/config.json"
        try Data(#"{"formats": {"x": {"bits": 8, "frac": 3}, "y": {"bits": 16.5, "frac": 3}}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: FixedPointError.malformedConfig(path: path, reason: "formats.y.bits: expected an integer, found 16.5 "
            + #"(expected {"formats": {TENSOR: {"bits": 8 or 16, "frac": N}}})"#)) {
            try QuantConfig.load(path)
        }
    }

    // MARK: FixedPoint

    /// Was a hang: for a subnormal magnitude, limit / maxAbs is inf and the search counted down from Int.max.
    /// (No time limit: on a loaded machine the test can wait minutes for a thread; a hang still
    /// stops the suite, and the fuzz suite's watchdog names the case.)
    @Test func aSubnormalScaleFitsAFormatAtOnce() {
        for value in [Double.leastNonzeroMagnitude, Double.leastNormalMagnitude / 1_000, Double.leastNormalMagnitude] {
            let format = TensorFormat.fitting(maxAbs: value, bits: 16)
            #expect(format.fracBits > 1000 && format.fracBits <= 1023, "\(value): \(format)")
        }
    }

    /// The fitting search gives what it gave before for ordinary magnitudes: the most fractional bits that hold the value.
    @Test func fittingGivesTheMostFractionalBitsThatHold() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let value = Double.random(in: -40...40, using: &rng)
            let maxAbs = Foundation.pow(2, value) * Double.random(in: 1..<2, using: &rng)
            for bits in [8, 16] {
                let frac = TensorFormat.fitting(maxAbs: maxAbs, bits: bits).fracBits
                let limit = Double((1 << (bits - 1)) - 1)
                #expect(maxAbs * Foundation.pow(2, Double(frac)) <= limit && maxAbs * Foundation.pow(2, Double(frac + 1)) > limit)
            }
        }
    }

    /// Was a trap: the new fractional-bits message computed bits - 1 - fracBits for a config's Int.min.
    @Test func aConfigFracOfIntMinIsRefused() throws {
        let graph = try ModelLoader.load(try ModelFixture.dense().write()).graph
        var formats: [String: TensorFormat] = [:]
        for tensor in FixedPointGraph.tensors(of: graph) { formats[tensor] = TensorFormat(bits: 8, fracBits: 4) }
        formats["fc.W"] = TensorFormat(bits: 8, fracBits: Int.min)
        #expect(throws: FixedPointError.invalidFormat(tensor: "fc.W", format: TensorFormat(bits: 8, fracBits: Int.min),
                                                       reason: "has \(Int.min) fractional bits; allowed: -24...28")) {
            try FixedProgram(graph: graph, config: QuantConfig(formats: formats))
        }
    }

    /// Was the raw dump `DecodingError.typeMismatch(Swift.Int, ...)`.
    @Test func aConfigFileOfTheWrongTypeSaysWhereInWords() throws {
        let path = makeTemporaryDirectory("config") + "/config.json"
        try Data(#"{"formats": {"x": {"bits": "8", "frac": 3}}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: FixedPointError.malformedConfig(path: path, reason: "formats.x.bits: expected an integer, found a string "
            + #"(expected {"formats": {TENSOR: {"bits": 8 or 16, "frac": N}}})"#)) {
            try QuantConfig.load(path)
        }
        try Data("{\"formats\": ".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: FixedPointError.self) { try QuantConfig.load(path) }
        do { _ = try QuantConfig.load(path) } catch { #expect(error.description.hasPrefix("\(path): not a fixed-point config: not valid JSON")) }
    }

    // MARK: Hardware

    /// A board file with one change, loaded as the catalog would.
    private func targetError(_ change: (inout [String: Any]) -> Void) throws -> String? {
        let dir = makeTemporaryDirectory("targets")
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.path("configs/targets/uno.json")))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: "\(dir)/uno.json"))
        do { _ = try TargetCatalog.load(directory: dir); return nil } catch {
            return error.description.replacingOccurrences(of: "\(dir)/", with: "")
        }
    }

    private func setCost(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { json in
            var cost = json["cost"] as? [String: Any] ?? [:]
            cost[key] = value
            json["cost"] = cost
        }
    }

    /// Was a trap in `CostModel.estimate`: the code size, priced with a huge coefficient, overflowed Int.
    @Test func aHugeCodeByteCoefficientIsRefusedAtLoad() throws {
        let error = try targetError { json in
            var cost = json["cost"] as? [String: Any] ?? [:]
            var code = cost["code_bytes"] as? [String: Any] ?? [:]
            code["code.clamp.base"] = 9.2e18
            cost["code_bytes"] = code
            json["cost"] = cost
        }
        #expect(error == #"uno.json: cost.code_bytes["code.clamp.base"] is 9.2e+18; coefficients are at most 10^9 in magnitude"#)
    }

    /// Would overflow the RAM estimate: a stack or platform reserve beyond the board's RAM.
    @Test func aStackLargerThanTheRAMIsRefused() throws {
        #expect(try targetError(setCost("stack_bytes", Int.max)) ==
            "uno.json: cost.stack_bytes (\(Int.max)) and cost.platform_ram_bytes (0) must be 0 or more and at most ram_bytes (2048)")
        #expect(try targetError { $0["ram_bytes"] = 1 << 50 } == "uno.json: ram_bytes is \(1 << 50); at most 1099511627776 (2^40)")
    }

    /// Was the raw dump `DecodingError.typeMismatch(Swift.String, ...)`; an unknown core now lists the known ones.
    @Test func aTargetOfTheWrongTypeSaysWhereInWords() throws {
        #expect(try targetError { $0["name"] = ["a": 1] } == "uno.json: not a target description: name: expected a string, found a dictionary")
        #expect(try targetError { $0["core"] = "riscv" } == "uno.json: core is not a known core; allowed: avr, cortex-m0plus, cortex-m3, cortex-m4, cortex-m7")
    }

    /// Was a minute per file: each of a board file's two thousand fractional coefficients was put to
    /// the test one by one to find the number that does not fit (the fuzz suite's watchdog caught it).
    @Test func aNumberTooLargeForABoardKeyIsNamed() throws {
        #expect(try targetError { $0["flash_bytes"] = 1e300 } == "uno.json: not a target description: flash_bytes: expected an integer, found 1e+300")
    }

    // MARK: Emit

    /// Was inverted: `isValid` returned whether buffers overlap.
    @Test(arguments: Repository.models)
    func theArenaPlanOfEveryBundledModelIsValid(model name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let val = try Dataset.open(try #require(model.datasetPath)).load(split: "val").prefix(8)
        let profile = try Calibration.profile(model.graph, on: val)
        let config = try Presets.config("all8", graph: try Lowering.lower(model.graph), profile: profile)
        let plan = ArenaPlan(program: try FixedProgram(graph: model.graph, config: config))
        #expect(plan.isValid)
    }
}
