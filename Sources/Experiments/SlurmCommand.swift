import Devices
import Foundation

/// Runs one Slurm client command (sbatch, squeue, scancel) to its end and returns what it printed.
enum SlurmCommand {
    /// `environment` is added to this process's; a tool that is not a path is looked up on the resulting PATH.
    /// A non-zero exit becomes `.commandFailed` with the tool's stderr; after `timeout` seconds the tool
    /// is terminated, since a client that cannot reach the controller keeps retrying.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String], in directory: String? = nil,
                    timeout: Double = 60) throws(ExperimentsError) -> String {
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        guard let executable = ProcessRunner.find(tool, path: environment["PATH"] ?? "/usr/bin:/bin") else { throw .toolNotFound(tool: tool) }
        let result: ProcessRunner.Result
        do { result = try ProcessRunner.run(executable, arguments, in: directory, timeout: timeout, environment: environment) } catch {
            throw .commandFailed(tool: tool, status: -1, stderr: error.description)
        }
        if result.timedOut { throw .timedOut(tool: tool, seconds: timeout) }
        guard result.status == 0 else { throw .commandFailed(tool: tool, status: result.status, stderr: result.stderr) }
        return result.stdout
    }
}
