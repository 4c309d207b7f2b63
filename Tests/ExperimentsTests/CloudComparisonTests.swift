import Foundation
import Testing
import TestSupport
@testable import Experiments
import Tuner

@Suite struct CloudComparisonTests {
    @Test func aPickIsSetBesideTheFloatModelOnTheHostPlusTheRoundTrip() throws {
        let out = makeTemporaryDirectory("cloud")
        let run = try TuneExecutable.run(["--model", "mlp-digits", "--budget-ram", "2048", "--no-verify", "--strategy", "greedy",
                                          "--max-evaluations", "30", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        let collection = try RunCollection.load([out])
        let cloud = CloudComparison(collection, roundTripMilliseconds: 50, resources: BundledResources(root: Repository.root))
        #expect(cloud.warnings.isEmpty)
        let row = try #require(cloud.rows.first)
        #expect(cloud.rows.count == 1 && row.model == "mlp-digits" && row.target == "uno" && !row.measured)
        #expect(row.hostFloat > 0 && row.hostFloat < 50)
        #expect(abs(row.cloud - (row.hostFloat + 50)) < 1e-9)
        // The pick's estimate at 16 MHz: milliseconds, not cycles.
        #expect(row.deviceFastest > 1 && row.deviceFastest < 1000)
        #expect(cloud.markdown.contains("| mlp-digits | uno | "))
    }
}
