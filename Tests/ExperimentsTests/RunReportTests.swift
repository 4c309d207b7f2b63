import Foundation
import Testing
import TestSupport
@testable import Experiments

/// `tune report` on hand-written runs: a finished run, a batch of seeds with an unfinished and a
/// failed run, a torn log. The hypervolumes are worked by hand from `Pareto.hypervolume`: in
/// (error, RAM / budget) the fronts are (0.1, 0.5), (0.2, 0.25) for seed 0: 0.8 * 0.25 + 0.9 * 0.5
/// = 0.65; and (0.08, 0.5), (0.2, 0.25) for seed 1: 0.2 + 0.92 * 0.5 = 0.66.
@Suite struct RunReportTests {
    let noClocks: RunCollection.ClockLookup = { _ in nil }

    func batch() throws -> String {
        var unfinished = RunFixture.finished(seed: 2)
        unfinished.front = nil
        unfinished.summaryFile = nil
        unfinished.candidates.removeLast(2)
        unfinished.torn = #"{"fingerprint":"00"#
        let dir = try BatchFixture(
            runs: [("mlp-s0", .finished(seed: 0)), ("mlp-s1", .finished(seed: 1, bestAccuracy: 0.92, pickTest: 0.9)), ("mlp-s2", unfinished)],
            manifest: [
                ["type": "run", "id": "mlp-s0", "state": "pending"], ["type": "run", "id": "mlp-s1", "state": "pending"],
                ["type": "run", "id": "mlp-s2", "state": "pending"], ["type": "run", "id": "mlp-s3", "state": "pending", "model": "mlp", "seed": 3],
                ["type": "run", "id": "mlp-s0", "state": "started"], ["type": "run", "id": "mlp-s0", "state": "done", "seconds": 75.5],
                ["type": "run", "id": "mlp-s1", "state": "done", "seconds": 12.25], ["type": "run", "id": "mlp-s2", "state": "started"],
                ["type": "run", "id": "mlp-s3", "state": "failed", "error": "boom"],
            ],
            peers: [["name": "SeeDot", "model": "mlp", "target": "uno", "accuracy": 0.85, "milliseconds": 9.5, "ram_bytes": 700]]
        ).write()
        // mlp-s3 failed before its log: what it was comes from the options it was started with.
        try FileManager.default.createDirectory(atPath: "\(dir)/runs/mlp-s3", withIntermediateDirectories: true)
        let options = ["arguments": ["--model", "/models/mlp", "--target", "uno", "--budget-ram", "1000", "--strategy", "random", "--seed", "3"]]
        try JSONSerialization.data(withJSONObject: options).write(to: URL(fileURLWithPath: "\(dir)/runs/mlp-s3/run.json"))
        return dir
    }

    @Test func markdownRowOfAFinishedRun() throws {
        var fixture = RunFixture.finished()
        fixture.measuredCycles = 176_000
        let dir = try fixture.write()
        let collection = try RunCollection.load([dir], clock: noClocks)
        #expect(collection.warnings.isEmpty)
        let md = ReportTable.render(RunReport(collection), as: .md)
        let lines = md.split(separator: "\n").map(String.init)
        #expect(lines[1] == "| run | model | target | strategy | seed | RAM budget | float val | float test | pick val | pick test | cycles | ms | RAM | flash | front | evaluations | time | state |")
        #expect(lines[3] == "| \(dir) | mlp | uno | genetic | 0 | 1000 B | 95.00% | 90.00% | 90.00% | 88.00% of 359 | 176,000 (measured) | 11.00 | 520 B (measured) | 3900 B (measured) | 2 | 4 | - | done |")
        #expect(md.contains("| mlp | uno | 1000 B | genetic | 1 | 0 | 0.6500 | 0.6500-0.6500 | 88.00% | 88.00% | 88.00% |"))
    }

    @Test func estimatedFiguresAndTheClockFromTheTargets() throws {
        var fixture = RunFixture.finished()
        fixture.clockHz = nil  // an older log: the clock comes from the board description
        let collection = try RunCollection.load([try fixture.write()], clock: { $0 == "uno" ? 8_000_000 : nil })
        let row = try #require(RunReport(collection).rows.first)
        #expect(row.cycles == 160_000)
        #expect(row.cyclesMeasured == false)
        #expect(row.milliseconds == 20)
        let md = ReportTable.render(RunReport(collection), as: .md)
        #expect(md.contains("| 160,000 (est.) | 20.00 | 500 B (est.) | 4000 B (est.) |"))
        let unknown = try RunCollection.load([try fixture.write()], clock: noClocks)
        #expect(RunReport(unknown).rows.first?.milliseconds == nil)
        #expect(unknown.warnings.contains { $0.hasSuffix("the clock of target 'uno' is in neither the log nor configs/targets: its cycles are not shown as milliseconds") })
    }

    @Test func batchRowsStatesAndSeedSpread() throws {
        let collection = try RunCollection.load([try batch()], clock: noClocks)
        let report = RunReport(collection)
        #expect(report.rows.map(\.id) == ["mlp-s0", "mlp-s1", "mlp-s2", "mlp-s3"])
        #expect(report.rows.map(\.state) == ["done", "done", "unfinished", "failed"])
        #expect(report.rows.map(\.seconds) == [75.5, 12.25, nil, nil])
        #expect(report.rows[2].evaluations == 2)
        #expect(report.rows[2].pickTestAccuracy == nil)
        #expect(report.rows[3].seed == 3 && report.rows[3].model == "mlp" && report.rows[3].strategy == "random")
        #expect(report.rows[3].budgetRAMBytes == 1000)
        let group = try #require(report.groups.first)
        #expect(report.groups.count == 1)
        #expect(group.runs == 2 && group.unfinished == 1 && group.seeds == [0, 1])
        #expect(abs((group.hypervolumeMean ?? 0) - 0.655) < 1e-12)
        #expect(group.pickTestMin == 0.88 && group.pickTestMax == 0.9)
        #expect(abs((group.pickTestMean ?? 0) - 0.89) < 1e-12)
        let md = ReportTable.render(report, as: .md)
        #expect(md.contains("| mlp-s0 | mlp | uno | genetic | 0 | 1000 B | 95.00% | 90.00% | 90.00% | 88.00% of 359 | 160,000 (est.) | 10.00 | 500 B (est.) | 4000 B (est.) | 2 | 4 | 1 min 16 s | done |"))
        #expect(md.contains("| mlp | uno | 1000 B | genetic | 2 (+1 unfinished) | 0, 1 | 0.6550 | 0.6500-0.6600 | 88.00% | 90.00% | 89.00% |"))
        #expect(md.contains("| SeeDot | mlp | uno | 85.00% | 9.50 | 700 B | - |"))
    }

    @Test func warningsNameTheTornLineTheUnfinishedAndTheFailedRun() throws {
        let dir = try batch()
        let warnings = try RunCollection.load([dir], clock: noClocks).warnings
        #expect(warnings.contains { $0.hasPrefix("\(dir)/runs/mlp-s2/log.jsonl:4: skipped a torn last line") })
        #expect(warnings.contains("\(dir)/runs/mlp-s2/log.jsonl: no summary line: an unfinished run (2 candidates so far)"))
        #expect(warnings.contains("\(dir): run mlp-s3 failed before writing a log: boom"))
    }

    @Test func csvHasTheRunsThenTheStrategiesThenThePeers() throws {
        let csv = ReportTable.render(RunReport(try RunCollection.load([try batch()], clock: noClocks)), as: .csv)
        let tables = csv.components(separatedBy: "\n\n")
        #expect(tables.count == 3)
        let runs = tables[0].split(separator: "\n").map(String.init)
        #expect(runs.count == 5)
        #expect(runs[0] == ReportTable.runKeys.joined(separator: ","))
        let first = runs[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(first.count == ReportTable.runKeys.count)
        #expect(Array(first.prefix(20)) == ["mlp-s0", "mlp", "uno", "genetic", "0", "1000", "0.95", "0.9", "0.9", "0.88", "359", "160000.0", "10.0",
                                            "estimated", "500", "estimated", "4000", "estimated", "2", "4"])
        #expect(abs((Double(first[20]) ?? 0) - 0.65) < 1e-12)
        #expect(Array(first.suffix(2)) == ["75.5", "done"])
        let failed = runs[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(failed.count == ReportTable.runKeys.count)
        #expect(failed.filter { !$0.isEmpty } == ["mlp-s3", "mlp", "uno", "random", "3", "1000", "failed"])
        let groups = tables[1].split(separator: "\n").map(String.init)
        #expect(groups.count == 2)
        #expect(groups[1].hasPrefix("mlp,uno,1000,genetic,2,1,0 1,"))
        #expect(tables[2].hasPrefix("name,model,target,accuracy"))
    }

    @Test func jsonHasEveryColumnWithNullsForWhatIsMissing() throws {
        let text = ReportTable.render(RunReport(try RunCollection.load([try batch()], clock: noClocks)), as: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.count == 4)
        #expect(Set(runs[0].keys) == Set(ReportTable.runKeys))
        #expect(runs[0]["pick_test_accuracy"] as? Double == 0.88)
        #expect(runs[2]["pick_test_accuracy"] is NSNull)
        #expect(runs[2]["state"] as? String == "unfinished")
        let strategies = try #require(object["strategies"] as? [[String: Any]])
        #expect(strategies.first?["seeds"] as? [Int] == [0, 1])
        #expect(abs((strategies.first?["hypervolume_mean"] as? Double ?? 0) - 0.655) < 1e-12)
        #expect((object["peers"] as? [[String: Any]])?.first?["name"] as? String == "SeeDot")
        #expect((object["warnings"] as? [String])?.isEmpty == false)
    }

    @Test func aLogFileGivenDirectly() throws {
        let dir = try RunFixture.finished().write()
        let collection = try RunCollection.load(["\(dir)/log.jsonl"], clock: noClocks)
        let row = try #require(RunReport(collection).rows.first)
        #expect(row.pickTestAccuracy == 0.88)
        #expect(row.testSamples == nil)  // that is in summary.json, beside a run directory's log
        #expect(row.state == "done")
    }

    @Test func pathsThatAreNotRuns() throws {
        let empty = makeTemporaryDirectory("not-a-run")
        #expect(throws: ExperimentsError.notARun(path: empty)) { try RunCollection.load([empty], clock: noClocks) }
        #expect(ExperimentsError.notARun(path: "/x").description
            == "/x is neither a run directory (with log.jsonl), a search log (.jsonl), nor a batch directory (with manifest.jsonl and runs/*/log.jsonl)")
        let text = "\(empty)/notes.txt"
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: ExperimentsError.notARun(path: text)) { try RunCollection.load([text], clock: noClocks) }
        #expect(throws: ExperimentsError.cannotRead(path: "/nonexistent/run", reason: "no such file or directory")) {
            try RunCollection.load(["/nonexistent/run"], clock: noClocks)
        }
    }

    @Test func malformedPeersAreAnError() throws {
        let dir = try batch()
        try Data(#"[{"model": "mlp"}]"#.utf8).write(to: URL(fileURLWithPath: "\(dir)/peers.json"))
        #expect(throws: ExperimentsError.self) { try RunCollection.load([dir], clock: noClocks) }
        do { _ = try RunCollection.load([dir], clock: noClocks) } catch {
            #expect(error.description.hasPrefix("\(dir)/peers.json: entry 0 has no \"name\"; expected an array of objects like"))
        }
    }
}
