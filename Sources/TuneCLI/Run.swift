import ArgumentParser
import Foundation
import Hardware
import ModelIR
import Tuner

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Tune a model for a board within RAM and flash budgets (the default command).",
        discussion: """
            This version loads and checks the model and its dataset, evaluates the float model on the \
            validation and test splits, and reports it against the target's memories. The fixed-point \
            search lands next.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Board to tune for; see 'tune targets'.", valueName: "name"))
    var target = "uno"

    @Option(name: .customLong("budget-ram"), help: ArgumentHelp("RAM budget in bytes (default: the target's RAM).", valueName: "bytes"))
    var budgetRAM: Int?

    @Option(name: .customLong("budget-flash"), help: ArgumentHelp("Flash budget in bytes (default: the target's flash).", valueName: "bytes"))
    var budgetFlash: Int?

    @Option(name: .long, help: "Seed of every random choice; the same seed gives the same result.")
    var seed: UInt64 = 0

    @Option(name: .long, help: ArgumentHelp("Directory to write the run summary (summary.json) into.", valueName: "dir"))
    var out: String?

    func validate() throws {
        if let budgetRAM, budgetRAM <= 0 { throw ValidationError("--budget-ram must be a positive number of bytes, got \(budgetRAM)") }
        if let budgetFlash, budgetFlash <= 0 { throw ValidationError("--budget-flash must be a positive number of bytes, got \(budgetFlash)") }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let (board, ram, flash) = try reporting { () throws -> (Target, Int, Int) in
            let resources = try BundledResources.locate().get()
            let board = try TargetCatalog.load(directory: resources.targetsDirectory).target(named: target)
            let ram = budgetRAM ?? board.ramBytes, flash = budgetFlash ?? board.flashBytes
            if ram > board.ramBytes {
                throw TunerError.budgetExceedsTarget(option: "--budget-ram", bytes: ram, target: board.name, available: board.ramBytes)
            }
            if flash > board.flashBytes {
                throw TunerError.budgetExceedsTarget(option: "--budget-flash", bytes: flash, target: board.name, available: board.flashBytes)
            }
            return (board, ram, flash)
        }
        let job = try LoadedJob.load(model: modelOptions.model, data: modelOptions.data)
        let splits = ["val", "test"].filter(job.dataset.availableSplits.contains)
        let baseline = try reporting { try FloatBaseline.measure(job.model, dataset: job.dataset, splits: splits) }
        let graph = job.model.graph
        let floatBytes = graph.parameterCount * 4

        print("model    \(graph.name) (\(job.model.directory))")
        print("target   \(board.name): \(board.board), \(board.mcu), \(Format.hertz(board.clockHz)), "
              + "\(Format.bytes(board.ramBytes)) RAM, \(Format.bytes(board.flashBytes)) flash")
        print("budgets  RAM \(Format.count(ram)) B, flash \(Format.count(flash)) B; seed \(seed)")
        for r in baseline.results {
            print("float    \(r.split): \(Format.percent(r.accuracy)) of \(r.samples)")
        }
        print("weights  \(Format.count(graph.parameterCount)) parameters: \(Format.bytes(floatBytes)) as float32"
              + (floatBytes > flash ? ", over the flash budget" : "")
              + (board.hasFPU ? "" : "; \(board.mcu) has no FPU, so the program will be fixed-point"))
        if let out { try writeSummary(to: out, board: board, ram: ram, flash: flash, baseline: baseline, model: job.model) }
    }

    private func writeSummary(to directory: String, board: Target, ram: Int, flash: Int, baseline: FloatBaseline,
                              model: LoadedModel) throws {
        var splits: [String: Any] = [:]
        for r in baseline.results { splits[r.split] = ["samples": r.samples, "float_accuracy": r.accuracy] }
        let summary: [String: Any] = [
            "model": model.graph.name, "model_path": model.directory, "target": board.name,
            "budget_ram_bytes": ram, "budget_flash_bytes": flash, "seed": seed, "float": splits,
            "parameters": model.graph.parameterCount,
        ]
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent("summary.json"))
        } catch {
            throw CommandError("--out \(directory): cannot write summary.json (\(error.localizedDescription))")
        }
        print("wrote    \((directory as NSString).appendingPathComponent("summary.json"))")
    }
}
