import Foundation

/// Runs one Slurm client command (sbatch, squeue, scancel) to its end and returns what it printed.
/// Experiments does not depend on Devices, whose ProcessRunner this mirrors in small.
enum SlurmCommand {
    /// `environment` is added to this process's; a tool that is not a path is looked up on the resulting PATH.
    /// A non-zero exit becomes `.commandFailed` with the tool's stderr; after `timeout` seconds the tool
    /// is terminated, since a client that cannot reach the controller keeps retrying.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String], in directory: String? = nil,
                    timeout: Double = 60) throws(ExperimentsError) -> String {
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        guard let executable = find(tool, path: environment["PATH"] ?? "/usr/bin:/bin") else { throw .toolNotFound(tool: tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw .commandFailed(tool: tool, status: -1, stderr: error.localizedDescription)
        }
        let deadline = Date().addingTimeInterval(timeout)
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        // Drain both pipes at once so that neither can fill and block the tool.
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
        timer.cancel()
        if process.terminationReason == .uncaughtSignal && Date() >= deadline { throw .timedOut(tool: tool, seconds: timeout) }
        guard process.terminationStatus == 0 else {
            throw .commandFailed(tool: tool, status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// `tool` itself when it is a path, else the first executable of that name on `path`.
    private static func find(_ tool: String, path: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
