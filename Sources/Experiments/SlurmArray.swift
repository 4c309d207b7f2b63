import Foundation

/// A Slurm job array: N command lines run as the tasks 0...N-1 of one job, submitted as one sbatch
/// script. Each task's stdout and stderr go to `outputDirectory/slurm-JOBID_TASK.out`.
///
/// The script is plain bash: `#SBATCH` lines for the options, then `exec` of the task's command with
/// every argument shell-quoted, so a path with spaces or quotes reaches the program unchanged. Values
/// Slurm would reject only once the job runs (a time limit it cannot parse, a name it would split) are
/// rejected by `init`, so a `SlurmArray` that exists can be written and submitted.
public struct SlurmArray: Sendable, Equatable {
    /// What the array's tasks run. In every argument, the literal `taskIDPlaceholder` becomes the task's index.
    public enum Tasks: Sendable, Equatable {
        /// Task i runs `commands[i]`.
        case commands([[String]])
        /// `count` tasks run the same command line, told apart by the placeholder in it.
        case template([String], count: Int)
    }

    /// Written literally in an argument, it is expanded by the task's shell to the task's index.
    public static let taskIDPlaceholder = "$SLURM_ARRAY_TASK_ID"

    public let jobName: String
    public let workingDirectory: String
    public let tasks: Tasks
    /// Where the per-task logs go; created by `submit`, because Slurm fails a task whose log
    /// directory is missing without writing anything.
    public let outputDirectory: String
    public let partition: String?
    /// In Slurm's format (`30`, `2:00:00`, `1-00:00:00`); nil takes the partition's default.
    public let timeLimit: String?
    public let cpusPerTask: Int?
    /// At most this many tasks run at once (`--array=0-N%M`); nil leaves it to the cluster.
    public let maxRunning: Int?

    /// Relative directories are taken from the current directory. Throws on an empty task list or
    /// command, a time limit Slurm cannot parse, and names or paths that an `#SBATCH` line cannot carry.
    public init(jobName: String, workingDirectory: String, tasks: Tasks, outputDirectory: String,
                partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int? = nil,
                maxRunning: Int? = nil) throws(ExperimentsError) {
        self.jobName = jobName
        self.workingDirectory = Self.absolute(workingDirectory)
        self.tasks = tasks
        self.outputDirectory = Self.absolute(outputDirectory)
        self.partition = partition
        self.timeLimit = timeLimit
        self.cpusPerTask = cpusPerTask
        self.maxRunning = maxRunning
        try validate()
    }

    public var taskCount: Int {
        switch tasks {
        case let .commands(commands): commands.count
        case let .template(_, count): count
        }
    }

    /// The log of one task once the array has the id `jobID`.
    public func logPath(jobID: String, task: Int) -> String {
        (outputDirectory as NSString).appendingPathComponent("slurm-\(jobID)_\(task).out")
    }

    // MARK: The script

    /// The sbatch script, a bash script whose `#SBATCH` lines carry the options.
    public var script: String {
        let last = taskCount - 1
        var lines = ["#!/bin/bash"]
        lines.append("# Job array '\(jobName)' written by mcutune: \(taskCount) task(s), each logging to slurm-JOBID_TASK.out.")
        lines.append("#SBATCH --job-name=\(jobName)")
        lines.append("#SBATCH --array=0-\(last)" + (maxRunning.map { "%\($0)" } ?? ""))
        // %A is the array's job id and %a the task's index; a literal % in the directory is written %%.
        let logPattern = outputDirectory.replacingOccurrences(of: "%", with: "%%") + "/slurm-%A_%a.out"
        lines.append("#SBATCH --output=\(Self.sbatchValue(logPattern))")
        lines.append("#SBATCH --chdir=\(Self.sbatchValue(workingDirectory))")
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let timeLimit { lines.append("#SBATCH --time=\(timeLimit)") }
        if let cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(cpusPerTask)") }
        lines.append("set -euo pipefail")
        switch tasks {
        case let .template(command, _):
            lines.append("exec \(Self.shellCommand(command))")
        case let .commands(commands):
            lines.append("case \"$SLURM_ARRAY_TASK_ID\" in")
            for (task, command) in commands.enumerated() { lines.append("  \(task)) exec \(Self.shellCommand(command)) ;;") }
            lines.append("  *) echo \"array task $SLURM_ARRAY_TASK_ID: this array has tasks 0-\(last) only\" >&2; exit 2 ;;")
            lines.append("esac")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One argv as a shell command: each argument quoted, the placeholder left for the shell to expand.
    static func shellCommand(_ arguments: [String]) -> String {
        arguments.map { argument in
            argument.isEmpty ? shellQuoted(argument) : argument.components(separatedBy: taskIDPlaceholder)
                .map { $0.isEmpty ? "" : shellQuoted($0) }
                .joined(separator: "\"\(taskIDPlaceholder)\"")
        }.joined(separator: " ")
    }

    /// A word the shell reads back as exactly `text`: as it is when it has only characters the shell
    /// leaves alone, else in single quotes (a single quote in it written as `'\''`).
    static func shellQuoted(_ text: String) -> String {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,+@%")
        if !text.isEmpty, text.allSatisfy(plain.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// A path on an `#SBATCH` line. sbatch splits those at blanks and takes both kinds of quote as
    /// quoting, so a path goes in double quotes (`validate` has refused one that holds a double quote).
    private static func sbatchValue(_ path: String) -> String { "\"\(path)\"" }

    // MARK: Validation

    private func validate() throws(ExperimentsError) {
        switch tasks {
        case let .commands(commands):
            if commands.isEmpty { throw .noTasks }
            if let task = commands.firstIndex(where: \.isEmpty) { throw .emptyCommand(task: task) }
        case let .template(command, count):
            if count < 1 { throw .noTasks }
            if command.isEmpty { throw .emptyCommand(task: 0) }
        }
        let nameCharacters = "letters, digits, '.', '_', '+' and '-'"
        if !Self.isName(jobName) { throw .invalidValue(option: "job name", value: jobName, allowed: nameCharacters) }
        if let partition, !Self.isName(partition, also: ",") {
            throw .invalidValue(option: "--partition", value: partition, allowed: nameCharacters + ", and ',' between partitions")
        }
        if let timeLimit, !Self.isTimeLimit(timeLimit) { throw .invalidTimeLimit(timeLimit) }
        if let cpusPerTask, cpusPerTask < 1 {
            throw .invalidValue(option: "--cpus-per-task", value: "\(cpusPerTask)", allowed: "a whole number of 1 or more")
        }
        if let maxRunning, maxRunning < 1 {
            throw .invalidValue(option: "maximum running tasks", value: "\(maxRunning)", allowed: "a whole number of 1 or more")
        }
        // Inside an #SBATCH line a double quote would end the quoting, a backslash turns off %A and
        // %a, and a newline would end the line.
        for (option, path) in [("working directory", workingDirectory), ("output directory", outputDirectory)]
        where path.contains(where: { "\"\\\n\r".contains($0) }) {
            throw .invalidValue(option: option, value: path, allowed: "a path without double quotes, backslashes or newlines")
        }
    }

    private static func isName(_ text: String, also extra: String = "") -> Bool {
        !text.isEmpty && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "._+-\(extra)".contains($0) }
    }

    /// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or UNLIMITED/INFINITE.
    /// The first field may be any size (`90` minutes, `48:00:00`); the ones after it are clock fields.
    public static func isTimeLimit(_ text: String) -> Bool {
        if ["unlimited", "infinite"].contains(text.lowercased()) { return true }
        // A field is one or more ASCII digits ("٣" is a number to Swift, not to Slurm).
        func number(_ field: Substring) -> Int? {
            field.isEmpty || !field.allSatisfy({ $0.isASCII && $0.isNumber }) ? nil : Int(field)
        }
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2, let clock = dayParts.last else { return false }
        let hasDays = dayParts.count == 2
        if hasDays && number(dayParts[0]) == nil { return false }
        let fields = clock.split(separator: ":", omittingEmptySubsequences: false).map(number)
        guard (1...3).contains(fields.count), !fields.contains(nil) else { return false }
        let values = fields.compactMap { $0 }
        // After days the first field is hours, below 24; without days it may be any size. Minutes and
        // seconds stay below 60.
        if hasDays && values[0] >= 24 { return false }
        return values.dropFirst().allSatisfy { $0 < 60 }
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL.path
    }
}

// MARK: Submitting and watching

extension SlurmArray {
    /// Writes the script to `scriptPath` (default: `JOBNAME.sbatch` in the output directory), creates
    /// the output directory, submits the script with `sbatch --parsable` and returns the array's job id.
    /// `environment` is added to this process's for the Slurm commands (`SLURM_CONF` to pick a cluster).
    public func submit(scriptPath: String? = nil, environment: [String: String] = [:]) throws(ExperimentsError) -> String {
        let scriptPath = scriptPath.map(Self.absolute) ?? (outputDirectory as NSString).appendingPathComponent("\(jobName).sbatch")
        for directory in [outputDirectory, (scriptPath as NSString).deletingLastPathComponent] {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw .cannotWrite(path: directory, reason: error.localizedDescription)
            }
        }
        do { try script.write(toFile: scriptPath, atomically: true, encoding: .utf8) } catch {
            throw .cannotWrite(path: scriptPath, reason: error.localizedDescription)
        }
        let output = try SlurmCommand.run("sbatch", ["--parsable", scriptPath], environment: environment, in: workingDirectory)
        // --parsable prints "JOBID" or, on a federation, "JOBID;CLUSTER".
        let printed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let jobID = String(printed.prefix { $0 != ";" })
        guard !jobID.isEmpty, jobID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .unexpectedOutput(tool: "sbatch", output: printed)
        }
        return jobID
    }

    /// The states (PENDING, RUNNING, COMPLETING, ...) of the job's tasks that are still queued or
    /// running, one per line squeue prints (pending tasks may share one line). Empty once every task
    /// has finished, and also once the controller has forgotten the job (after its MinJobAge).
    public static func queuedStates(jobID: String, environment: [String: String] = [:]) throws(ExperimentsError) -> [String] {
        do {
            let output = try SlurmCommand.run("squeue", ["--noheader", "--jobs=\(jobID)", "--format=%T"], environment: environment)
            return output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } catch let .commandFailed(_, _, stderr) where stderr.contains("Invalid job id") {
            return []
        }
    }

    /// Whether any task of the job is still queued or running.
    public static func isQueued(jobID: String, environment: [String: String] = [:]) throws(ExperimentsError) -> Bool {
        try !queuedStates(jobID: jobID, environment: environment).isEmpty
    }

    /// Cancels every task of the job (`scancel JOBID`) that has not finished.
    public static func cancel(jobID: String, environment: [String: String] = [:]) throws(ExperimentsError) {
        _ = try SlurmCommand.run("scancel", [jobID], environment: environment)
    }
}
