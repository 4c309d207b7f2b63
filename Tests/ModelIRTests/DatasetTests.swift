import Foundation
import Testing
import TestSupport
@testable import ModelIR

@Suite struct DatasetTests {
    func writeDataset(sequence: Bool, labels: [Double], lengths: [Double]? = nil, classes: Int = 3, padding: String? = nil) throws -> String {
        let dir = makeTemporaryDirectory("dataset")
        var description: [String: Any] = ["format": "mcutune-dataset", "version": 1, "name": "t", "sample_shape": [2],
                                          "sequence": sequence, "classes": classes]
        if let padding { description["padding"] = padding }
        try JSONSerialization.data(withJSONObject: description).write(to: URL(fileURLWithPath: "\(dir)/dataset.json"))
        let n = labels.count
        let x = sequence ? NumpyArray(shape: [n, 3, 2], dtype: .float32, values: (0..<(n * 6)).map(Double.init))
            : NumpyArray(shape: [n, 2], dtype: .float32, values: (0..<(n * 2)).map(Double.init))
        try x.write(to: "\(dir)/test_x.npy")
        try NumpyArray(shape: [n], dtype: .int64, values: labels).write(to: "\(dir)/test_y.npy")
        if let lengths { try NumpyArray(shape: [lengths.count], dtype: .int64, values: lengths).write(to: "\(dir)/test_lengths.npy") }
        return dir
    }

    @Test func loadsSequencesWithLengths() throws {
        let dir = try writeDataset(sequence: true, labels: [0, 2], lengths: [3, 1])
        let split = try Dataset.open(dir).load(split: "test")
        #expect(split.count == 2 && split.maxSteps == 3 && split.lengths == [3, 1])
        #expect(split.inputs.count == 12)
    }

    @Test func sequencesPaddedAtTheStartRunFromTheirFirstRealStep() throws {
        // Samples of 3 steps of 2 values: 0...5 and 6...11; the second has 1 real step, its last (10, 11).
        let dir = try writeDataset(sequence: true, labels: [0, 2], lengths: [3, 1], padding: "start")
        let split = try Dataset.open(dir).load(split: "test")
        #expect(split.lengths == [3, 1] && split.maxSteps == 3)
        #expect(split.inputs == [0, 1, 2, 3, 4, 5, 10, 11, 0, 0, 0, 0])
        // Padded at the end (the default): as stored.
        let end = try Dataset.open(try writeDataset(sequence: true, labels: [0, 2], lengths: [3, 1], padding: "end")).load(split: "test")
        #expect(end.inputs == (0..<12).map(Double.init))
        let bad = try writeDataset(sequence: true, labels: [0], lengths: [3], padding: "left")
        #expect(throws: ModelError.datasetMismatch(path: "\(bad)/dataset.json", reason: "padding 'left' is not a side; allowed: end, start")) {
            try Dataset.open(bad)
        }
    }

    @Test func sequencesWithoutALengthsFileRunAllTheirSteps() throws {
        let dir = try writeDataset(sequence: true, labels: [0, 2, 1])
        let split = try Dataset.open(dir).load(split: "test")
        #expect(split.maxSteps == 3 && split.lengths == [3, 3, 3])
    }

    @Test func labelOutOfRangeIsNamed() throws {
        let dir = try writeDataset(sequence: false, labels: [0, 3])
        #expect(throws: ModelError.datasetMismatch(path: "\(dir)/test_y.npy", reason: "label 3.0 at index 1 is not a class in 0..<3")) {
            try Dataset.open(dir).load(split: "test")
        }
    }

    @Test func lengthsOutOfRangeAreNamed() throws {
        let dir = try writeDataset(sequence: true, labels: [0, 1], lengths: [4, 1])
        #expect(throws: ModelError.datasetMismatch(path: "\(dir)/test_lengths.npy", reason: "length 4.0 at index 0 is not a whole number of steps in 1...3")) {
            try Dataset.open(dir).load(split: "test")
        }
    }

    @Test func missingSplitListsTheAvailableOnes() throws {
        let dir = try writeDataset(sequence: false, labels: [0, 1])
        #expect(throws: ModelError.fileNotFound(path: "\(dir)/val_x.npy", what: "split 'val' (available: test)")) {
            try Dataset.open(dir).load(split: "val")
        }
    }

    @Test func datasetMustFitTheModel() throws {
        let dir = try writeDataset(sequence: false, labels: [0, 1])
        let model = try ModelLoader.load(try ModelFixture.dense(inputs: 4, outputs: 3).write())
        #expect(throws: ModelError.datasetMismatch(path: "\(dir)/dataset.json", reason: "samples are [2], but model 'dense' takes [4]")) {
            try Dataset.open(dir).check(against: model.graph)
        }
    }

    @Test(arguments: Repository.models)
    func everyBundledModelHasItsSplits(name: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        try dataset.check(against: model.graph)
        #expect(dataset.availableSplits.contains("val") && dataset.availableSplits.contains("test"))
    }
}
