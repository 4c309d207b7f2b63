import FixedPoint
import Foundation
import ModelIR

/// One fuzz input: a seed with one mutation applied, named for the report.
struct FuzzCase: Sendable {
    enum Artifact: String, CaseIterable, Sendable {
        case model = "model.json", weights = ".npy weights", dataset = "dataset", target = "target", config = "config", raw = "raw bytes"
    }

    var index: Int
    var model: String
    var artifact: Artifact
    /// What was done, e.g. `model/model.json: extreme-number at nodes[1].attributes.pads[2]`.
    var mutation: String
    var files: [String: Data]

    var summary: String { "case \(index) [\(model), \(artifact.rawValue)] " + mutation.replacingOccurrences(of: "\n", with: " ") }

    /// Share of the cases per artifact, out of 100.
    static let weights: [(Artifact, Int)] = [(.model, 26), (.weights, 17), (.dataset, 17), (.target, 10), (.config, 10), (.raw, 20)]

    /// Case `index` of the run seeded `seed`: its own generator, so any case can be replayed alone.
    static func make(index: Int, seed: UInt64, seeds: [FuzzSeed]) -> FuzzCase {
        var rng = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let base = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
        var roll = Int.random(in: 0..<100, using: &rng)
        var artifact = Artifact.raw
        for (kind, share) in weights {
            if roll < share { artifact = kind; break }
            roll -= share
        }
        var mutator = FuzzMutations(seed: base, rng: rng)
        let mutation: String
        switch artifact {
        case .model: mutation = mutator.modelJSON()
        case .weights: mutation = mutator.weights()
        case .dataset: mutation = mutator.dataset()
        case .target: mutation = mutator.target()
        case .config: mutation = mutator.config()
        case .raw: mutation = mutator.raw()
        }
        return FuzzCase(index: index, model: base.model, artifact: artifact, mutation: mutation, files: mutator.files)
    }

    /// Writes the case under `root` (which must not exist yet), but for the files in `skipping`.
    func write(to root: String, skipping: Set<String> = []) throws {
        for (relative, data) in files where !skipping.contains(relative) {
            let path = (root as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path))
        }
        // A split or model directory may have lost every file: keep the directories a user would have.
        for dir in ["model", "data", "targets"] {
            try FileManager.default.createDirectory(atPath: (root as NSString).appendingPathComponent(dir), withIntermediateDirectories: true)
        }
    }
}

/// The mutations of one case, applied to a copy of a seed's files.
struct FuzzMutations {
    let seed: FuzzSeed
    var rng: SeededGenerator
    var files: [String: Data]

    init(seed: FuzzSeed, rng: SeededGenerator) {
        self.seed = seed
        self.rng = rng
        self.files = seed.files
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    /// The seed's document at `path` (every mutation starts from an unmutated file).
    func json(_ path: String) -> JSONValue { seed.documents[path] ?? files[path].flatMap(JSONValue.parse) ?? .null }

    /// Applies one generic structured mutation to the JSON file at `path`.
    mutating func structured(_ path: String, document: JSONValue? = nil) -> String {
        let (mutated, label) = JSONMutator.mutate(document ?? json(path), using: &rng)
        files[path] = mutated.data
        return "\(path): \(label)"
    }

    // MARK: raw bytes

    mutating func raw() -> String {
        // JSON and .npy files alike; the big target file no more often than any other.
        let path = pick(files.keys.sorted())
        var bytes = [UInt8](files[path] ?? Data())
        guard !bytes.isEmpty else { return "\(path): empty, left as it is" }
        if chance(30) {
            let keep = pick([0, 1, 9, bytes.count / 2, bytes.count - 1, Int.random(in: 0..<bytes.count, using: &rng)])
            files[path] = Data(bytes.prefix(max(0, keep)))
            return "\(path): truncated to \(max(0, keep)) of \(bytes.count) bytes"
        }
        let flips = Int.random(in: 1...8, using: &rng)
        var at: [Int] = []
        for _ in 0..<flips {
            // Half the flips in the first 256 bytes, where headers and top-level keys are.
            let limit = chance(50) ? min(bytes.count, 256) : bytes.count
            let i = Int.random(in: 0..<limit, using: &rng)
            bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            at.append(i)
        }
        files[path] = Data(bytes)
        return "\(path): \(flips) bit flips at \(at.sorted())"
    }
}
