import Foundation

/// One run of a batch: a point of the config's matrix, its directory name, and the `tune` arguments
/// that perform it.
public struct BatchRun: Sendable, Equatable {
    public var model: String
    public var target: String
    public var budgetRAM: Int?
    public var strategy: String
    public var seed: UInt64
    public var options: BatchConfig.Options
    /// The dataset directory (`--data`), for a model that names none (an ONNX file).
    public var data: String? = nil

    /// A name that says what the run is and stays the same across restarts: its directory under runs/.
    public var id: String {
        // An ONNX file keeps its extension in the name: mlp-digits.onnx is not the bundled mlp-digits.
        let file = (model as NSString).lastPathComponent
        let modelName = file.lowercased().hasSuffix(".onnx") ? file : (file as NSString).deletingPathExtension
        let safe = modelName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return "\(String(safe))-\(target)-" + (budgetRAM.map { "ram\($0)" } ?? "ramall") + "-\(strategy)-s\(seed)"
    }

    /// `tune run` arguments for this run, writing into `directory`.
    public func arguments(directory: String) -> [String] {
        var a = ["run", "--model", model, "--target", target, "--strategy", strategy, "--seed", "\(seed)", "--out", directory]
        if let data { a += ["--data", data] }
        if let budgetRAM { a += ["--budget-ram", "\(budgetRAM)"] }
        if let v = options.budgetFlash { a += ["--budget-flash", "\(v)"] }
        if let v = options.reserveRAM { a += ["--reserve-ram", "\(v)"] }
        if let v = options.maxLoss { a += ["--max-loss", "\(v)"] }
        if let v = options.pick { a += ["--pick", v] }
        if let v = options.fidelitySamples { a += ["--fidelity-samples", "\(v)"] }
        if let v = options.maxEvaluations { a += ["--max-evaluations", "\(v)"] }
        if !options.verify { a.append("--no-verify") }
        if !options.profile { a.append("--no-profile") }
        if options.measureRuns { a.append("--measure-runs") }
        if options.emitFront { a.append("--emit-front") }
        return a
    }
}
