import Foundation
import ModelIR

/// The checkout this test was built from.
public enum Repository {
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public static func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// Names of the bundled reference models.
    public static var models: [String] {
        let dir = path("models")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/model.json") }.sorted()
    }
}

/// A fresh directory under the system's temporary directory.
public func makeTemporaryDirectory(_ label: String = "mcutune") -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes a model directory from a `model.json` object and its weights.
public struct ModelFixture {
    public var json: [String: Any]
    public var weights: [String: NumpyArray]

    public init(json: [String: Any], weights: [String: NumpyArray]) {
        self.json = json
        self.weights = weights
    }

    /// A one-layer dense model `[inputs] -> [outputs]`, with every weight defined.
    public static func dense(inputs: Int = 4, outputs: Int = 3) -> ModelFixture {
        let w = NumpyArray(shape: [outputs, inputs], dtype: .float32, values: (0..<(inputs * outputs)).map { Double($0 % 7) / 8 - 0.25 })
        let b = NumpyArray(shape: [outputs], dtype: .float32, values: (0..<outputs).map { Double($0) / 4 })
        return ModelFixture(json: [
            "format": "mcutune-model", "version": 1, "name": "dense",
            "input": ["name": "x", "shape": [inputs]],
            "output": "y",
            "constants": ["fc.W": "weights/fc.W.npy", "fc.b": "weights/fc.b.npy"],
            "nodes": [["name": "fc", "op": "Gemm", "inputs": ["x"], "outputs": ["y"], "weights": ["W": "fc.W", "b": "fc.b"]]],
        ], weights: ["fc.W": w, "fc.b": b])
    }

    /// Writes `model.json` and `weights/NAME.npy` into a new directory and returns it.
    public func write(to directory: String = makeTemporaryDirectory("model")) throws -> String {
        try FileManager.default.createDirectory(atPath: "\(directory)/weights", withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(directory)/model.json"))
        for (name, array) in weights { try array.write(to: "\(directory)/weights/\(name).npy") }
        return directory
    }
}

/// Copies a directory (a bundled model, to corrupt it in a test).
public func copyDirectory(_ source: String, label: String = "copy") throws -> String {
    let destination = (makeTemporaryDirectory(label) as NSString).appendingPathComponent((source as NSString).lastPathComponent)
    try FileManager.default.copyItem(atPath: source, toPath: destination)
    return destination
}

/// Rewrites the JSON object in `path` with `change` (for tests that spoil a model or board file).
public func editJSONObject(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
    }
    change(&json)
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
}
