import ArgumentParser
import Foundation
import ModelIR
import Tuner

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark candidate evaluations per second: emulator BLAS path, scalar path, and compiled C, on each model's validation split.",
        discussion: "Build in release mode for meaningful numbers: ./tune bench (or swift run -c release tune bench).")

    @Argument(help: ArgumentHelp("Models to measure (default: every bundled model).", valueName: "model"))
    var models: [String] = []

    @Option(name: .long, help: ArgumentHelp("Config file or preset to evaluate.", valueName: "config"))
    var config = "datadriven"

    @Option(name: .long, help: "Seconds to spend on each measurement.")
    var seconds = 1.0

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600], got \(seconds)") }
    }

    func run() throws {
        let resources = try reporting { try BundledResources.locate().get() }
        let names = models.isEmpty ? resources.bundledModels : models
        var table = TextTable(["model", "val", "BLAS/s", "scalar/s", "C run/s", "C build+run/s", "BLAS:scalar", "BLAS:C run", "BLAS:C build+run"],
                              numeric: Set(1...8))
        for name in names {
            let job = try LoadedJob.load(model: name, data: nil)
            let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("mcutune-bench-\(UUID().uuidString.prefix(8))")
            let row = try reporting { () throws -> EvaluationBenchmark.Row in
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                return try EvaluationBenchmark.measure(model: job.model, dataset: job.dataset, config: config,
                                                       seconds: seconds, directory: directory)
            }
            func f(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }
            table.add([row.model, "\(row.samples)", f(row.blasPerSecond), f(row.scalarPerSecond), f(row.cRunPerSecond),
                       f(row.cBuildAndRunPerSecond), f(row.blasPerSecond / row.scalarPerSecond) + "x",
                       f(row.blasPerSecond / row.cRunPerSecond) + "x", f(row.blasPerSecond / row.cBuildAndRunPerSecond) + "x"])
        }
        print(table.render())
    }
}
