import Devices
import Foundation

/// The gnuplot executable that draws `tune plot`'s figures (Debian: gnuplot-nox), and the quoting
/// of text in its scripts and data files.
public struct Gnuplot: Sendable {
    public static let package = "gnuplot-nox"
    public let executable: String

    /// Finds `gnuplot` on the PATH of `environment`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExperimentsError) -> Gnuplot {
        guard let executable = ProcessRunner.find("gnuplot", path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw .toolMissing(tool: "gnuplot", package: package)
        }
        return Gnuplot(executable: executable)
    }

    /// Runs `script` in its own directory (its data files are named relative to it). gnuplot's
    /// warnings (a skipped empty block) are returned; a failure throws with its output.
    @discardableResult
    public func render(script: String) throws(ExperimentsError) -> String {
        let directory = (script as NSString).deletingLastPathComponent
        let result: ProcessRunner.Result
        do { result = try ProcessRunner.run(executable, [(script as NSString).lastPathComponent], in: directory.isEmpty ? "." : directory) } catch {
            throw .toolFailed(tool: executable, script: script, output: error.description)
        }
        let output = result.stdout + result.stderr
        guard result.status == 0 else { throw .toolFailed(tool: "gnuplot", script: script, output: output) }
        return output
    }

    /// A gnuplot string literal.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// Text for a quoted field of a data file, which cannot hold a double quote or a line break.
    static func dataString(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ")
    }
}
