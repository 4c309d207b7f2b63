import ArgumentParser
import Experiments
import Foundation
import Tuner

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Tabulate finished and unfinished runs: accuracy, cycles, memory and time per run; hypervolume and spread per strategy.",
        discussion: """
            PATH is a run directory (the --out of a tune run), a search log (log.jsonl), or a batch directory \
            (manifest.jsonl and runs/*/log.jsonl, maybe peers.json); give any mix. Cycles, RAM and flash are the pick's \
            as measured on the board's simulator where it was, else the cost model's estimates. The second table gives, \
            per model, target, RAM budget and strategy, the mean hypervolume of the fronts in (validation error, RAM) \
            over the seeds, and the spread of the pick's test accuracy. csv: the runs, a blank line, the strategies \
            (then the peers). Warnings (skipped log lines, unfinished runs) go to stderr.
            """)

    @Argument(help: ArgumentHelp("Run directories, search logs or batch directories.", valueName: "path"))
    var paths: [String]

    @Option(name: .long, help: ArgumentHelp("Output format: \(ReportTable.Format.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var format = ReportTable.Format.md.rawValue

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the report to this file instead of stdout.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("cloud-rtt"), help: ArgumentHelp("Add a table of each pick's latency on its board against a cloud round trip: the float model on this host for one input (measured now) plus this network round-trip time in ms (md only).", valueName: "ms"))
    var cloudRTT: Double?

    func validate() throws {
        if let cloudRTT, !(cloudRTT >= 0 && cloudRTT.isFinite) { throw ValidationError("--cloud-rtt must be 0 or more milliseconds, got \(cloudRTT)") }
        if ReportTable.Format(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)'; allowed: \(ReportTable.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let collection = try reporting { try RunCollection.load(paths) }
        for warning in collection.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        var text = ReportTable.render(RunReport(collection), as: ReportTable.Format(rawValue: format) ?? .md)
        if let cloudRTT {
            let resources = try reporting { try BundledResources.locate().get() }
            // The loader every command uses: it also imports a run's ONNX model, with the run's --data.
            let cloud = CloudComparison(collection, roundTripMilliseconds: cloudRTT, resources: resources) { model, data in
                let job = try LoadedJob.load(model: model, data: data)
                return (job.model.graph, job.dataset)
            }
            for warning in cloud.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            text += "\n" + cloud.markdown
        }
        guard let output else { return print(text, terminator: "") }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: output)) } catch {
            throw CommandError(ExperimentsError.cannotWrite(path: output, reason: error.localizedDescription))
        }
    }
}
