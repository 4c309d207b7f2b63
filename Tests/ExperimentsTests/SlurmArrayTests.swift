import Foundation
import Testing
import TestSupport
@testable import Experiments

@Suite struct SlurmArrayTests {
    // MARK: The script

    @Test func scriptRunsTaskIByIndexWithEveryArgumentQuoted() throws {
        let array = try SlurmArray(jobName: "mcutune-batch", workingDirectory: "/work/runs", tasks: .commands([
            ["/opt/tune", "batch", "a b.yaml", "--out", "/work/runs"],
            ["/opt/tune", "batch", "it's.yaml", "--note", ""],
        ]), outputDirectory: "/work/runs/logs", partition: "short", timeLimit: "2:00:00", cpusPerTask: 2)
        #expect(array.script == #"""
            #!/bin/bash
            # Job array 'mcutune-batch' written by mcutune: 2 task(s), each logging to slurm-JOBID_TASK.out.
            #SBATCH --job-name=mcutune-batch
            #SBATCH --array=0-1
            #SBATCH --output="/work/runs/logs/slurm-%A_%a.out"
            #SBATCH --chdir="/work/runs"
            #SBATCH --partition=short
            #SBATCH --time=2:00:00
            #SBATCH --cpus-per-task=2
            set -euo pipefail
            case "$SLURM_ARRAY_TASK_ID" in
              0) exec /opt/tune batch 'a b.yaml' --out /work/runs ;;
              1) exec /opt/tune batch 'it'\''s.yaml' --note '' ;;
              *) echo "array task $SLURM_ARRAY_TASK_ID: this array has tasks 0-1 only" >&2; exit 2 ;;
            esac

            """#)
        #expect(array.logPath(jobID: "42", task: 1) == "/work/runs/logs/slurm-42_1.out")
    }

    @Test func templateLeavesTheTaskIDToTheShell() throws {
        let array = try SlurmArray(jobName: "grid", workingDirectory: "/w", tasks: .template(
            ["/opt/tune", "batch", "c.yaml", "--task", "$SLURM_ARRAY_TASK_ID", "--log", "run $SLURM_ARRAY_TASK_ID.txt"], count: 3),
            outputDirectory: "/w/100% logs", maxRunning: 2)
        #expect(array.taskCount == 3)
        #expect(array.script == #"""
            #!/bin/bash
            # Job array 'grid' written by mcutune: 3 task(s), each logging to slurm-JOBID_TASK.out.
            #SBATCH --job-name=grid
            #SBATCH --array=0-2%2
            #SBATCH --output="/w/100%% logs/slurm-%A_%a.out"
            #SBATCH --chdir="/w"
            set -euo pipefail
            exec /opt/tune batch c.yaml --task "$SLURM_ARRAY_TASK_ID" --log 'run '"$SLURM_ARRAY_TASK_ID".txt

            """#)
    }

    /// bash must read every quoted argument back as it was, with the placeholder expanded.
    @Test func bashReadsTheQuotedArgumentsBackUnchanged() throws {
        let arguments = ["", "plain", "a b", "it's", #""q""#, "$HOME", "`date`", #"a\b"#, "new\nline", "tab\there", "*", "~",
                         "!x", "ü", "-n", "100%", "$SLURM_ARRAY_TASK_ID", "x$SLURM_ARRAY_TASK_ID y", "'$SLURM_ARRAY_TASK_ID'"]
        let command = "SLURM_ARRAY_TASK_ID=7; printf '%s\\0' " + SlurmArray.shellCommand(arguments)
        let output = try SlurmCommand.run("/bin/bash", ["-c", command], environment: [:])
        let expected = arguments.map { $0.replacingOccurrences(of: "$SLURM_ARRAY_TASK_ID", with: "7") }
        #expect(output.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init) == expected)
    }

    @Test func relativeDirectoriesAreTakenFromTheCurrentDirectory() throws {
        let array = try SlurmArray(jobName: "j", workingDirectory: ".", tasks: .template(["true"], count: 1), outputDirectory: "logs")
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        #expect(array.workingDirectory == here)
        #expect(array.outputDirectory == here + "/logs")
        #expect(array.script.contains("#SBATCH --array=0-0\n"))
    }

    // MARK: Validation

    @Test func timeLimitsInSlurmFormatsAreAccepted() {
        for limit in ["30", "0", "90", "30:00", "2:00:00", "48:00:00", "1-0", "1-00:00", "1-00:00:00", "7-12:30:59", "UNLIMITED", "infinite"] {
            #expect(SlurmArray.isTimeLimit(limit), "\(limit)")
        }
        for limit in ["", "1h", "2:60:00", "1:2:3:4", "-1", "1-24:00:00", "1--2", "1-2-3", ":30", "30:", "1-", " 30", "1.5", "٣٠", "1-1:60"] {
            #expect(!SlurmArray.isTimeLimit(limit), "\(limit)")
        }
    }

    @Test func aBadTimeLimitNamesTheFormats() {
        #expect(throws: ExperimentsError.invalidTimeLimit("2h")) {
            try SlurmArray(jobName: "j", workingDirectory: "/w", tasks: .template(["true"], count: 1), outputDirectory: "/w", timeLimit: "2h")
        }
        #expect(ExperimentsError.invalidTimeLimit("2h").description == "--time '2h' is not a Slurm time limit; allowed: MINUTES, MINUTES:SECONDS, "
            + "HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS (e.g. 30, 2:00:00, 1-00:00:00) or UNLIMITED")
    }

    @Test func whatSlurmCannotTakeIsRefusedBeforeSubmitting() {
        func make(name: String = "j", directory: String = "/w", tasks: SlurmArray.Tasks = .template(["true"], count: 1),
                  partition: String? = nil, cpus: Int? = nil) throws(ExperimentsError) {
            _ = try SlurmArray(jobName: name, workingDirectory: directory, tasks: tasks, outputDirectory: "/w/logs",
                               partition: partition, cpusPerTask: cpus)
        }
        #expect(throws: ExperimentsError.noTasks) { try make(tasks: .commands([])) }
        #expect(throws: ExperimentsError.noTasks) { try make(tasks: .template(["true"], count: 0)) }
        #expect(throws: ExperimentsError.emptyCommand(task: 1)) { try make(tasks: .commands([["true"], []])) }
        #expect(throws: ExperimentsError.self) { try make(name: "my run") }
        #expect(throws: ExperimentsError.self) { try make(partition: "a'b") }
        #expect(throws: ExperimentsError.invalidValue(option: "--cpus-per-task", value: "0", allowed: "a whole number of 1 or more")) { try make(cpus: 0) }
        #expect(throws: ExperimentsError.self) { try make(directory: #"/w/"quoted""#) }
        #expect(throws: Never.self) { try make(name: "mcutune_batch-2.v1", partition: "short,long") }
        #expect(ExperimentsError.invalidValue(option: "--partition", value: "a'b", allowed: "letters").description == "--partition 'a'b' is not allowed: letters")
    }

    // MARK: Submitting, with stand-ins for sbatch

    @Test func missingSbatchSaysWhatToInstall() throws {
        let empty = makeTemporaryDirectory("no-slurm")
        let array = try SlurmArray(jobName: "j", workingDirectory: empty, tasks: .template(["true"], count: 2),
                                   outputDirectory: empty + "/logs")
        #expect(throws: ExperimentsError.toolNotFound(tool: "sbatch")) { try array.submit(environment: ["PATH": empty]) }
        #expect(ExperimentsError.toolNotFound(tool: "sbatch").description
            == "sbatch not found: install the Debian package slurm-client (and a cluster to submit to)")
        // The script and the log directory are there already, for a look at what would have been submitted.
        #expect(FileManager.default.fileExists(atPath: empty + "/logs/j.sbatch"))
    }

    @Test func failingSbatchReportsItsStatusAndStderr() throws {
        let stub = try slurmStub(["sbatch"])
        let array = try SlurmArray(jobName: "j", workingDirectory: stub, tasks: .template(["true"], count: 1), outputDirectory: stub + "/logs")
        let error = #expect(throws: ExperimentsError.self) {
            try array.submit(environment: ["PATH": stub, "SLURM_STUB_STDERR": "sbatch: error: invalid partition specified: nope", "SLURM_STUB_STATUS": "1"])
        }
        #expect(error?.description == "sbatch failed with exit status 1: sbatch: error: invalid partition specified: nope")
    }

    @Test func theJobIDIsReadFromParsableOutput() throws {
        let stub = try slurmStub(["sbatch"])
        let array = try SlurmArray(jobName: "j", workingDirectory: stub, tasks: .template(["true"], count: 1), outputDirectory: stub + "/logs")
        let arguments = stub + "/arguments.txt"
        let jobID = try array.submit(scriptPath: stub + "/scripts/job.sh",
                                     environment: ["PATH": stub, "SLURM_STUB_STDOUT": "1234;cluster-a", "SLURM_STUB_ARGUMENTS": arguments])
        #expect(jobID == "1234")
        #expect(try String(contentsOfFile: arguments, encoding: .utf8) == "--parsable\n\(stub)/scripts/job.sh\n")
        #expect(FileManager.default.contents(atPath: stub + "/scripts/job.sh") == Data(array.script.utf8))

        let error = #expect(throws: ExperimentsError.self) {
            try array.submit(environment: ["PATH": stub, "SLURM_STUB_STDOUT": "Submitted batch job 12"])
        }
        #expect(error == .unexpectedOutput(tool: "sbatch", output: "Submitted batch job 12"))
    }

    @Test func queuedStatesAreSqueuesLines() throws {
        let stub = try slurmStub(["squeue", "scancel"])
        let forgotten = ["PATH": stub, "SLURM_STUB_STDERR": "slurm_load_jobs error: Invalid job id specified", "SLURM_STUB_STATUS": "1"]
        #expect(try SlurmArray.isQueued(jobID: "7", environment: forgotten) == false)
        let arguments = stub + "/arguments.txt"
        #expect(try SlurmArray.queuedStates(jobID: "7", environment: ["PATH": stub, "SLURM_STUB_STDOUT": "RUNNING\nPENDING", "SLURM_STUB_ARGUMENTS": arguments])
            == ["RUNNING", "PENDING"])
        #expect(try String(contentsOfFile: arguments, encoding: .utf8) == "--noheader\n--jobs=7\n--format=%T\n")
        // Any other failure of squeue is an error, not "finished".
        #expect(throws: ExperimentsError.commandFailed(tool: "squeue", status: 1, stderr: "squeue: error: Unable to contact slurm controller\n")) {
            try SlurmArray.isQueued(jobID: "7", environment: ["PATH": stub, "SLURM_STUB_STDERR": "squeue: error: Unable to contact slurm controller", "SLURM_STUB_STATUS": "1"])
        }
        try SlurmArray.cancel(jobID: "7", environment: ["PATH": stub, "SLURM_STUB_ARGUMENTS": arguments])
        #expect(try String(contentsOfFile: arguments, encoding: .utf8) == "7\n")
    }

    /// A directory in which each of `tools` is a link to Tests/Fixtures/slurm-stub/slurm-command.
    private func slurmStub(_ tools: [String]) throws -> String {
        let directory = makeTemporaryDirectory("slurm-stub")
        for tool in tools {
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + tool,
                                                       withDestinationPath: Repository.path("Tests/Fixtures/slurm-stub/slurm-command"))
        }
        return directory
    }

    // MARK: On a real cluster

    /// Starts a private single-node cluster (scripts/slurm-cluster), runs a 3-task array whose tasks
    /// each write a file, cancels a second array mid-run, and stops the cluster whatever happened.
    /// (The time limits only stop a hang: on a loaded 2-core machine the cluster takes minutes, and a
    /// task that slurmd launches in a second when idle took over 90 seconds to start beside four
    /// simulators.)
    @Test(.enabled(if: SlurmCluster.canStart, SlurmCluster.whyNot), .timeLimit(.minutes(20)))
    func aThreeTaskArrayRunsOnALocalCluster() async throws {
        let cluster = try SlurmCluster.start()
        defer { #expect(cluster.stop() == nil) }
        let environment = ["SLURM_CONF": cluster.configPath]

        // A directory with a blank and a quote in its name: the script's quoting is on trial too.
        let directory = makeTemporaryDirectory("slurm array's")
        let array = try SlurmArray(
            jobName: "mcutune-test", workingDirectory: directory,
            tasks: .template(["/bin/sh", "-c", #"echo "task $1 of $SLURM_ARRAY_JOB_ID" > task-$1.txt"#, "sh", "$SLURM_ARRAY_TASK_ID"], count: 3),
            outputDirectory: directory + "/logs", timeLimit: "5")
        let jobID = try array.submit(environment: environment)
        try await waitUntilDone(jobID, environment: environment, logs: array)
        for task in 0..<3 {
            let written = try? String(contentsOfFile: "\(directory)/task-\(task).txt", encoding: .utf8)
            #expect(written == "task \(task) of \(jobID)\n", "task \(task); its log: \(log(of: array, jobID, task))")
        }

        // A second array, cancelled while it runs.
        let sleeper = try SlurmArray(jobName: "sleeper", workingDirectory: directory, tasks: .template(["sleep", "60"], count: 2),
                                     outputDirectory: directory + "/logs")
        let sleeperID = try sleeper.submit(environment: environment)
        try await waitUntil("array \(sleeperID) runs") {
            try SlurmArray.queuedStates(jobID: sleeperID, environment: environment).contains("RUNNING")
        }
        try SlurmArray.cancel(jobID: sleeperID, environment: environment)
        try await waitUntilDone(sleeperID, environment: environment, logs: sleeper)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func waitUntilDone(_ jobID: String, environment: [String: String], logs array: SlurmArray) async throws {
        try await waitUntil("array \(jobID) finishes; logs: \((0..<array.taskCount).map { log(of: array, jobID, $0) })") {
            try !SlurmArray.isQueued(jobID: jobID, environment: environment)
        }
    }

    private func waitUntil(_ what: @autoclosure () -> String, timeout: Duration = .seconds(300),
                           _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting until \(what())")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func log(of array: SlurmArray, _ jobID: String, _ task: Int) -> String {
        (try? String(contentsOfFile: array.logPath(jobID: jobID, task: task), encoding: .utf8)) ?? "(none)"
    }
}

/// A cluster from `scripts/slurm-cluster start`, known by the directory it keeps everything in.
struct SlurmCluster {
    var directory: String
    var configPath: String

    private static let script = Repository.path("scripts/slurm-cluster")
    /// The daemons are in /usr/sbin, which the script adds to PATH too.
    private static let tools = ["sbatch", "squeue", "scancel", "slurmctld", "slurmd", "munged"]
    private static let missingTools = tools.filter { tool in
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin"
        return !path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    static let canStart = missingTools.isEmpty && geteuid() == 0
    static var whyNot: Comment {
        if geteuid() != 0 { return "a local Slurm cluster needs root" }
        return Comment(rawValue: "needs the Debian packages slurmctld, slurmd, slurm-client and munge "
            + "(scripts/install-system-packages scripts/test-packages.txt); missing: \(missingTools.joined(separator: ", "))")
    }

    /// Reads the `export NAME='VALUE'` lines the script prints.
    static func start() throws -> SlurmCluster {
        let output = try SlurmCommand.run(script, ["start"], environment: [:], timeout: 90)
        var exported: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if assignment.count == 2 {
                exported[String(assignment[0])] = assignment[1].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
        }
        guard let directory = exported["SLURM_TEST_DIR"], let config = exported["SLURM_CONF"] else {
            throw ExperimentsError.unexpectedOutput(tool: script, output: output)
        }
        return SlurmCluster(directory: directory, configPath: config)
    }

    /// Nil once every daemon is stopped and the directory removed, else what went wrong.
    func stop() -> ExperimentsError? {
        do { _ = try SlurmCommand.run(Self.script, ["stop", directory], environment: [:], timeout: 90) } catch { return error }
        return FileManager.default.fileExists(atPath: directory) ? .cannotWrite(path: directory, reason: "still there after stop") : nil
    }
}
