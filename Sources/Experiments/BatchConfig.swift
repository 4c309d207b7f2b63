import Foundation
import Hardware
import Tuner
import Yams

/// A batch of `tune` runs declared in YAML (`configs/*.yaml`, documented in experiments/README.md):
/// a matrix of models x targets x RAM budgets x strategies x seeds, and options every run shares.
/// Everything is checked before any run starts; each error names the file, the line, the key and
/// what is allowed.
///
/// ```yaml
/// name: smoke
/// matrix:
///   model: [mlp-digits, gru-italypowerdemand]   # bundled names or model directories, or
///                                                 # {model: my.onnx, data: DIR} (an ONNX file names no dataset)
///   target: [uno]
///   budget_ram: [2048]                            # bytes; omit for the board's RAM
///   strategy: [greedy, genetic]
///   seed: [0, 1]
/// options:                                        # every key optional
///   max_evaluations: 150
///   verify: false                                 # build and run the pick on the simulator
///   profile: false                                # measure the model's kernels first
///   measure_runs: true                            # and each candidate's fused runs (`--measure-runs`)
/// peers:                                          # figures of other tools, for plots and reports
///   - {name: SeeDot, model: mlp-digits, target: uno, accuracy: 0.95, milliseconds: 12.5, ram_bytes: 1800}
/// ```
public struct BatchConfig: Sendable, Equatable {
    public var name: String
    public var models: [String]
    /// The dataset directory given for a model (`{model: FILE.onnx, data: DIR}`), by model.
    public var data: [String: String] = [:]
    public var targets: [String]
    /// nil: the board's RAM.
    public var budgetsRAM: [Int?]
    public var strategies: [String]
    public var seeds: [UInt64]
    public var options: Options
    /// Other tools' figures, passed through to plots and reports as JSON objects.
    public var peers: [[String: PeerValue]]

    public struct Options: Sendable, Equatable {
        public var maxEvaluations: Int?
        public var budgetFlash: Int?
        public var reserveRAM: Int?
        public var maxLoss: Double?
        public var pick: String?
        public var fidelitySamples: Int?
        public var verify = true
        public var profile = true
        public var measureRuns = false
        public var emitFront = false
    }

    public enum PeerValue: Sendable, Equatable, Encodable {
        case text(String), number(Double)
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .text(s): try c.encode(s)
            case let .number(x): try c.encode(x)
            }
        }
    }

    static let topKeys = ["name", "matrix", "options", "peers"]
    static let matrixKeys = ["model", "target", "budget_ram", "strategy", "seed"]
    static let optionKeys = ["max_evaluations", "budget_flash", "reserve_ram", "max_loss", "pick", "fidelity_samples", "verify", "profile", "measure_runs", "emit_front"]
    static let peerKeys = ["name", "model", "target", "accuracy", "milliseconds", "cycles", "ram_bytes", "flash_bytes"]

    /// Reads and checks `path` against the bundled models and boards of `resources`.
    public static func load(path: String, resources: BundledResources) throws(ExperimentsError) -> BatchConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badConfig("cannot read the batch config \(path): " + (FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"))
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path, resources: resources)
    }

    public static func parse(_ yaml: String, path: String, resources: BundledResources) throws(ExperimentsError) -> BatchConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw .badConfig("\(path): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        let reader = Reader(path: path)
        guard let root, let top = root.mapping else { throw reader.fail(root, "the file must be a mapping with the keys \(topKeys.joined(separator: ", "))") }
        try reader.onlyKeys(top, topKeys, in: "the top level")
        let name = try top["name"].map { node throws(ExperimentsError) in try reader.string(node, key: "name") }
            ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let matrixNode = top["matrix"] else { throw reader.fail(root, "missing key 'matrix' (a mapping of \(matrixKeys.joined(separator: ", ")))") }
        guard let matrix = matrixNode.mapping else { throw reader.fail(matrixNode, "'matrix' must be a mapping of \(matrixKeys.joined(separator: ", "))") }
        try reader.onlyKeys(matrix, matrixKeys, in: "'matrix'")

        let bundled = resources.bundledModels
        var data: [String: String] = [:]
        let models = try reader.list(matrix, "model", required: true) { node throws(ExperimentsError) -> String in
            // A model with its dataset: {model: FILE, data: DIR}.
            var dataset: String?
            var modelNode = node
            if let map = node.mapping {
                try reader.onlyKeys(map, ["model", "data"], in: "an entry of matrix.model")
                guard let m = map["model"], let d = map["data"] else {
                    throw reader.fail(node, "matrix.model: an entry written as a mapping needs both 'model' and 'data' ({model: my.onnx, data: DIR})")
                }
                modelNode = m
                let directory = try reader.string(d, key: "matrix.model.data")
                guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("dataset.json")) else {
                    throw reader.fail(d, "matrix.model.data: '\(directory)' is not a dataset directory (no dataset.json in it)")
                }
                dataset = directory
            }
            let value = try reader.string(modelNode, key: "matrix.model")
            let resolved = resources.resolveModel(value)
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw reader.fail(modelNode, "matrix.model: unknown model '\(value)'; allowed: a model directory, an ONNX file, or one of \(bundled.joined(separator: ", "))")
            }
            if value.lowercased().hasSuffix(".onnx"), dataset == nil {
                throw reader.fail(modelNode, "matrix.model: '\(value)' is an ONNX model, which names no dataset; write it as {model: \(value), data: DIR}")
            }
            if let dataset {
                if let other = data[value], other != dataset {
                    throw reader.fail(node, "matrix.model: '\(value)' is given twice with different data ('\(other)' and '\(dataset)')")
                }
                data[value] = dataset
            }
            return value
        } ?? []
        let catalog: TargetCatalog
        do { catalog = try TargetCatalog.load(directory: resources.targetsDirectory) } catch {
            throw .badConfig("cannot read the boards in \(resources.targetsDirectory): \(error)")
        }
        let targets = try reader.list(matrix, "target", required: true) { node throws(ExperimentsError) -> String in
            let value = try reader.string(node, key: "matrix.target")
            guard (try? catalog.target(named: value)) != nil else {
                throw reader.fail(node, "matrix.target: unknown target '\(value)'; allowed: \(catalog.targets.map(\.name).joined(separator: ", "))")
            }
            return value
        } ?? []
        // "board": all the board's RAM. A budget above a board's RAM is refused now, not at that run.
        let budgets: [Int?] = try reader.list(matrix, "budget_ram", required: false) { node throws(ExperimentsError) -> Int? in
            if node.string == "board" { return nil }
            guard let value = node.int, value > 0 else {
                throw reader.fail(node, "matrix.budget_ram: '\(node.string ?? "?")' is not a budget; allowed: bytes above 0, or board (all its RAM)")
            }
            for name in targets {
                if let board = try? catalog.target(named: name), value > board.ramBytes {
                    throw reader.fail(node, "matrix.budget_ram: \(value) B is more than the \(board.ramBytes) B of RAM that target '\(name)' has; "
                                      + "use board for each board's whole RAM")
                }
            }
            return value
        } ?? [nil]
        let strategyNames = TuningJob.Strategy.allCases.map(\.rawValue)
        let strategies = try reader.list(matrix, "strategy", required: false) { node throws(ExperimentsError) -> String in
            let value = try reader.string(node, key: "matrix.strategy")
            guard strategyNames.contains(value) else {
                throw reader.fail(node, "matrix.strategy: unknown strategy '\(value)'; allowed: \(strategyNames.joined(separator: ", "))")
            }
            return value
        } ?? ["genetic"]
        let seeds = try reader.list(matrix, "seed", required: false) { node throws(ExperimentsError) -> UInt64 in
            guard let value = node.int, value >= 0, node.scalar?.string.contains(".") == false else {
                throw reader.fail(node, "matrix.seed: '\(node.string ?? "?")' is not a seed; allowed: whole numbers 0 or more")
            }
            return UInt64(value)
        } ?? [0]

        var options = Options()
        if let node = top["options"] {
            guard let map = node.mapping else { throw reader.fail(node, "'options' must be a mapping of \(optionKeys.joined(separator: ", "))") }
            try reader.onlyKeys(map, optionKeys, in: "'options'")
            options.maxEvaluations = try map["max_evaluations"].map { n throws(ExperimentsError) in try reader.positiveInt(n, key: "options.max_evaluations") }
            options.budgetFlash = try map["budget_flash"].map { n throws(ExperimentsError) in try reader.positiveInt(n, key: "options.budget_flash") }
            options.reserveRAM = try map["reserve_ram"].map { n throws(ExperimentsError) in try reader.positiveInt(n, key: "options.reserve_ram", allowZero: true) }
            options.fidelitySamples = try map["fidelity_samples"].map { n throws(ExperimentsError) in try reader.positiveInt(n, key: "options.fidelity_samples", allowZero: true) }
            if let n = map["max_loss"] {
                guard let value = n.float, (0...100).contains(value) else {
                    throw reader.fail(n, "options.max_loss: '\(n.string ?? "?")' is not a loss; allowed: points between 0 and 100 (e.g. 0.5)")
                }
                options.maxLoss = value
            }
            if let n = map["pick"] {
                let value = try reader.string(n, key: "options.pick")
                guard PickRule.names.contains(value) else {
                    throw reader.fail(n, "options.pick: unknown rule '\(value)'; allowed: \(PickRule.names.joined(separator: ", "))")
                }
                guard PickRule(name: value, maxLoss: options.maxLoss.map { $0 / 100 }) != nil else {
                    throw reader.fail(n, "options.pick: '\(value)' needs options.max_loss (points)")
                }
                options.pick = value
            }
            options.verify = try map["verify"].map { n throws(ExperimentsError) in try reader.bool(n, key: "options.verify") } ?? true
            options.profile = try map["profile"].map { n throws(ExperimentsError) in try reader.bool(n, key: "options.profile") } ?? true
            if let n = map["measure_runs"] {
                options.measureRuns = try reader.bool(n, key: "options.measure_runs")
                guard !options.measureRuns || (options.profile && options.verify) else {
                    throw reader.fail(n, "options.measure_runs: true measures runs beside the kernel profile; it needs options.profile and options.verify left true")
                }
            }
            options.emitFront = try map["emit_front"].map { n throws(ExperimentsError) in try reader.bool(n, key: "options.emit_front") } ?? false
        }

        var peers: [[String: PeerValue]] = []
        if let node = top["peers"] {
            guard let list = node.sequence else { throw reader.fail(node, "'peers' must be a list of mappings with the keys \(peerKeys.joined(separator: ", "))") }
            for item in list {
                guard let map = item.mapping else { throw reader.fail(item, "each of 'peers' must be a mapping with the keys \(peerKeys.joined(separator: ", "))") }
                try reader.onlyKeys(map, peerKeys, in: "a peer")
                var peer: [String: PeerValue] = [:]
                for (keyNode, value) in map {
                    let key = keyNode.string ?? ""
                    if ["name", "model", "target"].contains(key) {
                        peer[key] = .text(try reader.string(value, key: "peers.\(key)"))
                    } else {
                        guard let number = value.float, number >= 0 else {
                            throw reader.fail(value, "peers.\(key): '\(value.string ?? "?")' is not a number 0 or more")
                        }
                        peer[key] = .number(number)
                    }
                }
                guard peer["name"] != nil else { throw reader.fail(item, "a peer needs a 'name'") }
                peers.append(peer)
            }
        }
        return BatchConfig(name: name, models: models, data: data, targets: targets, budgetsRAM: budgets, strategies: strategies, seeds: seeds,
                           options: options, peers: peers)
    }

    /// Every run of the matrix, in a fixed order (models, then targets, budgets, strategies, seeds).
    public var runs: [BatchRun] {
        var runs: [BatchRun] = []
        for model in models {
            for target in targets {
                for budget in budgetsRAM {
                    for strategy in strategies {
                        for seed in seeds {
                            runs.append(BatchRun(model: model, target: target, budgetRAM: budget, strategy: strategy, seed: seed, options: options,
                                                 data: data[model]))
                        }
                    }
                }
            }
        }
        return runs
    }

    /// Typed reads of YAML nodes whose errors say where.
    private struct Reader {
        let path: String

        func fail(_ node: Node?, _ message: String) -> ExperimentsError {
            .badConfig("\(path)" + (node?.mark.map { ":\($0.line)" } ?? "") + ": " + message)
        }

        func onlyKeys(_ map: Node.Mapping, _ allowed: [String], in place: String) throws(ExperimentsError) {
            for (key, _) in map {
                let name = key.string ?? "?"
                guard allowed.contains(name) else {
                    throw fail(key, "unknown key '\(name)' in \(place); allowed: \(allowed.joined(separator: ", "))")
                }
            }
        }

        func string(_ node: Node, key: String) throws(ExperimentsError) -> String {
            guard let scalar = node.scalar, !scalar.string.isEmpty else { throw fail(node, "\(key) must be a non-empty text") }
            return scalar.string
        }

        func bool(_ node: Node, key: String) throws(ExperimentsError) -> Bool {
            guard let value = node.bool else { throw fail(node, "\(key): '\(node.string ?? "?")' is not true or false") }
            return value
        }

        func positiveInt(_ node: Node, key: String, allowZero: Bool = false) throws(ExperimentsError) -> Int {
            guard let value = node.int, value > 0 || (allowZero && value == 0) else {
                throw fail(node, "\(key): '\(node.string ?? "?")' is not a whole number \(allowZero ? "0 or more" : "above 0")")
            }
            return value
        }

        /// `map[key]` as a non-empty list (a single value counts as a list of one); nil when absent
        /// and not required.
        func list<T>(_ map: Node.Mapping, _ key: String, required: Bool, _ element: (Node) throws(ExperimentsError) -> T) throws(ExperimentsError) -> [T]? {
            guard let node = map[key] else {
                if required { throw fail(nil, "missing key 'matrix.\(key)'") }
                return nil
            }
            let items: [Node] = node.sequence.map { Array($0) } ?? [node]
            guard !items.isEmpty, node.mapping == nil else {
                throw fail(node, "matrix.\(key) is empty: the matrix has no runs; give at least one value")
            }
            var values: [T] = []
            for item in items { values.append(try element(item)) }
            return values
        }
    }
}
