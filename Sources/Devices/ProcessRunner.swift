import Foundation

/// Runs an external program (a compiler, a harness) and captures its output.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut = false
    }

    /// Looks `tool` up on `path` (default: this process's PATH), or takes it as a path.
    public static func find(_ tool: String, path: String? = nil) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` to its end; after `timeout` seconds it is terminated (and `timedOut` set).
    /// `environment`, when given, replaces this process's for the child.
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                           timeout: Double? = nil, environment: [String: String]? = nil) throws(DeviceError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw .toolFailed(tool: executable, output: error.localizedDescription) }
        let timer = timeout.map { seconds -> DispatchWorkItem in
            let item = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
            return item
        }
        // Drain both pipes concurrently so neither can fill and block the child.
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
        timer?.cancel()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self),
                      timedOut: process.terminationReason == .uncaughtSignal && timeout != nil)
    }
}
