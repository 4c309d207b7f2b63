import ArgumentParser
import Foundation
import Evaluator

@main
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search for the fixed-point program that runs a trained model best on a microcontroller.",
        discussion: """
            With no subcommand, tunes a model for a board: `tune --budget-ram 2048 --target uno`.
            Without --model it uses the bundled default, \(defaultModelNote).
            Your own model: export it to ONNX and pass the file and a dataset directory \
            (docs/model-format.md#datasets): `tune --model my.onnx --data DIR --target uno --budget-ram 2048`; \
            `tune inspect my.onnx --data DIR` shows how it was imported.
            """,
        version: "0.1.0",
        subcommands: [Run.self, Check.self, Measure.self, Calibrate.self, Inspect.self, Targets.self, Bench.self, Batch.self, ReportCommand.self, PlotCommand.self],
        defaultSubcommand: Run.self
    )

    static func main() {
        AllocatorTuning.keepLargeAllocations()
        // `tune help NAME` for a NAME that is no command would print the overview and exit 0.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "help", arguments.count >= 2,
           !configuration.subcommands.contains(where: { $0._commandName == arguments[1] }) {
            let names = configuration.subcommands.map { $0._commandName }
            FileHandle.standardError.write(Data("Error: no command '\(arguments[1])'; commands: \(names.joined(separator: ", "))\n".utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(attachingNegativeValues(arguments))
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// ArgumentParser reads `--budget-ram -5` as an option without its value ("Missing value");
    /// written `--budget-ram=-5`, the option's own check says what is allowed.
    static func attachingNegativeValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index], next = index + 1 < arguments.endIndex ? arguments[index + 1] : nil
            if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="), let next,
               next.count > 1, next.hasPrefix("-"), next.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true {
                result.append("\(argument)=\(next)")
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    static let defaultModelNote = "a FastGRNN speaker classifier on JapaneseVowels (models/fastgrnn-japanesevowels)"
}
