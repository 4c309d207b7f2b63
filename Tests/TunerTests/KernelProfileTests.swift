import Foundation
import Testing
import TestSupport
import Devices
import Evaluator
import FixedPoint
import Hardware
import ModelIR
@testable import Tuner
import Emit

/// A model's kernels measured on the board: how a profile prices a node, and a real profile on the
/// simulated Uno that prices the programs it measured as the simulator runs them, from a cache that
/// gives back exactly what was measured.
@Suite struct KernelProfileTests {
    static func node(_ name: String, _ terms: [String], priced: Double = 1, cycles: Double,
                     code: (priced: Double, measured: Double) = (0, 0)) -> KernelProfile.Node {
        let counts = Dictionary(uniqueKeysWithValues: terms.map { ($0, 1.0) })
        return KernelProfile.Node(node: name, signature: CostFeatures.signature(counts), variant: CostFeatures.variant(counts) ?? "",
                                  pricedCycles: priced, measuredCycles: cycles, pricedCode: code.priced, measuredCode: code.measured)
    }

    static let profile = KernelProfile(key: "k", target: "t", model: "m", programs: 3, nodes: [
        node("fc", ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o8.sat"], cycles: 100),
        node("fc", ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o8.sat"], cycles: 110),
        node("fc", ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o16.sat", "dense.w8.x8.a32.rq.a32.r"], priced: 120, cycles: 150,
             code: (priced: 60, measured: 72)),
        node("dist", ["sqd.a64.call", "sqd.x8.d16.elem", "sqd.a64.rq.a64.r"], priced: 25, cycles: 30),
        node("cell", ["chain.call", "chain.elem", "chain.add.x16.a32.elem", "chain.lut.o16.elem", "chain.rq.a32.r",
                      "chain.rq.a32.r.short.bits"], priced: 90, cycles: 120),
    ], pricesShifts: false, codeIntercept: 10)

    func counts(_ terms: [String], value: Double = 7) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: terms.map { ($0, value) })
    }

    /// On an AVR an unrolled convolution priced from another signature of its variant counts a
    /// tenth of its bytes as unmeasured however little the coefficients moved them (its written-out
    /// bands follow the signature); a dense node's count stays the move.
    @Test func anUnrolledConvolutionFromAnotherSignatureIsATenthUnmeasuredOnAnAVR() throws {
        let conv = ["unrolled.a16.call", "unrolled.a16.band", "unrolled.a16.product", "unrolled.a16.rq.a32.o8.n"]
        let dense = ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o8.sat"]
        for pricesShifts in [true, false] {
            let p = KernelProfile(key: "k", target: "t", model: "m", programs: 1, nodes: [
                Self.node("conv", conv, priced: 900, cycles: 1_000, code: (priced: 1_380, measured: 1_400)),
                Self.node("fc", dense, priced: 100, cycles: 110, code: (priced: 60, measured: 72)),
            ], pricesShifts: pricesShifts, codeIntercept: 0)
            // One term apart: the nearest signature, with the same loops.
            let otherConv = counts(conv.dropLast() + ["unrolled.a16.rq.a32.o8.sat"])
            #expect(p.lookup(node: "conv", counts: otherConv, priced: 950)?.basis == .nearest)
            let function = p.function(node: "conv", counts: otherConv, priced: 1_390, cycles: 0)
            #expect(function.bytes == 1_410)
            #expect(abs(function.unmeasured - (pricesShifts ? 140 : 10)) < 1e-9, "prices shifts: \(pricesShifts)")
            #expect(p.function(node: "conv", counts: otherConv, priced: 1_350, cycles: 0).unmeasured == (pricesShifts ? -140 : -30))
            let otherDense = counts(dense.dropLast() + ["dense.w8.x8.a32.rq.a32.o16.sat"])
            #expect(p.function(node: "fc", counts: otherDense, priced: 62, cycles: 0).unmeasured == 2)
        }
    }

    @Test func aNodeIsPricedByItsSignatureOrByTheNearestSignaturesExcess() throws {
        let p = Self.profile
        let o8 = counts(["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o8.sat"])
        let o16 = counts(["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o16.sat"])
        let dist64 = counts(["sqd.a64.call", "sqd.x8.d64.elem", "sqd.a64.rq.a64.r"])
        // The same terms, whatever the counts: the mean of the executions measured with them.
        #expect(p.cycles(node: "fc", counts: o8, priced: 40) == 105)
        #expect(p.lookup(node: "fc", counts: o8, priced: 40)?.basis == .signature)
        // Another signature of the variant with the same loops: the coefficients' price moved by
        // what the nearest one seen (one term apart, not two) measured beyond its own price
        // (150 - 120): the coefficients price the requantization that differs, the profile the rest.
        #expect(p.cycles(node: "fc", counts: o16, priced: 400) == 430)
        #expect(p.lookup(node: "fc", counts: o16, priced: 400)?.basis == .nearest)
        // Other loops (a 64-bit distance where a 16-bit one was measured): the same, from the
        // nearest signature of the variant (30 - 25).
        #expect(p.cycles(node: "dist", counts: dist64, priced: 100) == 105)
        #expect(p.lookup(node: "dist", counts: dist64, priced: 100)?.basis == .excess)
        // A fused elementwise run: its own signature as measured, and so one that shifts by another
        // form (a byte move where a short run of bits was measured) on this core, where shifts cost
        // alike at any distance; any other run by the coefficients alone (no `RunScale` here).
        let run = ["chain.call", "chain.elem", "chain.add.x16.a32.elem", "chain.rq.a32.r"]
        #expect(p.cycles(node: "cell", counts: counts(run + ["chain.lut.o16.elem", "chain.rq.a32.r.short.bits"], value: 1), priced: 90) == 120)
        #expect(p.lookup(node: "cell", counts: counts(run + ["chain.lut.o16.elem", "chain.rq.a32.r.moves"], value: 1), priced: 80)?.cycles == 120)
        #expect(p.lookup(node: "cell", counts: counts(run + ["chain.lut.o16.elem", "chain.rq.a32.r.moves"], value: 1), priced: 80)?.basis == .shifts)
        #expect(p.cycles(node: "cell", counts: counts(run + ["chain.lut.o8.elem", "chain.rq.a32.r.short.bits"], value: 1), priced: 95) == nil)
        // A run's ops add up by name, so the same names at other counts are other loops (one more
        // rounding shift per element, say): not that signature, nor another form of its shifts.
        var twice = counts(run + ["chain.lut.o16.elem", "chain.rq.a32.r.short.bits"], value: 1)
        twice["chain.rq.a32.r"] = 2
        #expect(CostFeatures.signature(twice) != CostFeatures.signature(counts(run + ["chain.lut.o16.elem", "chain.rq.a32.r.short.bits"], value: 1)))
        #expect(p.cycles(node: "cell", counts: twice, priced: 95) == nil)
        // Its shifts' bits are compared apart (`Node.shiftBits`): not in the signature by count.
        twice["chain.rq.a32.r"] = 1
        twice["chain.rq.a32.r.short.bits"] = 5
        #expect(p.lookup(node: "cell", counts: twice, priced: 95)?.basis == .signature)
        // The node's function bytes are found the same way: its signature's as measured, another's
        // at the nearest signature's bytes (72) moved by the difference of their prices (58 - 60),
        // but by at most a tenth of those bytes however far the coefficients put them apart.
        let o16r = counts(["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.o16.sat", "dense.w8.x8.a32.rq.a32.r"])
        #expect(p.code(node: "fc", counts: o16r, priced: 1000, cycles: 0) == 72)
        #expect(p.code(node: "fc", counts: o16, priced: 58, cycles: 0) == 70)
        #expect(try #require(p.code(node: "fc", counts: o16, priced: 1000, cycles: 0)) == 72 * 1.1)
        #expect(try #require(p.code(node: "fc", counts: o16, priced: 0, cycles: 0)) == 72 * 0.9)
        // How far the coefficients moved them (what `tune --measure-runs` weighs against the
        // program's flash before it measures): nothing at the node's own signature.
        #expect(p.function(node: "fc", counts: o16, priced: 58, cycles: 0).unmeasured == -2)
        #expect(abs(p.function(node: "fc", counts: o16, priced: 1000, cycles: 0).unmeasured - 7.2) < 1e-9)
        #expect(p.function(node: "fc", counts: o16r, priced: 1000, cycles: 0).unmeasured == 0)
        #expect(p.code(node: "fc2", counts: o16, priced: 50, cycles: 0) == nil)
        // A variant or a node it never saw: no measurement.
        #expect(p.cycles(node: "fc", counts: counts(["dense.w16.x8.a32.call", "dense.w16.x8.a32.mac"]), priced: 40) == nil)
        #expect(p.cycles(node: "fc2", counts: counts(["dense.w8.x8.a32.call"]), priced: 40) == nil)
        // What a cache gives back prices alike.
        let decoded = try JSONDecoder().decode(KernelProfile.self, from: try JSONEncoder().encode(p))
        #expect(decoded.cycles(node: "fc", counts: o16, priced: 400) == 430)
        #expect(decoded.nodes == p.nodes && decoded.codeIntercept == p.codeIntercept)
    }

    @Test func anotherFormOfTheSameShiftsIsMeasuredAsItIsOnACortexMAndMovedByItsPriceOnAnAVR() {
        let measured = ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.r", "dense.w8.x8.a32.rq.a32.r.loop"]
        let query = counts(["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.r", "dense.w8.x8.a32.rq.a32.r.moves"])
        for pricesShifts in [false, true] {
            let p = KernelProfile(key: "k", target: "t", model: "m", programs: 1,
                                  nodes: [Self.node("fc", measured, priced: 150, cycles: 120, code: (priced: 40, measured: 50))],
                                  pricesShifts: pricesShifts, codeIntercept: 0)
            let found = p.lookup(node: "fc", counts: query, priced: 100)
            #expect(found?.basis == .shifts)
            #expect(found?.cycles == (pricesShifts ? 70 : 120))
            #expect(p.code(node: "fc", counts: query, priced: 30, cycles: 0) == (pricesShifts ? 40 : 50))
        }
    }

    @Test func aNodesBytesComeFromTheExecutionWithTheNearestShiftsWhereShiftsCostByDistance() throws {
        // avr-gcc writes a 32-bit shift by 27 in far fewer bytes than one by 25 (ProtoNN's e^x on the
        // Uno: 392 B against 566 B, the same cycles): a mean over both missed each by ~90 B.
        let terms = ["chain.call", "chain.elem", "chain.exp.x16.elem", "chain.exp.frac.bits"]
        let executions: [(bits: Double, code: Double)] = [(500, 566), (540, 392)]
        for pricesShifts in [false, true] {
            let p = KernelProfile(key: "k", target: "t", model: "m", programs: 2, nodes: executions.map { e in
                var node = Self.node("scale", terms, cycles: 100, code: (priced: 300, measured: e.code))
                node.shiftBits = ["chain.exp.frac.bits": e.bits]
                return node
            }, pricesShifts: pricesShifts, codeIntercept: 0)
            var query = counts(terms, value: 1)
            query["chain.exp.frac.bits"] = 540
            // Its very shifts measured: that execution, on either core.
            #expect(try #require(p.code(node: "scale", counts: query, priced: 300, cycles: 0)) == 392)
            #expect(p.function(node: "scale", counts: query, priced: 340, cycles: 0).unmeasured == 0)
            // Shifts no execution had: the nearest's where shifts cost by distance, the mean elsewhere.
            query["chain.exp.frac.bits"] = 510
            #expect(try #require(p.code(node: "scale", counts: query, priced: 300, cycles: 0)) == (pricesShifts ? 566 : 479))
            // Shifts no execution had, on an AVR: the nearest's bytes as they are, but what the
            // coefficients put between them (340 - 300), and no less than a tenth of the bytes, is
            // bytes no build measured.
            #expect(abs(p.function(node: "scale", counts: query, priced: 340, cycles: 0).unmeasured - (pricesShifts ? 56.6 : 0)) < 1e-9)
            #expect(p.function(node: "scale", counts: query, priced: 1300, cycles: 0).unmeasured == (pricesShifts ? 1000 : 0))
        }
    }

    @Test func routinesThatNodesShareArePricedOnceWithTheGlues() throws {
        // Two nodes reach the same 16x16->32 multiply, and the glue reaches it too.
        var fc = Self.node("fc", ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac"], cycles: 100)
        fc.routines = ["__mulhisi3": 16, "__umulhisi3": 30]
        var out = Self.node("out", ["dense.w16.x8.a32.call", "dense.w16.x8.a32.mac"], cycles: 100)
        out.routines = ["__mulhisi3": 16, "__ashrdi3": 100]
        let p = KernelProfile(key: "k", target: "t", model: "m", programs: 1, nodes: [fc, out], pricesShifts: true,
                              codeIntercept: 0, glueRoutines: ["in.b8=64": ["__mulhisi3": 16, "__divmodhi4": 40]])
        let reachedByFC = p.routines(node: "fc", counts: counts(["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac"]))
        #expect(reachedByFC == ["__mulhisi3": 16, "__umulhisi3": 30])
        // A signature it never measured takes the nearest one's routines.
        let nearest = p.routines(node: "out", counts: counts(["dense.w16.x8.a32.call", "dense.w16.x8.a32.mac", "dense.w16.x8.a32.rq.a32.r"]))
        #expect(nearest == out.routines)
        // Each routine once, however many nodes and the glue reach it.
        let glue = p.glueRoutines["in.b8=64"] ?? [:]
        #expect(p.routineCode(glue.merging(reachedByFC) { a, _ in a }.merging(nearest) { a, _ in a }) == 16 + 40 + 30 + 100)
        #expect(p.routines(node: "other", counts: counts(["dense.w8.x8.a32.call"])).isEmpty)
        let decoded = try JSONDecoder().decode(KernelProfile.self, from: try JSONEncoder().encode(p))
        #expect(decoded.nodes == p.nodes && decoded.glueRoutines == p.glueRoutines)
    }

    @Test func aDifferentShiftMovesTheCyclesWhereShiftsCostByDistance() {
        let terms = ["dense.w8.x8.a32.call", "dense.w8.x8.a32.mac", "dense.w8.x8.a32.rq.a32.r.loop.bits"]
        func profile(_ executions: [(bits: Double, cycles: Double)], pricesShifts: Bool) -> KernelProfile {
            KernelProfile(key: "k", target: "t", model: "m", programs: executions.count, nodes: executions.map { e in
                var node = Self.node("fc", terms, cycles: e.cycles)
                node.shiftBits = ["dense.w8.x8.a32.rq.a32.r.loop.bits": e.bits]
                return node
            }, pricesShifts: pricesShifts, codeIntercept: 0)
        }
        func query(_ bits: Double) -> [String: Double] {
            ["dense.w8.x8.a32.call": 1, "dense.w8.x8.a32.mac": 64, "dense.w8.x8.a32.rq.a32.r.loop.bits": bits]
        }
        // An AVR: the execution of the nearest shifts, moved by 4 + 3 cycles per bit of a looped 32-bit shift.
        let avr = profile([(10, 500), (100, 1200)], pricesShifts: true)
        #expect(avr.cycles(node: "fc", counts: query(12), priced: 0) == 514)
        #expect(avr.cycles(node: "fc", counts: query(90), priced: 0) == 1130)
        #expect(avr.cycles(node: "fc", counts: query(10), priced: 0) == 500)
        // A Cortex-M: the mean of what was measured, whatever the distance; but the execution of
        // the very shifts where there is one (the data its formats let through can differ).
        let cortexM = profile([(10, 500), (100, 520)], pricesShifts: false)
        #expect(cortexM.cycles(node: "fc", counts: query(12), priced: 0) == 510)
        #expect(cortexM.cycles(node: "fc", counts: query(300), priced: 0) == 510)
        #expect(cortexM.cycles(node: "fc", counts: query(100), priced: 0) == 520)
    }

    /// Where shifts cost alike at any distance (a Cortex-M), a node of 64-bit values still costs by
    /// its shifts (other instructions on either side of 32 bits): it lacks a measurement unless its
    /// very shifts were measured; a 32-bit node of the same measured signature does not.
    @Test func aNodeOf64BitValuesLacksAMeasurementAtOtherShiftsOnACortexM() {
        func counts(_ call: String, bits: Double) -> CostFeatures.Vector {
            [call: 1, "sqd.x8.d64.elem": 200, "lshift.a64.bits": bits]
        }
        func profile(_ call: String, measuredAt bits: Double, pricesShifts: Bool = false) -> KernelProfile {
            let c = counts(call, bits: bits)
            return KernelProfile(key: "k", target: "nano33ble", model: "m", programs: 1,
                                 nodes: [KernelProfile.Node(node: "d", signature: CostFeatures.signature(c), variant: call, pricedCycles: 1,
                                                            measuredCycles: 1, shiftBits: KernelProfile.Node.shiftBits(c))],
                                 pricesShifts: pricesShifts, codeIntercept: 0)
        }
        let wide = profile("sqd.a64.call", measuredAt: 4_000)
        #expect(!wide.lacksMeasurement(nodes: ["d": counts("sqd.a64.call", bits: 4_000)]))
        #expect(wide.lacksMeasurement(nodes: ["d": counts("sqd.a64.call", bits: 6_000)]))
        #expect(!profile("sqd.a32.call", measuredAt: 4_000).lacksMeasurement(nodes: ["d": counts("sqd.a32.call", bits: 6_000)]))
        // Where shifts cost by distance (an AVR) the profile prices them by their cost, as before.
        #expect(!profile("sqd.a64.call", measuredAt: 4_000, pricesShifts: true).lacksMeasurement(nodes: ["d": counts("sqd.a64.call", bits: 6_000)]))
    }

    /// A search that measures what its profile lacks (`tune --measure-runs`) measures a candidate
    /// with a node of a variant never measured on that node, and not one whose nodes differ from
    /// those measured only in their signatures.
    @Test func aNodeOfAVariantNeverMeasuredOnItIsLackedAndAnotherSignatureOfAMeasuredOneIsNot() throws {
        let model = try ModelLoader.load(Repository.path("models/mlp-digits"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let space = SearchSpace(graph: model.graph, profile: try Calibration.profile(model.graph, on: try dataset.load(split: "val").prefix(8)))
        func program(_ candidate: Candidate) throws -> FixedProgram { try FixedProgram(graph: model.graph, config: space.config(for: candidate)) }
        func profile(of program: FixedProgram, without dropped: String? = nil, code: (priced: Double, measured: Double) = (1, 1)) -> KernelProfile {
            let nodes = CostFeatures.nodes(program, dsp: false, avr: true).sorted { $0.key < $1.key }.compactMap { name, counts -> KernelProfile.Node? in
                guard name != dropped, let variant = CostFeatures.variant(counts) else { return nil }
                return KernelProfile.Node(node: name, signature: CostFeatures.signature(counts), variant: variant, pricedCycles: 1, measuredCycles: 1,
                                          shiftBits: KernelProfile.Node.shiftBits(counts), pricedCode: code.priced, measuredCode: code.measured)
            }
            return KernelProfile(key: "k", target: "uno", model: model.graph.name, programs: 1, nodes: nodes, pricesShifts: true, codeIntercept: 0)
        }
        let all8 = try program(space.uniform(bits: 8))
        let measured = profile(of: all8)
        #expect(!measured.lacksMeasurement(of: all8, dsp: false, avr: true))
        #expect(profile(of: all8, without: "fc2").lacksMeasurement(of: all8, dsp: false, avr: true))
        // all16's products are other variants of the same nodes.
        let all16 = try program(space.uniform(bits: 16))
        #expect(measured.lacksMeasurement(of: all16, dsp: false, avr: true))
        // Other scales: other signatures of the variants measured, priced from the nearest (one
        // tensor's scale moved at a time; those that keep every node's variant).
        func variants(_ p: FixedProgram) -> [String: String] { CostFeatures.nodes(p, dsp: false, avr: true).compactMapValues(CostFeatures.variant) }
        func signatures(_ p: FixedProgram) -> [String: String] { CostFeatures.nodes(p, dsp: false, avr: true).mapValues(CostFeatures.signature) }
        var others: [FixedProgram] = []
        for i in space.variables.indices {
            var moved = space.uniform(bits: 8)
            moved.genes[i].offset = space.offsets.lowerBound
            guard let p = try? program(moved), variants(p) == variants(all8), signatures(p) != signatures(all8) else { continue }
            others.append(p)
        }
        #expect(!others.isEmpty)
        let lacked = others.filter { measured.lacksMeasurement(of: $0, dsp: false, avr: true) }.count
        #expect(lacked == 0)
        // But a search measures one whose bytes the coefficients move from those measured by 1% of
        // its flash or more (here nodes that measured 2,000 B where the coefficients priced nothing:
        // moved by up to 200 B each), and only those.
        let uno = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let large = CostModel(target: uno, meanSteps: 1, profile: profile(of: all8, code: (priced: 0, measured: 2000)))
        #expect(!large.needsMeasurement(all8))
        let moved = others.filter { large.needsMeasurement($0) }
        #expect(!moved.isEmpty)
        for p in others {
            let share = (large.codeParts(p)?.unmeasured ?? 0) / Double(large.estimate(p).flashBytes)
            #expect(large.needsMeasurement(p) == (share >= 0.01), "moved \(share) of the flash")
        }
    }

    @Test func aProfileOnTheUnoPricesItsProgramsAsTheSimulatorRunsThem() throws {
        let model = try ModelLoader.load(Repository.path("models/mlp-digits"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let board = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "uno")
        let device = try DeviceCatalog(root: Repository.root).device(for: board)
        let cache = makeTemporaryDirectory("profiles")
        var profiling = KernelProfiling(device: device, cacheDirectory: cache)
        profiling.programs = 4
        let directory = makeTemporaryDirectory("profile")
        let (profile, origin) = try #require(try profiling.profile(model: model, dataset: dataset, directory: directory))
        guard case .measured = origin else { Issue.record("a new cache served a profile"); return }
        #expect(profile.programs == 4 && profile.target == "uno")
        #expect(profile.unmarkedScale > 0.9 && profile.unmarkedScale < 1.1)
        // Every node of every program measured, and each priced at what was measured for it; but a
        // ReLU that its layer applies as it stores (all8 at least) has no code of its own to measure.
        #expect(Set(profile.nodes.map(\.node)) == ["fc1", "relu1", "fc2", "tanh2", "fc3"])
        #expect(profile.nodes.filter { $0.node != "relu1" }.count == 4 * 4)
        #expect((1..<4).contains(profile.nodes.filter { $0.node == "relu1" }.count))
        // Each node's function found in the firmware by its symbol: whole bytes, not the price.
        let functions = profile.nodes.filter { $0.node != "relu1" }
        #expect(functions.allSatisfy { $0.measuredCode > 16 && $0.measuredCode == $0.measuredCode.rounded() })
        #expect(functions.contains { $0.measuredCode != $0.pricedCode })

        // all8 is always among the programs profiled: priced with the profile, it is what the
        // simulator counts to within a few percent, closer than the board's coefficients alone.
        let program = try FixedProgram(graph: model.graph, config: try ConfigSource.resolve("all8", model: model, dataset: dataset))
        #expect(profile.unmeasuredPairs(of: program, dsp: false, avr: true).isEmpty)
        // Its glue (the API functions, the firmware's main) and what that reaches, by its glue signature.
        #expect(profile.glueRoutines(of: program)["model_predict"] != nil)
        let all16 = try FixedProgram(graph: model.graph, config: try ConfigSource.resolve("all16", model: model, dataset: dataset))
        #expect(profile.unmeasuredPairs(of: all16, dsp: false, avr: true).isEmpty)
        let test = try dataset.load(split: "test")
        let m = try FirmwareMeasurement.run(program: program, device: device, split: test, maxSamples: 2,
                                            directory: "\(directory)/all8", profile: profile)
        let withProfile = abs(m.meanPredictedCycles / m.meanCycles - 1)
        #expect(withProfile < 0.03, "all8: predicted \(m.meanPredictedCycles), measured \(m.meanCycles)")
        #expect(abs(Double(m.prediction.flashBytes) / Double(m.firmware.programFlash) - 1) < 0.03,
                "all8: flash predicted \(m.prediction.flashBytes), measured \(m.firmware.programFlash)")

        // The second time, from the cache, exactly the same.
        let (again, second) = try #require(try profiling.profile(model: model, dataset: dataset, directory: directory))
        guard case .cached = second else { Issue.record("the profile was measured twice"); return }
        #expect(again.key == profile.key && again.nodes == profile.nodes && again.unmarkedScale == profile.unmarkedScale)
    }
}

/// A squared distance aligns its operands at the difference's width: 16 bits where it fits there
/// (`CEmitter.squaredDistanceFits16`), so its shift terms are 16-bit ones, not the accumulator's.
@Suite struct SquaredDistanceFeatureTests {
    @Test func theOperandShiftsArePricedAtTheWidthTheCShiftsThem() throws {
        let model = try ModelLoader.load(Repository.path("models/protonn-digits"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let lowered = try Lowering.lower(model.graph)
        let validation = try dataset.load(split: "val")
        let space = try TuningJob.space(of: model.graph, lowered: lowered, validation: validation, offsets: TuningJob.Settings.defaultOffsets)
        var generator = SeededGenerator(seed: 7)
        var narrow = 0, wide = 0
        for _ in 0..<200 {
            guard let program = try? FixedProgram(graph: lowered, config: space.config(for: space.random(using: &generator))) else { continue }
            for step in program.allSteps {
                guard case let .squaredDistance(name, shiftX, shiftP, _, accBits) = step.kernel, shiftX + shiftP > 0 else { continue }
                let fits = CEmitter.squaredDistanceFits16(program, prototypes: name, xBits: step.inputs.first?.bits ?? 16, shiftX: shiftX, shiftP: shiftP)
                // 8-bit operands are a dot product instead (`SquaredDistanceExpansion`), its shifts 32-bit.
                if SquaredDistanceExpansion.applies(to: step, program: program, far: []) {
                    #expect(CostFeatures.node(step, in: program, dsp: false, avr: false).keys.allSatisfy { !$0.contains(".lshift.") })
                    continue
                }
                let shifts = CostFeatures.node(step, in: program, dsp: false, avr: false).keys.filter { $0.contains(".lshift.") }
                #expect(!shifts.isEmpty)
                let width = fits ? 16 : accBits
                #expect(shifts.allSatisfy { $0.contains(".lshift.a\(width).") }, "\(shifts.sorted()) with a \(fits ? "16-bit" : "wide") difference")
                if fits { narrow += 1 } else { wide += 1 }
            }
        }
        // Both kinds were seen.
        #expect(narrow > 0 && wide > 0, "narrow \(narrow), wide \(wide)")
    }
}
