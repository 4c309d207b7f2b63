import Foundation

/// Errors of describing, submitting and watching a Slurm job array, each naming the option or
/// Slurm command concerned and what is allowed or what it said.
public enum SlurmError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A Slurm client command (sbatch, squeue, scancel) is not on PATH.
    case toolNotFound(tool: String)
    /// A Slurm command exited with a non-zero status; `stderr` is what it printed.
    case commandFailed(tool: String, status: Int32, stderr: String)
    /// A Slurm command did not finish in time (an unreachable controller makes clients retry for long).
    case timedOut(tool: String, seconds: Double)
    /// sbatch --parsable printed something other than a job id.
    case unexpectedOutput(tool: String, output: String)
    case invalidTimeLimit(String)
    /// An option that goes into an `#SBATCH` line or the array range has a value Slurm would not take.
    case invalidValue(option: String, value: String, allowed: String)
    case noTasks
    case emptyCommand(task: Int)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .toolNotFound(tool):
            return "\(tool) not found: install the Debian package slurm-client (and a cluster to submit to)"
        case let .commandFailed(tool, status, stderr):
            let output = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(tool) failed with exit status \(status): \(output.isEmpty ? "(it printed nothing)" : output)"
        case let .timedOut(tool, seconds):
            return "\(tool) did not finish within \(Int(seconds)) s: is the Slurm controller reachable (scontrol ping)?"
        case let .unexpectedOutput(tool, output):
            return "\(tool) printed '\(output)' where a job id was expected"
        case let .invalidTimeLimit(value):
            return "--time '\(value)' is not a Slurm time limit; allowed: MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, "
                + "DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS (e.g. 30, 2:00:00, 1-00:00:00) or UNLIMITED"
        case let .invalidValue(option, value, allowed):
            return "\(option) '\(value)' is not allowed: \(allowed)"
        case .noTasks:
            return "a Slurm job array needs at least one task"
        case let .emptyCommand(task):
            return "array task \(task) has an empty command line"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
