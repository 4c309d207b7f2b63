/// Errors of `tune report` and `tune plot`: reading runs, and drawing figures from them; each names the path or tool
/// concerned and what is allowed instead.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An input that is neither a run directory, a search log, nor a batch directory.
    case notARun(path: String)
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// `peers.json` is not an array of objects with at least a `name`.
    case malformedPeers(path: String, reason: String)
    /// A figure file whose extension gnuplot is not asked to write.
    case unsupportedFigure(path: String, allowed: [String])
    /// The runs hold nothing to draw on the chosen axes.
    case nothingToPlot(reason: String)
    /// A program the tool needs is not installed; `package` is the Debian package that provides it.
    case toolMissing(tool: String, package: String)
    case toolFailed(tool: String, script: String, output: String)

    public var description: String {
        switch self {
        case let .notARun(path):
            return "\(path) is neither a run directory (with log.jsonl), a search log (.jsonl), nor a batch directory "
                + "(with manifest.jsonl and runs/*/log.jsonl)"
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
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
