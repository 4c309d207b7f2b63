import ArgumentParser
import Evaluator

@main
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search for the fixed-point program that runs a trained model best on a microcontroller.",
        discussion: """
            With no subcommand, tunes a model for a board: `tune --budget-ram 2048 --target uno`.
            Without --model it uses the bundled default, \(defaultModelNote).
            """,
        version: "0.1.0",
        subcommands: [Run.self, Check.self, Measure.self, Calibrate.self, Inspect.self, Targets.self, Bench.self, Batch.self, ReportCommand.self, PlotCommand.self],
        defaultSubcommand: Run.self
    )

    static func main() {
        AllocatorTuning.keepLargeAllocations()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let defaultModelNote = "a FastGRNN speaker classifier on JapaneseVowels (models/fastgrnn-japanesevowels)"
}
