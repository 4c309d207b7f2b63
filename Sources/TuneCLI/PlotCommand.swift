import ArgumentParser
import Experiments
import Foundation

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw accuracy against latency, RAM or flash for one or more runs with gnuplot: candidates, Pareto front, pick, baselines.",
        discussion: """
            PATH is a run directory, a search log (log.jsonl) or a batch directory, as for 'tune report'. Every scored \
            candidate is a faint point; the front of those within the budgets (in these two axes) a step line; the pick \
            a large triangle, where it was measured on the board's simulator when it was; the uniform 16- and 8-bit \
            programs a square and a diamond; the float model a dashed line; the budget a vertical line (--x ram, flash); \
            peers from a batch's peers.json labelled points. Several runs are overlaid, a colour each; several models \
            give FILE-MODEL.EXT per model and an overview with a panel per model in FILE.EXT; a batch directory gives \
            FILE-MODEL-BOARD.EXT per model and board, each with one run per strategy and RAM budget (the lowest seed; \
            `tune report` gives the spread over seeds), and an overview of them all.
            The gnuplot script (FILE.gp) and data (FILE-*.dat) are kept beside the figure: restyle and rerun \
            'gnuplot FILE.gp' in that directory. Needs gnuplot (Debian: gnuplot-nox).
            """)

    @Argument(help: ArgumentHelp("Run directories, search logs or batch directories.", valueName: "path"))
    var paths: [String]

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("The figure: a .\(ParetoPlot.extensions.joined(separator: ", .")) file.", valueName: "file"))
    var output: String

    @Option(name: .customLong("x"), help: ArgumentHelp("Horizontal axis: latency (ms on the board), ram or flash (bytes).", valueName: "axis"))
    var xAxis = ParetoPlot.XAxis.latency.rawValue

    @Option(name: .customLong("y"), help: ArgumentHelp("Vertical axis: val (validation accuracy, every candidate) or test (only picks and the float model have one).", valueName: "split"))
    var yAxis = ParetoPlot.YAxis.val.rawValue

    func validate() throws {
        if ParetoPlot.XAxis(rawValue: xAxis) == nil {
            throw ValidationError("unknown --x '\(xAxis)'; allowed: \(ParetoPlot.XAxis.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if ParetoPlot.YAxis(rawValue: yAxis) == nil {
            throw ValidationError("unknown --y '\(yAxis)'; allowed: \(ParetoPlot.YAxis.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do { _ = try ParetoPlot.figureFormat(output) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        let plot = ParetoPlot(x: ParetoPlot.XAxis(rawValue: xAxis) ?? .latency, y: ParetoPlot.YAxis(rawValue: yAxis) ?? .val)
        let collection = try reporting { try RunCollection.load(paths) }
        for warning in collection.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let drawn = try reporting { try plot.draw(collection, to: output) }
        for note in drawn.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        for figure in drawn.figures { print("wrote \(figure)") }
        print("gnuplot script" + (drawn.scripts.count == 1 ? "" : "s") + ": " + drawn.scripts.joined(separator: ", "))
    }
}
