import Dispatch
import Foundation

/// The gnuplot executable that draws `tune plot`'s figures (Debian: gnuplot-nox), and the quoting
/// of text in its scripts and data files.
public struct Gnuplot: Sendable {
    public static let package = "gnuplot-nox"
    public let executable: String

    /// Finds `gnuplot` on the PATH of `environment`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExperimentsError) -> Gnuplot {
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/gnuplot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return Gnuplot(executable: candidate) }
        }
        throw .toolMissing(tool: "gnuplot", package: package)
    }

    /// Runs `script` in its own directory (its data files are named relative to it). gnuplot's
    /// warnings (a skipped empty block) are returned; a failure throws with its output.
    @discardableResult
    public func render(script: String) throws(ExperimentsError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [(script as NSString).lastPathComponent]
        process.currentDirectoryURL = URL(fileURLWithPath: (script as NSString).deletingLastPathComponent.isEmpty
            ? "." : (script as NSString).deletingLastPathComponent)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw .toolFailed(tool: executable, script: script, output: error.localizedDescription) }
        // Drain both pipes concurrently so neither can fill and block gnuplot.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let output = String(decoding: outData + errData, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw .toolFailed(tool: "gnuplot", script: script, output: output) }
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
