import ModelIR
/// Errors of the jobs the tool runs, each naming the option or file concerned and what is allowed.
public enum TunerError: Error, Equatable, Sendable, CustomStringConvertible {
    case resourcesNotFound(searched: [String])
    case noDataset(model: String)
    case budgetExceedsTarget(option: String, bytes: Int, target: String, available: Int)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    /// The float model's outputs overflow (inf or NaN) on a split: it cannot be the reference.
    case nonFiniteFloat(model: String, split: String, sample: Int, value: Double)
    /// `tune --resume`: the log in the run directory was written by a search with other settings.
    case resumeMismatch(path: String, differences: [String])
    case spaceTooLarge(candidates: Double, limit: Int)
    case nothingFits(smallestRAM: Int, budgetRAM: Int, smallestFlash: Int, budgetFlash: Int, largestTensors: [String])

    /// One line: names from files (a model's, a tensor's) can hold control characters.
    public var description: String { text.escapingControlCharacters }

    private var text: String {
        switch self {
        case let .resourcesNotFound(searched):
            return "cannot find the bundled models and configs/targets (searched \(searched.joined(separator: ", "))); set MCUTUNE_HOME to the checkout"
        case let .noDataset(model):
            return "model '\(model)' names no dataset; pass --data DIR"
        case let .budgetExceedsTarget(option, bytes, target, available):
            return "\(option) \(bytes) exceeds the \(available) bytes that target '\(target)' has"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .nonFiniteFloat(model, split, sample, value):
            return "the float model '\(model)' outputs \(value) on sample \(sample) of \(split): its outputs must be finite to serve as the "
                + "reference (check its weights and the data's scale)"
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason)"
        case let .resumeMismatch(path, differences):
            return "cannot resume from \(path): it was written by a search with other settings (\(differences.joined(separator: "; "))); "
                + "resume with the settings it was started with, or start afresh in another --out"
        case let .spaceTooLarge(candidates, limit):
            return "--strategy exhaustive: the space has \(String(format: "%.3g", candidates)) candidates, more than \(limit); use greedy, genetic or random"
        case let .nothingFits(ram, budgetRAM, flash, budgetFlash, tensors):
            let what = ram > budgetRAM ? "largest tensors in RAM" : flash > budgetFlash ? "largest weights" : "largest tensors"
            return "no config fits: the smallest needs \(ram) B of RAM (budget \(budgetRAM)) and \(flash) B of flash (budget \(budgetFlash))"
                + (tensors.isEmpty ? "" : "; \(what): \(tensors.joined(separator: ", "))")
        }
    }
}
