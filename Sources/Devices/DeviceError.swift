/// Errors of building and running programs on boards and simulators, each naming the tool, file or
/// board concerned and what to do about it.
public enum DeviceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A program the tool needs is not installed; `package` is the Debian package that provides it.
    case toolMissing(tool: String, package: String)
    case toolFailed(tool: String, output: String)
    case cannotWrite(path: String, reason: String)
    /// The program's static data (or code) alone exceeds the board's memory: the link fails.
    case doesNotFit(memory: String, target: String, detail: String)
    case unboundedStack(elf: String, reason: String)
    case untrustedSimulation(elf: String, hazards: [String])
    /// The firmware ran but did not finish as it should (timeout, fault, no report).
    case simulationFailed(simulator: String, elf: String, reason: String)
    /// The board cannot be built or run here (an unknown core, a memory the simulator lacks).
    case unsupported(target: String, reason: String)

    public var description: String {
        switch self {
        case let .toolMissing(tool, package):
            return "'\(tool)' is not installed; install it with: apt-get install -y \(package) (or run scripts/install-system-packages)"
        case let .toolFailed(tool, output):
            let lines = output.split(separator: "\n").prefix(12).joined(separator: "\n")
            return "\(tool) failed:\n\(lines)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .doesNotFit(memory, target, detail):
            return "the program does not fit the \(memory) of target '\(target)': \(detail)"
        case let .unboundedStack(elf, reason):
            return "cannot bound the stack of \(elf): \(reason)"
        case let .untrustedSimulation(elf, hazards):
            return "simavr 1.6 decodes \(hazards.count) instruction pair(s) of \(elf) wrongly (a skip before adiw/sbiw), so its run cannot be trusted: \(hazards.prefix(3).joined(separator: "; "))"
        case let .simulationFailed(simulator, elf, reason):
            return "\(simulator) run of \(elf) failed: \(reason)"
        case let .unsupported(target, reason):
            return "target '\(target)': \(reason)"
        }
    }
}
