import Testing
import Hardware

/// Pricing a feature the calibration never saw, and pricing reproducibly.
@Suite struct CostCoefficientsTests {
    let table: [String: Double] = [
        "dense.w16.x8.a32.mac": 20, "dense.w8.x8.a32.mac": 12, "dense.w8.x16.a32.mac": 14,
        "conv.w8.x8.a16.c1.mac": 30, "conv.w16.x8.a16.c1.mac": 40, "conv.w8.x8.a16.c1.k3.mac": 25,
    ]

    @Test func aVariantTakesItsNearestRelative() {
        #expect(CoefficientTable.nearest("dense.w16.x8.a32.mac", in: table) == 20)
        // Far weights are priced like near ones of the same width.
        #expect(CoefficientTable.nearest("dense.w16f.x8.a32.mac", in: table) == 20)
        #expect(CoefficientTable.nearest("dense.w8f.x8.a32.mac", in: table) == 12)
        // A kernel-row variant the calibration lacked: the same kernel without it, not another width.
        #expect(CoefficientTable.nearest("conv.w16.x8.a16.c1.k5.mac", in: table) == 40)
        #expect(CoefficientTable.nearest("conv.w8.x8.a16.c1.k5.mac", in: table) == 25)
        // Another kind or unit is never borrowed.
        #expect(CoefficientTable.nearest("dw.w8.x8.a16.mac", in: table) == nil)
        #expect(CoefficientTable.nearest("dense.w8.x8.a32.row", in: table) == nil)
    }

    @Test func aPriceDoesNotDependOnTheOrderOfItsCounts() {
        let keys = (0..<200).map { "k\($0).mac" }
        let coefficients = CostCoefficients(source: "test", calibrated: false,
                                            cycles: Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, 0.1 * Double($0 + 1)) }),
                                            codeBytes: [:], stackBytes: 0, platformRAMBytes: 0, provenance: nil)
        var forward: [String: Double] = [:], backward: [String: Double] = [:]
        for (i, key) in keys.enumerated() { forward[key] = 1.0 / Double(i + 3) }
        for (i, key) in keys.enumerated().reversed() { backward[key] = 1.0 / Double(i + 3) }
        #expect(coefficients.price(forward, in: \.cycles).bitPattern == coefficients.price(backward, in: \.cycles).bitPattern)
    }

    /// The nearest relative is found once per key and remembered: the same price every time, in
    /// both tables apart, and a table changed afterwards is priced by its new coefficients.
    @Test func aRememberedRelativeIsTheOneItsTableHasNow() {
        var coefficients = CostCoefficients(source: "test", calibrated: false, cycles: table, codeBytes: ["dense.w8.x8.a32.mac": 3],
                                            stackBytes: 0, platformRAMBytes: 0, provenance: nil)
        let counts = ["dense.w16f.x8.a32.mac": 2.0, "conv.w8.x8.a16.c1.k5.mac": 1]
        #expect(coefficients.price(counts, in: \.cycles) == 2 * 20 + 25)
        #expect(coefficients.price(counts, in: \.cycles) == 2 * 20 + 25)
        #expect(coefficients.price(["dense.w8f.x8.a32.mac": 1], in: \.codeBytes) == 3)
        #expect(coefficients.price(["dense.w8f.x8.a32.mac": 1], in: \.cycles) == 12)
        let copy = coefficients
        coefficients.cycles["dense.w16.x8.a32.mac"] = 50
        #expect(coefficients.price(counts, in: \.cycles) == 2 * 50 + 25)
        #expect(copy.price(counts, in: \.cycles) == 2 * 20 + 25)
        coefficients.codeBytes = ["dense.w8.x8.a32.mac": 7]
        #expect(coefficients.price(["dense.w8f.x8.a32.mac": 1], in: \.codeBytes) == 7)
    }
}

/// A requantization costs about the same in every kernel: a price adds the shared term to a
/// kernel's own, and the fit keeps a kernel's own term at zero where its benchmarks cannot tell it
/// from the work it comes with.
@Suite struct SharedTermTests {
    @Test func aKernelsRequantizationShiftAndBiasTermsShareATerm() {
        #expect(CostFeatures.sharedTerm(of: "conv.dot24.padded.rq.a32.l.short.bits") == "rq.a32.l.short.bits")
        #expect(CostFeatures.sharedTerm(of: "chain.rq.a32.r") == "rq.a32.r")
        #expect(CostFeatures.sharedTerm(of: "dense.w8.x8.a32.lshift.a32.loop") == "lshift.a32.loop")
        #expect(CostFeatures.sharedTerm(of: "dwc.a24.bias.a32") == "bias.a32")
        // Work, calls, code bytes and the shared terms themselves share nothing.
        for key in ["dense.w8.x8.a32.mac", "conv.dot24.call", "code.dense.w8.x8.a32.rq.a32.r", "rq.a32.r", "glue.out.o16.elem"] {
            #expect(CostFeatures.sharedTerm(of: key) == nil, "\(key)")
        }
        let coefficients = CostCoefficients(source: "test", calibrated: false,
                                            cycles: ["rq.a32.r": 20, "conv.dot24.rq.a32.r": 5, "conv.dot24.mac": 10],
                                            codeBytes: [:], stackBytes: 0, platformRAMBytes: 0, provenance: nil)
        #expect(coefficients.price(["conv.dot24.rq.a32.r": 2, "conv.dot24.mac": 3], in: \.cycles) == 2 * 25 + 3 * 10)
        // A kernel without an own term of the calibration's takes its nearest relative's, plus the shared.
        #expect(coefficients.price(["conv.dot24.padded.rq.a32.r": 1], in: \.cycles) == 5 + 20)
    }
}
