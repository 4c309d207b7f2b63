import Foundation
import Testing
import Hardware
@testable import Devices

/// A profile's fit of its fused runs against their price (`KernelProfiler.runScales`): what each
/// term of a node's runs adds to log(measured / priced), so that a run it did not measure is
/// priced from the ops it shares with those it did.
@Suite struct RunScaleFitTests {
    static func run(_ node: String, _ terms: [String], priced: Double, measured: Double, code: Double = 0) -> KernelProfile.Node {
        let counts = Dictionary(uniqueKeysWithValues: terms.map { ($0, 1.0) })
        return KernelProfile.Node(node: node, signature: CostFeatures.signature(counts), variant: CostFeatures.variant(counts) ?? "",
                                  pricedCycles: priced, measuredCycles: measured, pricedCode: 1, measuredCode: code)
    }

    @Test func aRunItDidNotMeasureIsPricedByTheOpsItSharesWithThoseItDid() throws {
        let run = ["chain.call", "chain.elem"]
        // Every run of "cell" costs 20% more than its price, and one with an interpolated activation
        // 50% more: the fit says so, the difference shrunk where few runs tell it (the ridge).
        let nodes = [
            Self.run("cell", run + ["chain.add.x16.a32.elem"], priced: 100, measured: 120, code: 100),
            Self.run("cell", run + ["chain.add.x16.a32.elem", "chain.mul.x16.a32.elem"], priced: 200, measured: 240, code: 160),
            Self.run("cell", run + ["chain.mul.x16.a32.elem", "chain.act.interp.x16.elem"], priced: 300, measured: 450, code: 265),
            Self.run("cell", run + ["chain.add.x16.a32.elem", "chain.act.interp.x16.elem"], priced: 250, measured: 375, code: 227.5),
            // The same run again, with a shift by a byte where the first shifted by bits: one run.
            Self.run("cell", run + ["chain.add.x16.a32.elem", "chain.rq.a32.r.moves"], priced: 100, measured: 120, code: 100),
            Self.run("fc", ["dense.w8.x8.a32.call"], priced: 100, measured: 50),
        ]
        let scales = KernelProfiler.runScales(nodes)
        #expect(Set(scales.keys) == ["cell"])
        let scale = try #require(scales["cell"])
        let plain = scale.factor(["chain.call", "chain.elem", "chain.add.x16.a32.elem", "chain.mul.x16.a32.elem"])
        let interpolated = scale.factor(["chain.call", "chain.elem", "chain.mul.x16.a32.elem", "chain.act.interp.x16.elem",
                                         "chain.rq.a32.r.short.bits"])
        #expect(plain > 1.1 && plain < 1.35, "\(plain)")
        #expect(interpolated > plain + 0.05 && interpolated < 1.5, "\(interpolated)")

        // The profile prices an unseen run of that node so, and says how.
        let profile = KernelProfile(key: "k", target: "t", model: "m", programs: 1, nodes: nodes, pricesShifts: false,
                                    codeIntercept: 0, runScales: scales)
        let unseen: [String: Double] = ["chain.call": 1, "chain.elem": 16, "chain.mul.x16.a32.elem": 16, "chain.act.interp.x16.elem": 16,
                                        "chain.lut.o16.elem": 16]
        let found = try #require(profile.lookup(node: "cell", counts: unseen, priced: 1000))
        #expect(found.basis == .runs && abs(found.cycles - 1000 * scale.factor(Set(unseen.keys))) < 1e-9)
        // Its code from its cycles, on the line through the runs measured (40 B + 0.5 B per cycle).
        let code = try #require(profile.code(node: "cell", counts: unseen, priced: 900, cycles: 300))
        #expect(abs(code - 190) < 1e-6, "\(code)")
        // A run of a node with no runs measured: the coefficients alone.
        #expect(profile.lookup(node: "gate", counts: unseen, priced: 1000) == nil)
        #expect(profile.code(node: "gate", counts: unseen, priced: 900, cycles: 300) == nil)
        // What a cache gives back prices alike.
        let decoded = try JSONDecoder().decode(KernelProfile.self, from: try JSONEncoder().encode(profile))
        #expect(decoded.lookup(node: "cell", counts: unseen, priced: 1000)?.cycles == found.cycles)
    }
}
