import Evaluator
import Foundation
import ModelIR
import Tuner

/// On-device inference against sending the input to a server: for each model and board of the runs,
/// the pick's latency on the board (measured on its simulator where the run verified) beside a cloud
/// round trip, that is the float model's latency on this host for one input plus a stated network
/// round-trip time. The host figure is measured here, in the same process, as the median of repeated
/// single-input runs after a warm-up.
public struct CloudComparison: Sendable {
    public struct Row: Sendable {
        public var model: String
        public var target: String
        /// The fastest and slowest pick of the runs on that board, in ms, and whether all were measured.
        public var deviceFastest: Double
        public var deviceSlowest: Double
        public var measured: Bool
        public var hostFloat: Double
        public var cloud: Double
    }

    public var roundTripMilliseconds: Double
    public var rows: [Row]
    public var warnings: [String]

    /// A model (the `--model` and `--data` a run was started with) and its dataset, loaded for the host
    /// measurement; the CLI's loader also imports ONNX files, which this module does not read.
    public typealias Loader = (_ model: String, _ data: String?) throws -> (graph: Graph, dataset: Dataset)

    /// Model files (`model.json`) with the dataset they name, or the one given.
    public static func modelFileLoader(resources: BundledResources) -> Loader {
        { argument, data in
            let model = try ModelLoader.load(resources.resolveModel(argument))
            guard let path = data ?? model.datasetPath else { throw TunerError.noDataset(model: model.graph.name) }
            return (model.graph, try Dataset.open(path))
        }
    }

    public init(_ collection: RunCollection, roundTripMilliseconds: Double, resources: BundledResources, load: Loader? = nil) {
        self.roundTripMilliseconds = roundTripMilliseconds
        let load = load ?? Self.modelFileLoader(resources: resources)
        var byKey: [String: (model: String, target: String, ms: [Double], measured: Bool, modelPath: String?, dataPath: String?)] = [:]
        for run in collection.runs {
            guard let model = run.model, let target = run.target, let clock = run.clockHz, clock > 0 else { continue }
            let measured = run.summaryFile?.measuredCycles
            guard let cycles = measured ?? run.summary?.pick.flatMap({ i in run.candidates.first { $0.index == i }?.objectives?.cycles }) else { continue }
            let key = "\(model)\t\(target)"
            var entry = byKey[key] ?? (model, target, [], true, nil, nil)
            entry.ms.append(cycles / Double(clock) * 1000)
            entry.measured = entry.measured && measured != nil
            if entry.modelPath == nil {
                entry.modelPath = Self.argument(run, "--model")
                entry.dataPath = Self.argument(run, "--data")
            }
            byKey[key] = entry
        }
        var hostByModel: [String: Double] = [:]
        var rows: [Row] = [], warnings: [String] = []
        for key in byKey.keys.sorted() {
            guard let entry = byKey[key] else { continue }
            if hostByModel[entry.model] == nil {
                do {
                    let (graph, dataset) = try load(entry.modelPath ?? entry.model, entry.dataPath)
                    hostByModel[entry.model] = try Self.hostLatency(graph: graph, dataset: dataset)
                } catch {
                    warnings.append("\(entry.model): the float model's host latency could not be measured (\(error))")
                    continue
                }
            }
            guard let host = hostByModel[entry.model] else { continue }
            rows.append(Row(model: entry.model, target: entry.target, deviceFastest: entry.ms.min() ?? 0, deviceSlowest: entry.ms.max() ?? 0,
                            measured: entry.measured, hostFloat: host, cloud: host + roundTripMilliseconds))
        }
        self.rows = rows
        self.warnings = warnings
    }

    /// The value of `flag` a run was started with (its run.json): `--model` also finds models outside
    /// models/, and `--data` the dataset of a model that names none.
    static func argument(_ run: RunRecord, _ flag: String) -> String? {
        guard let log = run.logPath else { return nil }
        let options = ((log as NSString).deletingLastPathComponent as NSString).appendingPathComponent("run.json")
        guard let data = FileManager.default.contents(atPath: options),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let arguments = json["arguments"] as? [String], let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
    }

    /// Median milliseconds of the float model on one test input (or validation input) on this host.
    static func hostLatency(graph: Graph, dataset: Dataset) throws -> Double {
        let split = try dataset.load(split: dataset.availableSplits.contains("test") ? "test" : "val").prefix(1)
        let evaluator = try FloatEvaluator(graph: graph)
        for _ in 0..<20 { _ = evaluator.run(split) }
        var times: [Double] = []
        for _ in 0..<200 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = evaluator.run(split)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    }

    public var markdown: String {
        var out = "## On the device against a cloud round trip\n\n"
        out += "Cloud: the float model on this host for one input plus a network round trip of "
            + String(format: "%.0f ms", roundTripMilliseconds) + " (stated, not measured). Device: the picks' latency on the board "
            + "(fastest and slowest over the runs; measured on the simulator, or estimated where marked).\n\n"
        out += ReportTable.markdownTable(["model", "target", "device ms", "host float ms", "cloud ms", "device / cloud"], rows.map { r in
            let device = (r.deviceFastest == r.deviceSlowest ? String(format: "%.2f", r.deviceFastest)
                : String(format: "%.2f-%.2f", r.deviceFastest, r.deviceSlowest)) + (r.measured ? "" : " (est.)")
            return [r.model, r.target, device, String(format: "%.3f", r.hostFloat), String(format: "%.1f", r.cloud),
                    String(format: "%.2fx", r.deviceSlowest / r.cloud)]
        })
        return out
    }
}
