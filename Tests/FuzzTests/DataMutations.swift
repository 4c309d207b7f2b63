import FixedPoint
import Foundation
import ModelIR

/// Mutations of the weights (and reference logits) and of the dataset.
extension FuzzMutations {
    // MARK: .npy weights (and reference logits)

    mutating func weights() -> String {
        let candidates = files.keys.filter { $0.hasPrefix("model/") && $0.hasSuffix(".npy") }.sorted()
        let path = pick(candidates)
        if chance(35) { return extremeValues(path) }
        let (data, label) = NumpyMutator.mutate(files[path] ?? Data(), using: &rng)
        files[path] = data
        return "\(path): \(label)"
    }

    /// A valid file whose finite values are extreme: scaled, zeroed, or with one outlier (as float64).
    mutating func extremeValues(_ path: String) -> String {
        guard var array = files[path].flatMap({ try? NumpyArray.parse($0, path: path) }), !array.values.isEmpty, array.dtype.isFloating else {
            return "\(path): not a float array, left as it is"
        }
        let label: String
        switch pick(["scale", "scale", "zero", "outlier", "constant"]) {
        case "scale":
            let factor = pick([1e-300, 1e-30, 1e-10, 1e-3, 1e3, 1e10, 1e30, 1e150, -1])
            array.values = array.values.map { $0 * factor }
            label = "values times \(factor)"
        case "zero":
            array.values = array.values.map { _ in 0 }
            label = "every value 0"
        case "outlier":
            let value = pick([1e30, -1e30, 1e300, -1e300, 1e6, 65_536, .leastNonzeroMagnitude])
            let i = Int.random(in: 0..<array.values.count, using: &rng)
            array.values[i] = value
            label = "value \(value) at \(i)"
        default:
            let value = pick([1.0, -1, 127, 1e4])
            array.values = array.values.map { _ in value }
            label = "every value \(value)"
        }
        array.dtype = .float64
        files[path] = array.encoded()
        return "\(path): \(label)"
    }

    // MARK: datasets

    mutating func dataset() -> String {
        let npys = files.keys.filter { $0.hasPrefix("data/") && $0.hasSuffix(".npy") }.sorted()
        switch pick(["npy", "npy", "json", "json", "labels", "lengths", "lengths-missing", "count-mismatch", "zero-samples",
                     "missing-file", "classes", "sample-shape", "inputs", "inputs"]) {
        case "inputs":
            return extremeValues("data/\(pick(["val", "test"]))_x.npy")
        case "npy":
            let path = pick(npys)
            let (data, label) = NumpyMutator.mutate(files[path] ?? Data(), using: &rng)
            files[path] = data
            return "\(path): \(label)"
        case "json":
            return structured("data/dataset.json")
        case "labels":
            return badLabel()
        case "lengths":
            return badLength()
        case "lengths-missing":
            files["data/val_lengths.npy"] = nil
            files["data/test_lengths.npy"] = nil
            return "data/*_lengths.npy removed"
        case "count-mismatch":
            return oneSampleFewer()
        case "zero-samples":
            return emptySplit()
        case "missing-file":
            let path = pick(files.keys.sorted())
            files[path] = nil
            return "\(path) removed"
        case "classes":
            var doc = json("data/dataset.json")
            let value = pick([JSONValue.int(0), .int(-1), .int(1), .int(Int.max), .number(1.5), .string("9"), .int(seed.classes + 1)])
            doc.set([.key("classes")], to: value)
            files["data/dataset.json"] = doc.data
            return "data/dataset.json: classes = \(value.text())"
        default:
            var doc = json("data/dataset.json")
            let value = pick([JSONValue.array([]), .array([.int(0)]), .array([.int(-1)]), .array([.int(1_000_000), .int(1_000_000)]),
                              .array([.int(64), .int(1)]), .array([.int(8), .int(8)])])
            doc.set([.key("sample_shape")], to: value)
            files["data/dataset.json"] = doc.data
            return "data/dataset.json: sample_shape = \(value.text())"
        }
    }

    /// A label outside 0..<classes, or not a whole number.
    private mutating func badLabel() -> String {
        let split = pick(["val", "test"]), path = "data/\(split)_y.npy"
        guard var y = files[path].flatMap({ try? NumpyArray.parse($0, path: path) }), !y.values.isEmpty else { return "\(path): unreadable seed" }
        let value = pick([Double(seed.classes), -1, Double(seed.classes + 100), 1.5, 9e15])
        y.values[Int.random(in: 0..<y.values.count, using: &rng)] = value
        if value != value.rounded() { y.dtype = .float64 }
        files[path] = y.encoded()
        return "\(path): a label \(value) (classes \(seed.classes))"
    }

    /// A sequence length outside 1...steps (a lengths file is written where the seed has none).
    private mutating func badLength() -> String {
        let split = pick(["val", "test"]), path = "data/\(split)_lengths.npy"
        let count = split == "val" ? FuzzCorpus.valSamples : FuzzCorpus.testSamples
        var lengths = files[path].flatMap { try? NumpyArray.parse($0, path: path) }
            ?? NumpyArray(shape: [count], dtype: .int64, values: Array(repeating: Double(seed.maxSteps), count: count))
        let value = pick([0, -1, Double(seed.maxSteps + 1), 1, 1e12])
        lengths.values[Int.random(in: 0..<lengths.values.count, using: &rng)] = value
        files[path] = lengths.encoded()
        return "\(path): a length \(value) (steps \(seed.maxSteps))"
    }

    /// One file of a split a sample short of the others.
    private mutating func oneSampleFewer() -> String {
        let path = "data/\(pick(["val", "test"]))_\(pick(["y", "lengths", "x"])).npy"
        guard let a = files[path].flatMap({ try? NumpyArray.parse($0, path: path) }), let n = a.shape.first, n > 1 else {
            return "\(path): no such file in this seed"
        }
        let row = a.shape.dropFirst().reduce(1, *)
        files[path] = NumpyArray(shape: [n - 1] + a.shape.dropFirst(), dtype: a.dtype, values: Array(a.values.prefix((n - 1) * row))).encoded()
        return "\(path): one sample fewer than its split"
    }

    /// Every file of a split with 0 samples.
    private mutating func emptySplit() -> String {
        let split = pick(["val", "test"])
        for part in ["x", "y", "lengths"] {
            let path = "data/\(split)_\(part).npy"
            guard let a = files[path].flatMap({ try? NumpyArray.parse($0, path: path) }) else { continue }
            files[path] = NumpyArray(shape: [0] + a.shape.dropFirst(), dtype: a.dtype, values: []).encoded()
        }
        return "split \(split) has 0 samples"
    }
}
