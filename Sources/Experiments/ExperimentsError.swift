import Foundation

/// The errors of the Experiments module, each naming the file, option, directory or tool concerned and
/// what is allowed or what to do instead.
///
/// - Files, shared by all: ``cannotRead(path:reason:)``, ``cannotWrite(path:reason:)``.
/// - Batches (`tune batch`) and run directories: ``badConfig(_:)``, ``otherConfig(directory:kept:)``,
///   ``noExecutable``, ``unknownTask(index:count:path:)``, ``directoryInUse(directory:pid:)``,
///   ``cannotLock(path:reason:)``.
/// - Slurm job arrays (`tune batch --slurm`): ``toolNotFound(tool:)``, ``commandFailed(tool:status:stderr:)``,
///   ``timedOut(tool:seconds:)``, ``unexpectedOutput(tool:output:)``, ``invalidTimeLimit(_:)``,
///   ``invalidValue(option:value:allowed:)``, ``noTasks``, ``emptyCommand(task:)``.
/// - Reports and plots (`tune report`, `tune plot`): ``notARun(path:)``, ``malformedPeers(path:reason:)``,
///   ``unsupportedFigure(path:allowed:)``, ``nothingToPlot(reason:)``, ``toolMissing(tool:package:)``,
///   ``toolFailed(tool:script:output:)``.
public enum ExperimentsError: Error, Equatable, Sendable, CustomStringConvertible {
    // Files.
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    // Batches and run directories.
    /// A batch config that cannot be read or is not allowed; the text names the file, the line, the key and
    /// what is allowed, and is the whole message.
    case badConfig(String)
    /// The batch directory was started with another config, kept there as `kept`.
    case otherConfig(directory: String, kept: String)
    case noExecutable
    /// `--task` beyond the runs that `path` (the pending runs of a Slurm submission) lists.
    case unknownTask(index: Int, count: Int, path: String)
    /// Another process holds the lock on a run directory; `pid` is what it wrote in the lock file.
    case directoryInUse(directory: String, pid: String)
    /// The lock file of a run directory cannot be created or opened.
    case cannotLock(path: String, reason: String)

    // Slurm job arrays.
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

    // Reports and plots.
    /// An input that is neither a run directory, a search log, nor a batch directory.
    case notARun(path: String)
    /// `peers.json` is not an array of objects with at least a `name`.
    case malformedPeers(path: String, reason: String)
    /// A figure file whose extension gnuplot is not asked to write.
    case unsupportedFigure(path: String, allowed: [String])
    /// The runs hold nothing to draw on the chosen axes.
    case nothingToPlot(reason: String)
    /// A program a report or plot needs is not installed; `package` is the Debian package that provides it.
    case toolMissing(tool: String, package: String)
    /// A program a plot runs (gnuplot) failed on `script`; `output` is what it printed.
    case toolFailed(tool: String, script: String, output: String)

    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"

        case let .badConfig(message):
            return message
        case let .otherConfig(directory, kept):
            return "\(directory) holds a batch of another config (\(kept)); give that config to continue it, or choose another --out"
        case .noExecutable:
            return "cannot find the tune executable to start runs with"
        case let .unknownTask(index, count, path):
            return "--task \(index): \(path) lists \(count) runs (0 to \(count - 1))"
        case let .directoryInUse(directory, pid):
            return "\(directory) is in use by another tune run (pid \(pid)); wait for it, or choose another --out"
        case let .cannotLock(path, reason):
            return "cannot lock \(path): \(reason)"

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

        case let .notARun(path):
            return "\(path) is neither a run directory (with log.jsonl), a search log (.jsonl), nor a batch directory "
                + "(with manifest.jsonl and runs/*/log.jsonl)"
        case let .malformedPeers(path, reason):
            return "\(path): \(reason); expected an array of objects like "
                + #"{"name": "SeeDot", "model": "mlp-digits", "target": "uno", "accuracy": 0.95, "milliseconds": 12.0, "ram_bytes": 1500, "flash_bytes": 20000}"#
                + " (every field but name optional)"
        case let .unsupportedFigure(path, allowed):
            return "cannot draw \(path): the figure's extension must be one of " + allowed.map { "." + $0 }.joined(separator: ", ")
        case let .nothingToPlot(reason):
            return "nothing to plot: \(reason)"
        case let .toolMissing(tool, package):
            return "'\(tool)' is not installed; install it with: apt-get install -y \(package) (or run scripts/install-system-packages)"
        case let .toolFailed(tool, script, output):
            let lines = output.split(separator: "\n").prefix(12).joined(separator: "\n")
            return "\(tool) failed on \(script):\n\(lines)"
        }
    }
}
