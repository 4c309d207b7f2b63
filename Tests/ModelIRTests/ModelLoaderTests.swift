import Foundation
import Testing
import TestSupport
@testable import ModelIR

/// Loading model directories: the happy path, and one named error for each way a file can be wrong.
@Suite struct ModelLoaderTests {
    @Test func loadsAWrittenModel() throws {
        let dir = try ModelFixture.dense(inputs: 4, outputs: 3).write()
        let model = try ModelLoader.load(dir)
        #expect(model.graph.outputShape == Shape([3]))
        #expect(model.graph.constants["fc.W"]?.values[1] == 1.0 / 8 - 0.25)
        // The model.json path works as well as its directory.
        #expect(try ModelLoader.load("\(dir)/model.json").graph.nodes.count == 1)
    }

    @Test(arguments: Repository.models)
    func loadsEveryBundledModel(name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        #expect(model.graph.parameterCount > 0)
        #expect(model.file?.training?.float_test_accuracy != nil)
        #expect(model.datasetPath.map { FileManager.default.fileExists(atPath: "\($0)/dataset.json") } == true)
    }

    @Test func unknownOpIsNamed() throws {
        var fixture = ModelFixture.dense()
        fixture.json["nodes"] = [["name": "fc", "op": "Softmax2", "inputs": ["x"], "outputs": ["y"]]]
        let dir = try fixture.write()
        #expect(throws: ModelError.unknownOp(node: "fc", op: "Softmax2", allowed: Op.fileOpNames)) { try ModelLoader.load(dir) }
    }

    @Test func missingWeightFileIsNamed() throws {
        let dir = try ModelFixture.dense().write()
        try FileManager.default.removeItem(atPath: "\(dir)/weights/fc.b.npy")
        #expect(throws: ModelError.fileNotFound(path: "\(dir)/weights/fc.b.npy", what: ".npy file")) { try ModelLoader.load(dir) }
    }

    @Test func truncatedWeightFileIsNamed() throws {
        let dir = try ModelFixture.dense(inputs: 4, outputs: 3).write()
        let path = "\(dir)/weights/fc.W.npy"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.dropLast(5).write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelError.malformedNumpy(path: path, reason: "shape [3, 4] of <f4 needs 48 data bytes, found 43 (truncated)")) {
            try ModelLoader.load(dir)
        }
    }

    @Test func weightOfWrongShapeIsNamed() throws {
        var fixture = ModelFixture.dense(inputs: 4, outputs: 3)
        fixture.weights["fc.W"] = NumpyArray(shape: [3, 5], dtype: .float32, values: Array(repeating: 0, count: 15))
        let dir = try fixture.write()
        #expect(throws: ModelError.wrongShape(tensor: "fc.W", node: "fc", found: Shape([3, 5]), expected: "[N,4] to match input 'x' [4]")) {
            try ModelLoader.load(dir)
        }
    }

    @Test func integerWeightsAreRefused() throws {
        var fixture = ModelFixture.dense(inputs: 4, outputs: 3)
        fixture.weights["fc.b"] = NumpyArray(shape: [3], dtype: .int32, values: [1, 2, 3])
        let dir = try fixture.write()
        #expect(throws: ModelError.unsupportedFormat(path: "\(dir)/weights/fc.b.npy", found: "dtype <i4 for a weight", expected: "<f4 or <f8")) {
            try ModelLoader.load(dir)
        }
    }

    @Test func missingKeyIsNamedWithItsPath() throws {
        var fixture = ModelFixture.dense()
        fixture.json["nodes"] = [["name": "fc", "op": "Gemm", "inputs": ["x"], "weights": ["W": "fc.W"]]]
        let dir = try fixture.write()
        #expect(throws: ModelError.malformedJSON(path: "\(dir)/model.json", reason: "missing key 'outputs' in nodes[0]")) {
            try ModelLoader.load(dir)
        }
    }

    @Test func invalidJSONIsNamed() throws {
        let dir = try ModelFixture.dense().write()
        try Data("{\"format\": ".utf8).write(to: URL(fileURLWithPath: "\(dir)/model.json"))
        #expect(throws: ModelError.self) { try ModelLoader.load(dir) }
        do { _ = try ModelLoader.load(dir) } catch {
            #expect(error.description.hasPrefix("\(dir)/model.json: not valid JSON"))
        }
    }

    @Test func wrongFormatAndVersionAreNamed() throws {
        var fixture = ModelFixture.dense()
        fixture.json["version"] = 7
        let dir = try fixture.write()
        #expect(throws: ModelError.unsupportedFormat(path: "\(dir)/model.json", found: "version 7", expected: "1")) {
            try ModelLoader.load(dir)
        }
    }

    @Test func invalidNamesAreRefused() throws {
        var fixture = ModelFixture.dense()
        fixture.json["nodes"] = [["name": "fc", "op": "Gemm", "inputs": ["x"], "outputs": ["y-1"], "weights": ["W": "fc.W"]]]
        let dir = try fixture.write()
        #expect(throws: ModelError.invalidName("y-1", context: "node 'fc'")) { try ModelLoader.load(dir) }
    }

    @Test func missingModelIsNamed() {
        #expect(throws: ModelError.fileNotFound(path: "/nonexistent/model", what: "model")) { try ModelLoader.load("/nonexistent/model") }
    }

    @Test func convolutionAttributesAreChecked() throws {
        var fixture = ModelFixture.dense()
        fixture.json["input"] = ["name": "x", "shape": [6, 6, 1]]
        fixture.json["constants"] = ["c.W": "weights/c.W.npy"]
        fixture.weights = ["c.W": NumpyArray(shape: [2, 3, 3, 1], dtype: .float32, values: Array(repeating: 0.5, count: 18))]
        fixture.json["nodes"] = [["name": "c", "op": "Conv2D", "inputs": ["x"], "outputs": ["y"], "weights": ["W": "c.W"],
                                  "attributes": ["strides": [2, 2], "pads": [1, 1]]]]
        let dir = try fixture.write()
        #expect(throws: ModelError.invalidAttribute(node: "c", attribute: "pads", reason: "must be a list of 4 integers")) {
            try ModelLoader.load(dir)
        }
        fixture.json["nodes"] = [["name": "c", "op": "Conv2D", "inputs": ["x"], "outputs": ["y"], "weights": ["W": "c.W"],
                                  "attributes": ["strides": [2, 2], "pads": [1, 1, 1, 1]]]]
        let good = try fixture.write()
        #expect(try ModelLoader.load(good).graph.outputShape == Shape([3, 3, 2]))
    }
}
