import Devices
import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// The model's own kernels measured on the board before a search (`KernelProfile`), so that the
/// search prices each candidate with what the board's compiler makes of this model's shapes.
///
/// The programs profiled are chosen from the search space itself: all-8-bit, all-16-bit, and random
/// candidates that fit the board, each taken while it adds kernel signatures not yet covered. The
/// choice depends only on the model, the data and the board (a fixed seed, not the search's), so
/// every search of the same model on the same board shares one profile, cached under
/// `.build/mcutune-profiles` by a key of everything measured: the programs' C, the samples, the
/// board's coefficients and the toolchain.
public struct KernelProfiling: Sendable {
    public let device: any Device
    /// Where profiles are cached (nil: never cached).
    public let cacheDirectory: String?
    /// Programs to profile at most, samples to run each on, builds at a time.
    public var programs = 12
    public var samples = 2
    public var jobs = 2

    public init(device: any Device, cacheDirectory: String?) {
        self.device = device
        self.cacheDirectory = cacheDirectory
    }

    /// The cache under a checkout.
    public static func cacheDirectory(root: String) -> String {
        (root as NSString).appendingPathComponent(".build/mcutune-profiles")
    }

    /// What a profile came from, for the report.
    public enum Origin: Sendable { case cached(String), measured(seconds: Double) }

    /// The profile of `graph` searched over `space` on the first samples of `split`: from the cache,
    /// or measured in `directory` and cached; nil when no candidate fits the board (the search then
    /// says what does not fit).
    public func profile(graph: Graph, space: SearchSpace, split: DatasetSplit, directory: String,
                        progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> (KernelProfile, Origin)? {
        let chosen = choosePrograms(graph: graph, space: space)
        guard !chosen.isEmpty else { return nil }
        let key = try key(chosen, split: split)
        let path = cacheDirectory.map { "\($0)/\(device.target.name)-\(graph.name)-\(key).json" }
        if let path, let data = FileManager.default.contents(atPath: path),
           let cached = try? JSONDecoder().decode(KernelProfile.self, from: data), cached.key == key {
            return (cached, .cached(path))
        }
        let start = Date()
        let count = chosen.count
        var perProgram: (@Sendable (Int) -> Void)?
        if let progress { perProgram = { done in progress(done, count) } }
        let profile = try KernelProfiler.profile(chosen, key: key, split: split, samples: samples, device: device, jobs: jobs,
                                                 directory: directory, progress: perProgram)
        if let path, let cacheDirectory { Self.store(profile, at: path, in: cacheDirectory) }
        return (profile, .measured(seconds: Date().timeIntervalSince(start)))
    }

    /// The profile a search of `model` would price with (`TuningJob` with the default offsets).
    public func profile(model: LoadedModel, dataset: Dataset, directory: String) throws -> (KernelProfile, Origin)? {
        let lowered = try Lowering.lower(model.graph)
        let validation = try dataset.load(split: "val")
        let space = try TuningJob.space(of: model.graph, lowered: lowered, validation: validation, offsets: TuningJob.Settings.defaultOffsets)
        return try profile(graph: lowered, space: space, split: validation, directory: directory)
    }

    /// All-8-bit, all-16-bit, then random candidates within the board's memory, each taken while it
    /// covers (node, signature) pairs none before it did.
    func choosePrograms(graph: Graph, space: SearchSpace) -> [FixedProgram] {
        let model = CostModel(target: device.target, meanSteps: 1)
        var generator = SeededGenerator(seed: 0x6b65_726e_656c)
        var candidates = [space.uniform(bits: 8), space.uniform(bits: 16)]
        for _ in 0..<400 { candidates.append(space.random(using: &generator)) }
        var pool: [(program: FixedProgram, pairs: Set<String>)] = []
        for candidate in candidates {
            guard let program = try? FixedProgram(graph: graph, config: space.config(for: candidate)) else { continue }
            let cost = model.estimate(program)
            guard cost.ramBytes <= device.target.ramBytes, cost.flashBytes <= device.target.flashBytes - device.reservedFlashBytes else { continue }
            let nodes = CostFeatures.nodes(program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr)
            let pairs = Set(program.allSteps.map { "\($0.node.name) \(CostFeatures.signature(nodes[$0.node.name] ?? [:]))" })
            pool.append((program, pairs))
        }
        var covered = Set<String>(), chosen: [FixedProgram] = []
        // The two uniform programs first (when they fit), then the most new pairs, the earliest on ties.
        for uniform in pool.prefix(2) where chosen.count < programs {
            chosen.append(uniform.program)
            covered.formUnion(uniform.pairs)
        }
        while chosen.count < programs {
            guard let best = pool.indices.max(by: { a, b in
                (pool[a].pairs.subtracting(covered).count, -a) < (pool[b].pairs.subtracting(covered).count, -b)
            }), !pool[best].pairs.isSubset(of: covered) else { break }
            chosen.append(pool[best].program)
            covered.formUnion(pool[best].pairs)
        }
        return chosen
    }

    /// A digest of everything the measurement depends on.
    func key(_ programs: [FixedProgram], split: DatasetSplit) throws -> String {
        let tools = try device.toolchainDescription()
        let coefficients = try JSONEncoder.sorted.encode(device.target.cost)
        var text = "kernel-profile v10 \(device.target.name) \(tools.compiler) \(tools.flags.joined(separator: " ")) \(tools.simulator) "
        text += "samples \(samples) " + split.prefix(samples).inputs.map { String($0.bitPattern, radix: 16) }.joined(separator: ",")
        for program in programs {
            var emitter = CEmitter(program: program)
            text += emitter.emit().source
        }
        return String(FNV1a.hash(text.utf8) ^ FNV1a.hash(coefficients), radix: 16)
    }

    /// Writes under a name of its own and renames: a concurrent search never reads half a file.
    static func store(_ profile: KernelProfile, at path: String, in directory: String) {
        guard let data = try? JSONEncoder.sorted.encode(profile) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let partial = "\(path).\(UUID().uuidString).partial"
        guard FileManager.default.createFile(atPath: partial, contents: data) else { return }
        if (try? FileManager.default.moveItem(atPath: partial, toPath: path)) == nil { try? FileManager.default.removeItem(atPath: partial) }
    }
}

extension JSONEncoder {
    /// Keys sorted: the same value always encodes to the same bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
