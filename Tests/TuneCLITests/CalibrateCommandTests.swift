import Foundation
import Testing
import TestSupport

/// `tune calibrate` end to end on the simulated Uno: a target file marked calibrated with its
/// provenance, every measurement saved, and a refit from the saved file that gives the same
/// coefficients without measuring anything.
@Suite struct CalibrateCommandTests {
    @Test(.timeLimit(.minutes(10))) func calibrateWritesTheTargetAndARefitOfItsSavedMeasurementsGivesTheSameCoefficients() throws {
        let directory = makeTemporaryDirectory("calibrate")
        let measured = try TuneExecutable.run(["calibrate", "--target", "uno", "--programs", "10", "--seed", "3",
                                               "--out", "\(directory)/uno.json", "--save", "\(directory)/measurements.jsonl"])
        #expect(measured.status == 0, "\(measured.stderr)")
        #expect(measured.stdout.contains("target   uno: 10 programs"), "\(measured.stdout)")
        let saved = try String(contentsOfFile: "\(directory)/measurements.jsonl", encoding: .utf8)
        #expect(saved.split(separator: "\n").filter { $0.contains("\"kind\":\"program\"") }.count == 10)
        // No --programs or --seed: the refit names the run the saved file came from, not the defaults.
        let refitted = try TuneExecutable.run(["calibrate", "--target", "uno",
                                               "--refit", "\(directory)/measurements.jsonl", "--out", "\(directory)/refit.json"])
        #expect(refitted.status == 0, "\(refitted.stderr)")
        func cost(_ path: String) throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            return try #require(object?["cost"] as? [String: Any])
        }
        let first = try cost("\(directory)/uno.json"), second = try cost("\(directory)/refit.json")
        #expect(first["calibrated"] as? Bool == true)
        let cycles = try #require(first["cycles"] as? [String: Double])
        #expect(cycles.count > 20)
        // The same coefficients (to the saved file's precision: the fit rounds to thousandths).
        func same(_ a: [String: Double]?, _ b: [String: Double]?) -> Bool {
            guard let a, let b, Set(a.keys) == Set(b.keys) else { return false }
            return a.allSatisfy { abs($0.value - (b[$0.key] ?? .nan)) <= 0.002 + 1e-6 * abs($0.value) }
        }
        #expect(same(cycles, second["cycles"] as? [String: Double]))
        #expect(same(first["code_bytes"] as? [String: Double], second["code_bytes"] as? [String: Double]))
        let source = second["source"] as? String ?? ""
        #expect(source.hasPrefix("calibrated by `tune calibrate --target uno --programs 10 --seed 3`"), "\(source)")
        #expect(source == first["source"] as? String)
    }
}
