/// Errors of the jobs the tool runs, each naming the option or file concerned and what is allowed.
public enum TunerError: Error, Equatable, Sendable, CustomStringConvertible {
    case resourcesNotFound(searched: [String])
    case noDataset(model: String)
    case budgetExceedsTarget(option: String, bytes: Int, target: String, available: Int)
    case toolMissing(tool: String, package: String)
    case toolFailed(tool: String, output: String)
    case cannotWrite(path: String, reason: String)
    case spaceTooLarge(candidates: Double, limit: Int)
    case unboundedStack(elf: String, reason: String)
    case untrustedSimulation(elf: String, hazards: [String])
    case nothingFits(smallestRAM: Int, budgetRAM: Int, smallestFlash: Int, budgetFlash: Int, largestTensors: [String])

    public var description: String {
        switch self {
        case let .resourcesNotFound(searched):
            return "cannot find the bundled models and configs/targets (searched \(searched.joined(separator: ", "))); set MCUTUNE_HOME to the checkout"
        case let .noDataset(model):
            return "model '\(model)' names no dataset; pass --data DIR"
        case let .budgetExceedsTarget(option, bytes, target, available):
            return "\(option) \(bytes) exceeds the \(available) bytes that target '\(target)' has"
        case let .toolMissing(tool, package):
            return "'\(tool)' is not installed; install it with: apt-get install -y \(package)"
        case let .toolFailed(tool, output):
            let lines = output.split(separator: "\n").prefix(12).joined(separator: "\n")
            return "\(tool) failed:\n\(lines)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .spaceTooLarge(candidates, limit):
            return "--strategy exhaustive: the space has \(String(format: "%.3g", candidates)) candidates, more than \(limit); use greedy, genetic or random"
        case let .unboundedStack(elf, reason):
            return "cannot bound the stack of \(elf): \(reason)"
        case let .untrustedSimulation(elf, hazards):
            return "simavr 1.6 decodes \(hazards.count) instruction pair(s) of \(elf) wrongly (a skip before adiw/sbiw), so its run cannot be trusted: \(hazards.prefix(3).joined(separator: "; "))"
        case let .nothingFits(ram, budgetRAM, flash, budgetFlash, tensors):
            return "no config fits: the smallest needs \(ram) B of RAM (budget \(budgetRAM)) and \(flash) B of flash (budget \(budgetFlash)); largest tensors: \(tensors.joined(separator: ", "))"
        }
    }
}
