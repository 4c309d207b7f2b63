import FixedPoint
import Foundation

/// The search log: JSON Lines, one object per line, keys sorted, no clocks, so the same seed gives
/// the same bytes. Schema (docs/search-log.md): a `header`, one `candidate` per evaluation, a `summary`.
public final class SearchLog: @unchecked Sendable {
    public struct Header: Codable, Sendable {
        public var type = "header"
        public var tool: String
        public var toolVersion: String
        public var model: String
        public var target: String
        public var budgetRAMBytes: Int
        public var budgetFlashBytes: Int
        public var maxLoss: Double?
        public var strategy: String
        public var seed: UInt64
        public var variables: [String]
        public var offsets: [Int]
        public var floatValAccuracy: Double
        public var costModelCalibrated: Bool
        /// The board's clock, so readers turn cycles into milliseconds without the target file.
        public var targetClockHz: Int?
        /// The model's kernels measured on the board before the search (`KernelProfile`), if they were.
        public var kernelProfile: ProfileReference?
        /// The inputs fidelity is measured on (validation first), and the rule that took the pick.
        public var fidelitySamples: Int
        public var fidelitySource: String
        public var pickRule: String
        /// Whether each candidate's fused runs were measured before it was priced (`--measure-runs`).
        public var measuredRuns: Bool? = nil

        public struct ProfileReference: Codable, Sendable {
            public var key: String
            public var programs: Int
        }

        enum CodingKeys: String, CodingKey {
            case type, tool, model, target, strategy, seed, variables, offsets
            case toolVersion = "tool_version", budgetRAMBytes = "budget_ram_bytes", budgetFlashBytes = "budget_flash_bytes"
            case maxLoss = "max_loss", floatValAccuracy = "float_val_accuracy", costModelCalibrated = "cost_model_calibrated"
            case kernelProfile = "kernel_profile", fidelitySamples = "fidelity_samples", fidelitySource = "fidelity_source"
            case pickRule = "pick_rule", targetClockHz = "target_clock_hz", measuredRuns = "measured_runs"
        }
    }

    public struct CandidateLine: Codable, Sendable {
        public var type = "candidate"
        public var index: Int
        public var strategy: String
        /// Per variable: [bits, fractional bits], in the header's variable order.
        public var formats: [[Int]]
        public var fingerprint: String
        public var outcome: Evaluation.Outcome
        public var message: String?
        public var objectives: Evaluation.Objectives?
    }

    public struct Summary: Codable, Sendable {
        public var type = "summary"
        public var evaluations: Int
        public var interrupted: Bool
        /// Candidate indices on the Pareto front of the feasible ones.
        public var front: [Int]
        public var pick: Int?
        public var pickTestAccuracy: Double?
        public var floatTestAccuracy: Double?
        /// The pick built by the board's toolchain and run on its simulator (absent with --no-verify).
        public var pickMeasured: MeasuredPick?
        /// Front points passed over, in the order tried, because their build failed or broke a budget.
        public var rejectedAfterBuild: [PickRejection] = []
        /// Uniform programs at the data-driven scales ("all16", "all8"), scored like candidates, as
        /// reference points for plots and reports.
        public var baselines: [String: Baseline]?

        public struct Baseline: Codable, Sendable {
            public var outcome: Evaluation.Outcome
            public var objectives: Evaluation.Objectives?
        }

        enum CodingKeys: String, CodingKey {
            case type, evaluations, interrupted, front, pick
            case pickTestAccuracy = "pick_test_accuracy", floatTestAccuracy = "float_test_accuracy"
            case pickMeasured = "pick_measured"
            case rejectedAfterBuild = "rejected_after_build", baselines
        }
    }

    private(set) var lines: [String] = []
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    /// The file each line also goes to as it is appended (written and flushed line by line, so a run
    /// killed at any moment leaves every line it wrote, and at most a torn last one).
    private let file: FileHandle?
    public let path: String?

    /// A log kept in memory only.
    public init() {
        file = nil
        path = nil
    }

    /// A log written to `path` as it grows (the file is created or emptied).
    public init(streamingTo path: String) throws(TunerError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .cannotWrite(path: path, reason: "cannot create the file")
        }
        file = handle
        self.path = path
    }

    /// One value as a log line (sorted keys, no newline).
    public static func encodeLine<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public func append<T: Encodable>(_ value: T) {
        guard let data = try? encoder.encode(value) else { return }
        let line = String(decoding: data, as: UTF8.self)
        lines.append(line)
        // One write per line: the kernel sees whole lines, so a kill leaves only whole ones behind it.
        file?.write(Data((line + "\n").utf8))
    }

    public var text: String { lines.joined(separator: "\n") + "\n" }
}
