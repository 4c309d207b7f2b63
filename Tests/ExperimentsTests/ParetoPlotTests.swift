import Foundation
import Testing
import TestSupport
@testable import Experiments

/// `tune plot` on hand-written runs: the script and data it writes, and the figure gnuplot draws
/// from them. gnuplot must be installed (scripts/install-system-packages): without it these fail.
@Suite struct ParetoPlotTests {
    let noClocks: RunCollection.ClockLookup = { _ in nil }

    func finishedRun() throws -> String {
        var run = RunFixture.finished()
        run.measuredCycles = 176_000
        run.baselines = ["all16": .init(accuracy: 0.93, cycles: 240_000, ramBytes: 800, flashBytes: 6000),
                         "all8": .init(accuracy: 0.7, cycles: 90000, ramBytes: 300, flashBytes: 3500)]
        return try run.write()
    }

    func contents(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    @Test func aPNGWithItsScriptAndDataBesideIt() throws {
        let out = makeTemporaryDirectory("plot")
        let collection = try RunCollection.load([try finishedRun()], clock: noClocks)
        let drawn = try ParetoPlot().draw(collection, to: "\(out)/front.png")
        #expect(drawn.figures == ["\(out)/front.png"])
        #expect(drawn.scripts == ["\(out)/front.gp"])
        #expect(drawn.dataFiles == ["\(out)/front-run1.dat"])
        let png = try #require(FileManager.default.contents(atPath: "\(out)/front.png"))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(png.count > 10_000)

        let script = contents("\(out)/front.gp")
        #expect(script.contains("set output \"front.png\""))
        #expect(script.contains("set xlabel \"latency per inference (ms on uno at 16 MHz)\""))
        #expect(script.contains("set ylabel \"validation accuracy (%)\""))
        #expect(script.contains("title \"float model, 95.00%\""))
        #expect(script.contains("\"front-run1.dat\" index 2 using 4:2 with steps"))
        #expect(script.contains("title \"uniform 16-bit (all16)\""))
        #expect(script.contains("title \"uniform 8-bit (all8)\""))
        #expect(script.contains("title \"pick, measured on the board's simulator\""))
        #expect(!script.contains("graph 0 to first"))  // no budget line on a latency axis
        #expect(script.contains("set arrow from first 10, first 90 to graph 1, first 90 nohead"))  // the front goes on to the right edge

        // The front in (latency, accuracy): candidate 1 (5 ms, 80%), then 0 (10 ms, 90%); 2 is over budget.
        let data = contents("\(out)/front-run1.dat").components(separatedBy: "\n\n\n")
        #expect(data.count == 7)
        #expect(data[0].hasSuffix("# index 0: ok candidates\n\"0\" 90 NaN 10 500 4000\n\"1\" 80 NaN 5 250 3000"))
        #expect(data[1].hasSuffix("\n\"2\" 95 NaN 12.5 1200 5000"))
        #expect(data[2].hasSuffix("\n\"1\" 80 NaN 5 250 3000\n\"0\" 90 NaN 10 500 4000"))
        #expect(data[3].hasSuffix("\n\"0\" 90 88 11 520 3900"))  // the pick where it was measured
        #expect(data[4].hasSuffix("\n\"0\" 90 88 10 500 4000\n\"0\" 90 88 11 520 3900"))
        #expect(data[5].hasSuffix("\n\"all16\" 93 NaN 15 800 6000"))
        #expect(data[6].hasSuffix("\n\"all8\" 70 NaN 5.625 300 3500\n"))
    }

    @Test func ramAxisDrawsTheBudget() throws {
        let out = makeTemporaryDirectory("plot")
        let collection = try RunCollection.load([try finishedRun()], clock: noClocks)
        _ = try ParetoPlot(x: .ram).draw(collection, to: "\(out)/ram.svg")
        let script = contents("\(out)/ram.gp")
        #expect(script.contains("set arrow from first 1000, graph 0 to first 1000, graph 1 nohead"))
        #expect(script.contains("\"RAM budget 1000 B\""))
        #expect(script.contains("set xlabel \"RAM (bytes)\""))
        #expect(script.contains("using 5:2"))
        #expect(contents("\(out)/ram.svg").contains("<svg"))
        // flash: the default budget (the whole board's flash) is far beyond the data: an arrow points to it.
        _ = try ParetoPlot(x: .flash).draw(collection, to: "\(out)/flash.pdf")
        let flash = contents("\(out)/flash.gp")
        #expect(flash.contains("set label \"flash budget 32768 B\" at graph 0.87, graph 0.5 right"))
        #expect(!flash.contains("graph 0 to first"))
        #expect(FileManager.default.contents(atPath: "\(out)/flash.pdf")?.prefix(5) == Data("%PDF-".utf8))
    }

    @Test func severalRunsAreOverlaidWithLabelsOfWhatDiffers() throws {
        let out = makeTemporaryDirectory("plot")
        let greedy = try RunFixture.finished(strategy: "greedy").write()
        let collection = try RunCollection.load([try finishedRun(), greedy], clock: noClocks)
        let drawn = try ParetoPlot().draw(collection, to: "\(out)/both.png")
        #expect(drawn.dataFiles == ["\(out)/both-run1.dat", "\(out)/both-run2.dat"])
        let script = contents("\(out)/both.gp")
        #expect(script.contains("keyentry with lines lw 6 lc rgb \"#1f77b4\" title \"genetic\""))
        #expect(script.contains("keyentry with lines lw 6 lc rgb \"#ff7f0e\" title \"greedy\""))
        #expect(script.contains("mlp on uno: validation accuracy against latency\\n2 runs"))
    }

    @Test func aBatchGivesAFigurePerModelAndBoardWithOneSeedEachAndAnOverview() throws {
        var lenet = RunFixture.finished()
        lenet.model = "lenet"
        let batch = try BatchFixture(
            runs: [("mlp-0", .finished()), ("mlp-1", .finished(seed: 1)), ("lenet-0", lenet)],
            manifest: [["type": "run", "id": "mlp-0", "state": "done", "seconds": 3]],
            peers: [["name": "SeeDot", "model": "mlp", "accuracy": 0.85, "milliseconds": 9.5], ["name": "elsewhere", "model": "other"]]
        ).write()
        let out = makeTemporaryDirectory("plot")
        let drawn = try ParetoPlot().draw(try RunCollection.load([batch], clock: noClocks), to: "\(out)/fronts.png")
        #expect(drawn.figures == ["\(out)/fronts-lenet-uno.png", "\(out)/fronts-mlp-uno.png", "\(out)/fronts.png"])
        for figure in drawn.figures { #expect(FileManager.default.contents(atPath: figure)?.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47])) }
        #expect(contents("\(out)/fronts-mlp-uno-peers.dat").contains("\"SeeDot\" 85 85 9.5 NaN NaN"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/fronts-lenet-uno-peers.dat"))
        let overview = contents("\(out)/fronts.gp")
        #expect(overview.contains("set multiplot layout 1,2"))
        #expect(overview.contains("\"fronts-lenet-uno-run1.dat\"") && overview.contains("\"fronts-mlp-uno-run1.dat\""))
        // Seeds 0 and 1 of mlp: only seed 0 is drawn, and the figure says where the spread is.
        #expect(!FileManager.default.fileExists(atPath: "\(out)/fronts-mlp-uno-run2.dat"))
        #expect(drawn.notes.contains { $0.hasPrefix("batch: each figure draws one run per strategy and RAM budget (the lowest seed)") })
    }

    @Test func testAccuracyHasOnlyThePicks() throws {
        let out = makeTemporaryDirectory("plot")
        let collection = try RunCollection.load([try finishedRun()], clock: noClocks)
        let drawn = try ParetoPlot(y: .test).draw(collection, to: "\(out)/test.png")
        #expect(drawn.notes.contains { $0.hasPrefix("--y test: only the picks and the float model have a test accuracy") })
        let script = contents("\(out)/test.gp")
        #expect(script.contains("using 4:3"))
        #expect(!script.contains("index 0") && !script.contains("with steps"))
        #expect(script.contains("title \"float model, 90.00%\""))

        var unfinished = RunFixture.finished()
        unfinished.front = nil
        let none = try RunCollection.load([try unfinished.write()], clock: noClocks)
        #expect(throws: ExperimentsError.nothingToPlot(reason: "no run has a pick with a test accuracy (an unfinished run has none); try --y val")) {
            try ParetoPlot(y: .test).write(none, to: "\(out)/none.png")
        }
        // Its candidates are drawn on validation accuracy all the same.
        #expect(try ParetoPlot().write(none, to: "\(out)/unfinished.png").scripts.count == 1)
    }

    @Test func aFigureNeedsAKnownExtensionAndGnuplot() throws {
        let collection = try RunCollection.load([try finishedRun()], clock: noClocks)
        #expect(throws: ExperimentsError.unsupportedFigure(path: "/tmp/x.jpg", allowed: ["png", "svg", "pdf"])) {
            try ParetoPlot().write(collection, to: "/tmp/x.jpg")
        }
        #expect(ExperimentsError.unsupportedFigure(path: "x.jpg", allowed: ParetoPlot.extensions).description
            == "cannot draw x.jpg: the figure's extension must be one of .png, .svg, .pdf")
        let out = makeTemporaryDirectory("plot")
        #expect(throws: ExperimentsError.toolMissing(tool: "gnuplot", package: "gnuplot-nox")) {
            try ParetoPlot().draw(collection, to: "\(out)/x.png", environment: ["PATH": makeTemporaryDirectory("empty-path")])
        }
        #expect(ExperimentsError.toolMissing(tool: "gnuplot", package: "gnuplot-nox").description
            == "'gnuplot' is not installed; install it with: apt-get install -y gnuplot-nox (or run scripts/install-system-packages)")
        // The script and data are written all the same, to be drawn elsewhere.
        #expect(FileManager.default.fileExists(atPath: "\(out)/x.gp"))
    }
}
