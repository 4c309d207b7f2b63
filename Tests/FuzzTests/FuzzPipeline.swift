import Emit
import Evaluator
import FixedPoint
import Foundation
import Hardware
import ModelIR
import Tuner

/// What became of one case.
enum FuzzOutcome: Sendable, Equatable {
    /// Every step ran and every output passed its checks.
    case completed
    /// A step threw a typed error whose message is one clear line: what `tune` prints as `Error: ...`.
    case refused(step: String, message: String)
    /// A bad message, an untyped error, or an output that fails its checks.
    case failure(step: String, reason: String)
}

/// The steps a user's inputs go through in `tune inspect`, `tune check` and `tune run`, in process:
/// load the model, open and check the dataset, measure the float baseline, lower and calibrate,
/// build a program for each preset and for the config file, emulate it, emit its C and price it.
struct FuzzPipeline: Sendable {
    /// Samples emulated per config (the fixed split is small already).
    static let samples = 4
    /// Text that shows a raw Codable or Foundation error reached the user.
    static let rawErrorMarkers = ["DecodingError", "CodingKeys", "Dictionary<String, Any>", "NSCocoaErrorDomain", "Swift.", "Optional("]

    /// The catalog of each seed's unmutated target file, loaded once.
    let catalogs: [String: TargetCatalog]
    let seeds: [String: FuzzSeed]

    init(seeds: [FuzzSeed]) throws {
        var catalogs: [String: TargetCatalog] = [:]
        for seed in seeds where catalogs[seed.target] == nil {
            let dir = NSTemporaryDirectory() + "fuzz-target-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try seed.files["targets/\(seed.target)"]?.write(to: URL(fileURLWithPath: "\(dir)/\(seed.target)"))
            catalogs[seed.target] = try TargetCatalog.load(directory: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }
        self.catalogs = catalogs
        self.seeds = Dictionary(seeds.map { ($0.model, $0) }) { a, _ in a }
    }

    /// Case directories go to memory (`/dev/shm`) where there is one: writing and removing ~20
    /// files per case on disk costs more than the pipeline itself.
    static let scratch: String = {
        let shm = "/dev/shm"
        return FileManager.default.isWritableFile(atPath: shm) ? shm : NSTemporaryDirectory()
    }()

    /// Writes the case to a fresh directory, runs it, and removes the directory.
    func run(_ fuzzCase: FuzzCase) -> FuzzOutcome {
        let root = (Self.scratch as NSString).appendingPathComponent("mcutune-fuzz-\(fuzzCase.index)-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // An unchanged target is read from the catalog loaded once (see `loadTarget`), so its file is not written.
        let unchanged = seeds[fuzzCase.model].map { seed in
            fuzzCase.files.keys.filter { $0.hasPrefix("targets/") && fuzzCase.files[$0] == seed.files[$0] }
        } ?? []
        do { try fuzzCase.write(to: root, skipping: Set(unchanged)) } catch { return .failure(step: "write case", reason: "\(error)") }
        var step = "load model"
        do {
            try run(root: root, fuzzCase: fuzzCase, step: &step)
            return .completed
        } catch let failure as CheckFailure {
            return .failure(step: step, reason: failure.reason)
        } catch {
            return Self.classify(error, step: step, root: root)
        }
    }

    /// A refusal is fine when it is one of the modules' typed errors and reads as one line that names something.
    static func classify(_ error: Error, step: String, root: String) -> FuzzOutcome {
        let text = "\(error)"
        let typed = error is ModelError || error is FixedPointError || error is TargetCatalog.Failure || error is TunerError
        if !typed { return .failure(step: step, reason: "untyped error \(type(of: error)): \(text)") }
        if text.isEmpty || text.contains("\n") || text.contains("\r") {
            return .failure(step: step, reason: "not one line: \(text.debugDescription)")
        }
        if let marker = rawErrorMarkers.first(where: text.contains) {
            return .failure(step: step, reason: "raw error text (\(marker)): \(text)")
        }
        // Names a file under the case, or a quoted node, tensor, key or value.
        guard text.contains(root) || text.contains("'") || text.contains("\"") else {
            return .failure(step: step, reason: "names nothing: \(text)")
        }
        return .refused(step: step, message: text.replacingOccurrences(of: root, with: "CASE"))
    }

    struct CheckFailure: Error { let reason: String }

    private func check(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
        if !condition { throw CheckFailure(reason: reason()) }
    }

    private func run(root: String, fuzzCase: FuzzCase, step: inout String) throws {
        let model = try ModelLoader.load("\(root)/model")
        step = "open dataset"
        guard let datasetPath = model.datasetPath else { throw TunerError.noDataset(model: model.graph.name) }
        let dataset = try Dataset.open(datasetPath)
        try dataset.check(against: model.graph)

        step = "float baseline"
        let splits = dataset.availableSplits.filter { $0 != "train" }
        let baseline = try FloatBaseline.measure(model, dataset: dataset, splits: splits)
        try check(baseline.results.count == splits.count, "baseline has \(baseline.results.count) splits, expected \(splits)")
        _ = WeightRangeCheck.warnings(model.graph)
        _ = model.graph.layerStatistics()

        step = "float evaluation"
        let split = try dataset.load(split: splits.contains("val") ? "val" : "test").prefix(Self.samples)
        let floatOutputs = try FloatEvaluator(graph: model.graph).run(split)
        try check(floatOutputs.rows == split.count, "float outputs have \(floatOutputs.rows) rows for \(split.count) samples")
        if let bad = floatOutputs.values.firstIndex(where: { !$0.isFinite }) {
            throw TunerError.nonFiniteFloat(model: model.graph.name, split: split.name, sample: bad / max(floatOutputs.columns, 1),
                                            value: floatOutputs.values[bad])
        }

        step = "calibration"
        let lowered = try Lowering.lower(model.graph)
        let profile = try Calibration.profile(model.graph, on: split)

        step = "target"
        let target = try loadTarget(root: root, fuzzCase: fuzzCase)
        let meanSteps = split.lengths.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) } ?? 1

        var configs: [(String, QuantConfig)] = []
        for preset in Presets.names {
            step = "preset \(preset)"
            configs.append((preset, try Presets.config(preset, graph: lowered, profile: profile)))
        }
        step = "config file"
        configs.append(("config.json", try QuantConfig.load("\(root)/config.json")))

        for (k, (name, config)) in configs.enumerated() {
            try build(name, config: config, graph: model.graph, split: split, target: target, meanSteps: meanSteps,
                      crossCheck: k == 0, step: &step)
        }
    }

    /// One config's program: built, emulated (the first also on the scalar path), emitted and priced.
    private func build(_ name: String, config: QuantConfig, graph: Graph, split: DatasetSplit, target: Target, meanSteps: Double,
                       crossCheck: Bool, step: inout String) throws {
        step = "program \(name)"
        let program = try FixedProgram(graph: graph, config: config)
        step = "emulate \(name)"
        let emulator = FixedEmulator(program: program)
        let outputs = emulator.run(split, path: .blas)
        try checkFixedOutputs(outputs, program: program, samples: split.count)
        if crossCheck {
            // The scalar path is slow in debug builds: two samples cross-check the BLAS path.
            let two = split.prefix(2)
            try check(emulator.run(two, path: .scalar) == emulator.run(two, path: .blas), "the BLAS and scalar emulator paths disagree")
        }
        step = "emit \(name)"
        var emitter = CEmitter(program: program)
        let emitted = emitter.emit()
        try check(emitted.source.contains("mcu_") && emitted.header.contains("#"), "emitted C is empty")
        try check(emitted.arena.isValid, "the arena plan overlaps live buffers")
        step = "cost \(name)"
        let estimate = CostModel(target: target, meanSteps: meanSteps).estimate(program)
        try check(estimate.cycles.isFinite && estimate.ramBytes > 0 && estimate.flashBytes >= 0, "estimate \(estimate)")
        try check(estimate.arenaBytes >= estimate.arenaLowerBound, "arena \(estimate.arenaBytes) B below its lower bound")
    }

    /// Integer outputs: one row per sample, each value an integer of the output format (or a class index).
    private func checkFixedOutputs(_ outputs: Batch, program: FixedProgram, samples: Int) throws {
        try check(outputs.rows == samples, "emulator outputs have \(outputs.rows) rows for \(samples) samples")
        let format = program.outputFormat
        let lo = program.graph.outputsClassIndex ? 0 : Double(format.minInt)
        let hi = program.graph.outputsClassIndex ? Double(Int32.max) : Double(format.maxInt)
        if let bad = outputs.values.first(where: { !$0.isFinite || $0.rounded() != $0 || $0 < lo || $0 > hi }) {
            throw CheckFailure(reason: "emulator output \(bad) is not an integer in \(lo)...\(hi)")
        }
    }

    /// The seed's target: loaded from the case when its file changed, from the cache otherwise.
    private func loadTarget(root: String, fuzzCase: FuzzCase) throws -> Target {
        guard let seed = seeds[fuzzCase.model] else { throw CheckFailure(reason: "no seed named \(fuzzCase.model)") }
        let file = "targets/\(seed.target)", name = String(seed.target.dropLast(".json".count))
        if fuzzCase.files[file] == seed.files[file], let catalog = catalogs[seed.target] {
            return try catalog.target(named: name)
        }
        return try TargetCatalog.load(directory: "\(root)/targets").target(named: name)
    }
}
