import FixedPoint
import Foundation

/// One model's kernels measured on one board: the correction the cost model applies on top of the
/// board's calibrated coefficients for that model.
///
/// The board's coefficients are fitted on random benchmark layers, so they price a kernel variant
/// the same at every shape; the compiler does not (it unrolls a loop of one trip count and not of
/// another, keeps an operand in a register at one width and spills it at the next). A profile
/// builds a few programs of the model itself (`KernelProfiling`), measures every node on the
/// simulator, and keeps each node's measured cycles and bytes by signature, the routines each node
/// reaches, and what the size tool counts beyond them. A candidate's node whose signature the profile
/// saw is then priced at what was measured; one whose variant it saw, by the nearest signature
/// measured (`cycles(node:counts:priced:)`); any other at the board's coefficients alone.
public struct KernelProfile: Codable, Sendable {
    /// One node of one profiled program.
    public struct Node: Codable, Sendable, Equatable {
        public var node: String
        /// Every cost term of the node (`CostFeatures.signature`): equal signatures compile to the
        /// same loops.
        public var signature: String
        /// The node's kernel variant (its `.call` term): the fallback when no signature matches.
        public var variant: String
        /// Cycles per execution: what the board's coefficients say (for reports) and what the simulator counted.
        public var pricedCycles: Double
        public var measuredCycles: Double
        /// The node's shift terms (`.bits`): the bits it shifts, by width and kind.
        public var shiftBits: [String: Double]
        /// Bytes of the node's function (`MCU_NODE`) in the program as the tuner writes it: what the
        /// board's coefficients say for its code terms and what the size tool counted.
        public var pricedCode: Double
        public var measuredCode: Double
        /// The routines outside the program's own functions that the node's function reaches
        /// (libgcc's multiplies and shifts, and helpers the compiler kept out of line), with their
        /// bytes: shared by every node that calls them, so a program links each once.
        public var routines: [String: Int]

        public init(node: String, signature: String, variant: String, pricedCycles: Double, measuredCycles: Double,
                    shiftBits: [String: Double] = [:], pricedCode: Double = 0, measuredCode: Double = 0, routines: [String: Int] = [:]) {
            self.node = node
            self.signature = signature
            self.variant = variant
            self.pricedCycles = pricedCycles
            self.measuredCycles = measuredCycles
            self.shiftBits = shiftBits
            self.pricedCode = pricedCode
            self.measuredCode = measuredCode
            self.routines = routines
        }

        enum CodingKeys: String, CodingKey {
            case node, signature, variant
            case pricedCycles = "priced_cycles", measuredCycles = "measured_cycles", shiftBits = "shift_bits"
            case pricedCode = "priced_code", measuredCode = "measured_code", routines
        }

        /// The shift terms of `counts`.
        public static func shiftBits(_ counts: [String: Double]) -> [String: Double] { counts.filter { $0.key.hasSuffix(".bits") } }
    }

    /// What the profile was measured with; equal keys mean equal measurements.
    public var key: String
    public var target: String
    public var model: String
    public var programs: Int
    public var nodes: [Node]
    /// Whether the board's shifts cost by distance (`Target.Core.shiftsBitByBit`), so that the
    /// price of a different shift moves a measured node's cycles.
    public var pricesShifts: Bool
    /// The programs as the tuner writes them (no marks) over the same programs priced with the marked
    /// nodes: the compiler schedules across nodes that no mark separates.
    public var unmarkedScale: Double
    /// Code bytes beyond the priced ones outside the nodes' functions (whose bytes are priced from
    /// `Node.measuredCode`, `code(node:counts:priced:)`) and the routines they reach
    /// (`routineCode`): the mean over the profiled programs. With those two measured, what is left
    /// (`main`, the calls between nodes) hardly depends on the nodes: per-variant offsets fitted
    /// on top missed ProtoNN's Uno candidates by up to 6.9% where this misses by 1.9%.
    public var codeIntercept: Double
    /// The routines the profiled programs' code outside their nodes reaches (`main` and the glue
    /// between nodes: memset where gcc made a state's reset one), with their bytes, by the
    /// programs' glue signatures (`CostFeatures.glueSignature`).
    public var glueRoutines: [String: [String: Int]]

    /// Per node whose fused runs the profile measured, how those runs' cycles relate to their
    /// price, term by term (`RunScale`): the price of a run it did not measure.
    public var runScales: [String: RunScale]

    /// A fused run's measured cycles over its price, fitted on the profile's runs of one node:
    /// log(measured / priced) = intercept + the sum of the weights of the run's terms (shift forms
    /// aside), by ridge regression (`KernelProfiler`). The board's coefficients price a long run's
    /// ops one by one; what the compiler makes of them together (values spilled where many are
    /// live at once) is the model's own, and a run shares most ops with the runs measured.
    /// Its code is one loop whose body is straight-line but for the activations' branches: its
    /// bytes follow its cycles per execution (`codeIntercept + codePerCycle * cycles`, fitted on the
    /// same runs), where the coefficients' per-op code prices missed the profiles' runs by a median
    /// of 60-380 bytes and the line by 6-154 (leave-one-out, both boards).
    public struct RunScale: Codable, Sendable, Equatable {
        public var intercept: Double
        public var weights: [String: Double]
        public var codeIntercept: Double
        public var codePerCycle: Double

        public init(intercept: Double, weights: [String: Double], codeIntercept: Double = 0, codePerCycle: Double = 0) {
            self.intercept = intercept
            self.weights = weights
            self.codeIntercept = codeIntercept
            self.codePerCycle = codePerCycle
        }

        enum CodingKeys: String, CodingKey {
            case intercept, weights
            case codeIntercept = "code_intercept", codePerCycle = "code_per_cycle"
        }

        /// The factor on the price of a run with these terms.
        public func factor(_ terms: Set<String>) -> Double {
            exp(KernelProfile.withoutShiftForms(terms).sorted().reduce(intercept) { $0 + (weights[$1] ?? 0) })
        }
    }

    public init(key: String, target: String, model: String, programs: Int, nodes: [Node], pricesShifts: Bool, unmarkedScale: Double = 1,
                codeIntercept: Double, glueRoutines: [String: [String: Int]] = [:], runScales: [String: RunScale] = [:]) {
        self.key = key
        self.target = target
        self.model = model
        self.programs = programs
        self.nodes = nodes
        self.pricesShifts = pricesShifts
        self.unmarkedScale = unmarkedScale
        self.codeIntercept = codeIntercept
        self.glueRoutines = glueRoutines
        self.runScales = runScales
        (bySignature, byVariant) = Self.index(nodes)
    }

    enum CodingKeys: String, CodingKey {
        case key, target, model, programs, nodes
        case pricesShifts = "prices_shifts", unmarkedScale = "unmarked_scale", codeIntercept = "code_intercept"
        case glueRoutines = "glue_routines", runScales = "run_scales"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(key: try c.decode(String.self, forKey: .key), target: try c.decode(String.self, forKey: .target),
                  model: try c.decode(String.self, forKey: .model), programs: try c.decode(Int.self, forKey: .programs),
                  nodes: try c.decode([Node].self, forKey: .nodes), pricesShifts: try c.decode(Bool.self, forKey: .pricesShifts),
                  unmarkedScale: try c.decode(Double.self, forKey: .unmarkedScale),
                  codeIntercept: try c.decode(Double.self, forKey: .codeIntercept),
                  glueRoutines: try c.decode([String: [String: Int]].self, forKey: .glueRoutines),
                  runScales: try c.decode([String: RunScale].self, forKey: .runScales))
    }

    /// The profiled executions by "node signature" and by "node variant".
    private var bySignature: [String: [Execution]] = [:]
    private var byVariant: [String: [Signature]] = [:]

    /// One signature measured: its terms, the same without shift forms (`withoutShiftForms`, found
    /// once here rather than on every price), and its executions.
    typealias Signature = (terms: Set<String>, ops: Set<String>, executions: [Execution])
    typealias Execution = (measured: Double, priced: Double, shifts: [String: Double], code: Double, pricedCode: Double,
                           routines: [String: Int])

    private static func index(_ nodes: [Node]) -> ([String: [Execution]], [String: [Signature]]) {
        var signatures: [String: [Execution]] = [:]
        var order: [(key: String, node: Node)] = []
        for n in nodes {
            let key = "\(n.node) \(n.signature)"
            if signatures[key] == nil { order.append((key, n)) }
            signatures[key, default: []].append((n.measuredCycles, n.pricedCycles, n.shiftBits, n.measuredCode, n.pricedCode, n.routines))
        }
        var variants: [String: [Signature]] = [:]
        for (key, n) in order {
            let terms = Set(n.signature.split(separator: " ").map(String.init))
            variants["\(n.node) \(n.variant)", default: []].append((terms, withoutShiftForms(terms), signatures[key] ?? []))
        }
        return (signatures, variants)
    }

    /// Whether `node` was measured at this signature (`CostFeatures.signature`).
    public func hasMeasured(node: String, signature: String) -> Bool {
        bySignature["\(node) \(signature)"]?.isEmpty == false
    }

    /// This profile with `more` nodes measured besides its own (a search that measures its
    /// candidates' fused runs): their signatures price as measured from now on; the fits
    /// (`runScales`, `codeIntercept`, `unmarkedScale`) stay as the profile's programs made them.
    public func adding(_ more: [Node]) -> KernelProfile {
        KernelProfile(key: key, target: target, model: model, programs: programs, nodes: nodes + more, pricesShifts: pricesShifts,
                      unmarkedScale: unmarkedScale, codeIntercept: codeIntercept, glueRoutines: glueRoutines,
                      runScales: runScales)
    }

    /// Whether `program` has a node this profile cannot price from a measurement of its own kind: a
    /// fused run (`fusedRun`) never measured as it is (at its signature, and where shifts cost by
    /// distance, `pricesShifts`, at its shifts too), or a node of a variant never measured on that
    /// node (a depthwise convolution as unrolled code on the Uno, a first layer as four-row DSP
    /// blocks on the M4: the coefficients priced their bytes 14-34% low).
    public func lacksMeasurement(of program: FixedProgram, dsp: Bool, avr: Bool) -> Bool {
        lacksMeasurement(nodes: CostFeatures.nodes(program, dsp: dsp, avr: avr))
    }

    /// `lacksMeasurement(of:dsp:avr:)` of a program's node counts (`CostFeatures.nodes`).
    public func lacksMeasurement(nodes: [String: CostFeatures.Vector]) -> Bool {
        nodes.contains { name, counts in
            guard let variant = CostFeatures.variant(counts) else { return false }
            guard variant == Self.fusedRun else {
                guard byVariant["\(name) \(variant)"]?.isEmpty == false else { return true }
                // A 64-bit value is shifted by other instructions on either side of 32 bits, so even
                // where shifts cost alike at any distance (a Cortex-M) such a node costs by its shifts:
                // ProtoNN's squared distance on the M4 measured 3,627 and 4,244 cycles at two shifts
                // of one signature, each priced at the other's. Only its very shifts price it.
                guard !pricesShifts, variant.hasSuffix(".a64.call") else { return false }
                let shifts = Node.shiftBits(counts)
                return !(bySignature["\(name) \(CostFeatures.signature(counts))"] ?? []).contains { $0.shifts == shifts }
            }
            guard let executions = bySignature["\(name) \(CostFeatures.signature(counts))"], !executions.isEmpty else { return true }
            guard pricesShifts else { return false }
            let shifts = Node.shiftBits(counts)
            return !executions.contains { $0.shifts == shifts }
        }
    }

    /// The "node signature" pairs of `program` (its nodes with a kernel of their own) this profile
    /// never measured: the nodes it prices from other signatures or from a fit.
    public func unmeasuredPairs(of program: FixedProgram, dsp: Bool, avr: Bool) -> Set<String> {
        let nodes = CostFeatures.nodes(program, dsp: dsp, avr: avr)
        return Set(program.allSteps.compactMap { step -> String? in
            guard let counts = nodes[step.node.name], CostFeatures.variant(counts) != nil else { return nil }
            let signature = CostFeatures.signature(counts)
            return hasMeasured(node: step.node.name, signature: signature) ? nil : "\(step.node.name) \(signature)"
        })
    }

    /// The cycles of `node` with these counts (`priced`: what the board's coefficients say for them).
    /// From what was measured for the same signature; else for a signature that differs from one
    /// measured only in the forms of its constant shifts (`withoutShiftForms`), at what that one
    /// measured where shifts cost alike at any distance (a Cortex-M: LeNet's first convolution
    /// measured 124,650 cycles on the M4 with three different shift forms, which the coefficients
    /// priced 141k-151k) and at the price moved by its excess where they do not (an AVR);
    /// else at the coefficients' price moved by what
    /// the nearest signature of the node's variant measured beyond its own price (most terms shared,
    /// fewest apart; among those with the same work terms, its loops' `.mac`, `.dot` and `.elem`,
    /// where there are any): the coefficients price only the terms that differ, the profile the rest.
    /// (Nodes are compiled on their own, `MCU_NODE`, so one signature measures alike in every
    /// program. Taking the nearest signature's cycles as they are left out what the differing
    /// requantization costs: a FastGRNN's 16-row products on the M4 20% low.) Nil when the profile
    /// never saw the node's variant. Executions of one signature differ only in their shift
    /// distances: where shifts cost by distance (`pricesShifts`), the execution whose shifts are
    /// nearest is taken and moved by what the difference costs (`shiftCost`); elsewhere they cost
    /// alike, and the mean of what was measured is taken.
    public func cycles(node: String, counts: [String: Double], priced: @autoclosure () -> Double) -> Double? {
        lookup(node: node, counts: counts, priced: priced())?.cycles
    }

    /// How `lookup` priced a node: at its own signature's measurement, at one that differs in its
    /// shift forms, at the coefficients' price moved by the excess of the nearest signature with the
    /// same loops or with other loops, or (a fused run) by the profile's `RunScale`.
    public enum Basis: String, Sendable {
        case signature = "profile", nearest = "nearest signature, same loops", excess = "nearest signature, other loops"
        case shifts = "same signature, other shifts", runs = "fit to the profile's runs"
    }

    /// `cycles(node:counts:priced:)` and how it was found (for `tune measure --per-node`).
    public func lookup(node: String, counts: [String: Double], priced: @autoclosure () -> Double) -> (cycles: Double, basis: Basis)? {
        guard let (executions, basis) = executions(node: node, counts: counts) else {
            guard CostFeatures.variant(counts) == Self.fusedRun, let scale = runScales[node] else { return nil }
            return (priced() * scale.factor(Set(counts.keys)), .runs)
        }
        if basis == .signature { return measured(executions, counts: counts).map { ($0, .signature) } }
        let n = Double(executions.count)
        // Another form of the same shifts costs the same where shifts cost alike at any distance.
        if basis == .shifts && !pricesShifts { return (executions.reduce(0) { $0 + $1.measured } / n, basis) }
        return (max(0, priced() + executions.reduce(0) { $0 + $1.measured - $1.priced } / n), basis)
    }

    /// The bytes of `node`'s function with these counts (`priced`: what the board's coefficients say
    /// for its code terms, `CostFeatures.nodeCode`), found as its cycles are: what its signature
    /// measured, else the nearest signature's bytes moved by the difference of their prices; a fused
    /// run it did not measure from its `cycles` per execution (`RunScale`). Nil where `cycles` is.
    public func code(node: String, counts: [String: Double], priced: Double, cycles: @autoclosure () -> Double) -> Double? {
        function(node: node, counts: counts, priced: priced, cycles: cycles()).bytes
    }

    /// The routines `node`'s function with these counts reaches (`Node.routines`), found as its
    /// bytes are (a fused run it did not measure: from the runs measured with most terms in
    /// common), each with its bytes: those that at least half of the executions taken reach.
    public func routines(node: String, counts: [String: Double]) -> [String: Int] {
        function(node: node, counts: counts, priced: 0, cycles: 0).routines
    }

    /// `code(node:counts:priced:cycles:)` and `routines(node:counts:)` from one lookup of the
    /// executions that price the node (what the cost model asks of every node of every candidate),
    /// and `unmeasured`: how far the coefficients put this node's bytes from those of the execution
    /// taken (the move applied; on an AVR at shifts no execution had, the move its price difference
    /// would make and no less than `codeMove` of its bytes), 0 where the node was measured as it is.
    public func function(node: String, counts: [String: Double], priced: Double,
                         cycles: @autoclosure () -> Double) -> (bytes: Double?, routines: [String: Int], unmeasured: Double) {
        guard let (executions, basis) = executions(node: node, counts: counts) else {
            guard let variant = CostFeatures.variant(counts), variant == Self.fusedRun else { return (nil, [:], 0) }
            let routines = byVariant["\(node) \(variant)"].map { Self.majority(Self.nearest($0, to: CostFeatures.signatureTerms(counts)).map(\.routines)) } ?? [:]
            return (runScales[node].map { max(0, $0.codeIntercept + $0.codePerCycle * cycles()) }, routines, 0)
        }
        // Where shifts cost by distance they take bytes by distance too (a shift by 1 is a few
        // instructions, by 13 a loop or byte moves): the executions whose shifts are nearest.
        let chosen = basis == .signature || basis == .shifts ? nearestShifts(executions, counts: counts) : executions
        let routines = Self.majority(chosen.map(\.routines))
        let n = Double(chosen.count)
        let measured = chosen.reduce(0) { $0 + $1.code } / n
        let move = priced - chosen.reduce(0) { $0 + $1.pricedCode } / n
        // On an AVR the bytes follow the shifts, and the coefficients price a shift's other distance
        // or form roughly (an unrolled convolution's requantization in each of its nine bands: DSCNN's
        // first layer 1,328 B where the nearest shifts measured 1,609 B and the coefficients moved
        // them by 34 B): no less than `codeMove` of the bytes is unmeasured there.
        let shiftsUnmeasured = max(abs(move), Self.codeMove * measured)
        if basis == .signature {
            let exact = !pricesShifts || chosen.contains { $0.shifts == Node.shiftBits(counts) }
            return (measured, routines, exact ? 0 : shiftsUnmeasured)
        }
        if basis == .shifts && !pricesShifts { return (measured, routines, 0) }
        if basis == .shifts { return (max(0, measured + move), routines, shiftsUnmeasured) }
        // Another signature: the coefficients' code prices of single terms are rough (a GRU's input
        // product on the M4 priced 1,021 B, its measured siblings 64-72 B), so they move the nearest
        // signature's bytes by at most `codeMove` of them. Predicting each profiled signature from
        // the others (both boards, 471 signatures): unbounded, a median miss of 21-22 B and at worst
        // 307 B; bounded by 10%, 8-17 B and at worst 119 B; the nearest's bytes alone 4-16 B but 76 B
        // at the 90th percentile on the M4 where this has 41.
        let bound = Self.codeMove * measured
        let moved = min(bound, max(-bound, move))
        // An AVR's unrolled convolution writes out each band's products and requantization, so its
        // bytes follow the signature closely and the coefficients move another's roughly (LeNet's
        // first layer measured 1,394 B where the nearest signature moved gave 1,533 B, the move
        // 23 B): no less than `codeMove` of its bytes is unmeasured, as at other shifts above.
        if pricesShifts, CostFeatures.variant(counts)?.hasPrefix("unrolled.") == true {
            return (max(0, measured + moved), routines, moved < 0 ? min(moved, -bound) : max(moved, bound))
        }
        return (max(0, measured + moved), routines, moved)
    }

    /// How far the coefficients may move an unmeasured node's bytes from those of the nearest
    /// signature measured, as a fraction of them (`code(node:counts:priced:cycles:)`).
    static let codeMove = 0.1

    /// The routines `program`'s glue reaches: those of the profiled programs with its glue
    /// signature, else those that at least half of the profiled signatures reach.
    public func glueRoutines(of program: FixedProgram) -> [String: Int] {
        glueRoutines[CostFeatures.glueSignature(program)] ?? Self.majority(Array(glueRoutines.values))
    }

    /// The routines at least half of `records` hold, each with the largest bytes recorded for it
    /// (whatever order the records come in: a profile decoded from the cache lays its
    /// dictionaries out unlike one just measured).
    static func majority(_ records: [[String: Int]]) -> [String: Int] {
        var reached: [String: (count: Int, bytes: Int)] = [:]
        for record in records {
            for (name, bytes) in record { reached[name] = ((reached[name]?.count ?? 0) + 1, max(bytes, reached[name]?.bytes ?? 0)) }
        }
        return reached.filter { 2 * $0.value.count >= records.count }.mapValues(\.bytes)
    }

    /// Bytes of the routines a program links, each once however many of its nodes and its glue
    /// reach it (`routines(node:counts:)`, `glueRoutines(of:)`, merged).
    public func routineCode(_ reached: [String: Int]) -> Double {
        Double(reached.values.reduce(0, +))
    }

    /// Among `executions` (not empty), those whose shifts cost nearest to the shifts of `counts`
    /// where shifts cost by distance (`pricesShifts`); elsewhere those with its very shifts where
    /// there are any (`exactShifts`), else all of them.
    private func nearestShifts(_ executions: [Execution], counts: [String: Double]) -> [Execution] {
        let shifts = Node.shiftBits(counts)
        guard pricesShifts else { return Self.exactShifts(executions, shifts) }
        let distances = executions.map { abs(Self.shiftCost(from: $0.shifts, to: shifts)) }
        let nearest = distances.min() ?? 0
        return zip(executions, distances).filter { $0.1 == nearest }.map(\.0)
    }

    /// The executions that price a node with these counts, and how they relate to it.
    private func executions(node: String, counts: [String: Double]) -> ([Execution], Basis)? {
        let signature = CostFeatures.signature(counts)
        if let executions = bySignature["\(node) \(signature)"], !executions.isEmpty {
            return (executions, .signature)
        }
        guard let variant = CostFeatures.variant(counts), let seen = byVariant["\(node) \(variant)"], !seen.isEmpty else { return nil }
        let terms = Set(signature.split(separator: " ").map(String.init))
        // A signature that differs only in how its shifts decompose is the same loops with other constants.
        let ops = Self.withoutShiftForms(terms)
        let siblings = seen.filter { $0.ops == ops }.flatMap(\.executions)
        if !siblings.isEmpty { return (siblings, .shifts) }
        guard variant != Self.fusedRun else { return nil }
        let work = Self.workTerms(terms)
        let sameWork = seen.filter { Self.workTerms($0.terms) == work }
        let executions = Self.nearest(sameWork.isEmpty ? seen : sameWork, to: terms)
        return executions.isEmpty ? nil : (executions, sameWork.isEmpty ? .excess : .nearest)
    }

    /// The executions of the signatures among `among` nearest to `terms`: most terms shared, fewest apart.
    private static func nearest(_ among: [Signature], to terms: Set<String>) -> [Execution] {
        let score = { (other: Set<String>) in other.intersection(terms).count - other.symmetricDifference(terms).count }
        let best = among.map { score($0.terms) }.max() ?? 0
        return among.filter { score($0.terms) == best }.flatMap(\.executions)
    }

    /// Those of `executions` (not empty) with these shifts where there are any, else all: where
    /// shifts cost alike at any distance, a signature's executions still differ by the data their
    /// formats let through (a FastGRNN cell's interpolated tables on the M4: the mean over other
    /// candidates' executions priced one candidate 1.6% high, its own measurement 0.1%).
    static func exactShifts(_ executions: [Execution], _ shifts: [String: Double]) -> [Execution] {
        let exact = executions.filter { $0.shifts == shifts }
        return exact.isEmpty ? executions : exact
    }

    /// What `executions` measured, moved to the shifts of `counts` where shifts cost by distance.
    private func measured(_ executions: [Execution], counts: [String: Double]) -> Double? {
        guard !executions.isEmpty else { return nil }
        guard pricesShifts else {
            let chosen = nearestShifts(executions, counts: counts)
            return chosen.reduce(0) { $0 + $1.measured } / Double(chosen.count)
        }
        let shifts = Node.shiftBits(counts)
        let moved = executions.map { (cost: Self.shiftCost(from: $0.shifts, to: shifts), measured: $0.measured) }
        let nearest = moved.map { abs($0.cost) }.min() ?? 0
        let chosen = moved.filter { abs($0.cost) == nearest }
        return max(0, chosen.reduce(0) { $0 + $1.measured + $1.cost } / Double(chosen.count))
    }

    /// The variant of a fused elementwise run (`ElementwiseFusion`). Every op of the run shares one
    /// loop, so how many values the compiler keeps in registers depends on the whole mix of ops and
    /// widths, and the nearest run measured, differing in one op, is no guide: predicting each of
    /// the profiles' runs from the others (the ten profiles with runs: five models on the Uno and
    /// the Nano 33 BLE), the nearest run's excess missed by a median of 6.8-16.6% where the
    /// coefficients missed by 4.2-16.4%. So a run is priced at its own signature as measured, or
    /// one that differs only in the form of its constant shifts (`withoutShiftForms`: a FastGRNN
    /// cell whose `zh` shifts by 16 instead of 15 measured the same on the M4, and was priced 27%
    /// low by the coefficients), else at the coefficients' price times the node's `RunScale`
    /// (the same leave-one-out: 90th percentile 14-20% where the coefficients had 19-24% on the
    /// Nano 33 BLE, and 14-17% against 12-25% on the Uno).
    public static let fusedRun = "chain.call"

    /// `terms` without the forms of their constant shifts (`shiftTerms`: byte moves, a short run of
    /// bits, a loop over bits): the same statements with another distance.
    public static func withoutShiftForms(_ terms: Set<String>) -> Set<String> {
        terms.filter { !isShiftForm($0) }
    }

    /// Whether `term` is the form of a constant shift (`withoutShiftForms`).
    public static func isShiftForm(_ term: String) -> Bool {
        term.hasSuffix(".moves") || term.hasSuffix(".short.bits") || term.hasSuffix(".loop") || term.hasSuffix(".loop.bits")
    }

    /// A kernel's loop terms: what it does per multiply-accumulate, dot product or element.
    static func workTerms(_ terms: Set<String>) -> Set<String> {
        terms.filter { $0.hasSuffix(".mac") || $0.hasSuffix(".dot") || $0.hasSuffix(".elem") }
    }

    /// Cycles a change of shift terms costs on a core that shifts one bit per instruction: per bit,
    /// one instruction per byte of the shifted width (`a32`, `shift16`), and a loop's decrement and
    /// branch where the compiler loops (`.loop.`). Physical rather than fitted: a fit on random
    /// layers cannot tell a shift's bits from the rest of the work they come with.
    static func shiftCost(from: [String: Double], to: [String: Double]) -> Double {
        var total = 0.0
        for key in Set(from.keys).union(to.keys).sorted() {
            let delta = (to[key] ?? 0) - (from[key] ?? 0)
            guard delta != 0 else { continue }
            let parts = key.split(separator: ".")
            let width = parts.compactMap { part -> Int? in
                if part.hasPrefix("shift"), let w = Int(part.dropFirst(5)) { return w }
                if part.hasPrefix("a"), let w = Int(part.dropFirst()) { return w }
                return nil
            }.last ?? 16
            total += delta * (Double(width) / 8 + (parts.contains("loop") ? 3 : 0))
        }
        return total
    }
}
