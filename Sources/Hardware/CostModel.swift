import Emit
import FixedPoint
import ModelIR

/// What a fixed-point program costs on a target: cycles per inference, peak RAM and flash.
///
/// Cycles price the program's work (`CostFeatures`: per kernel, its calls, rows, taps,
/// multiply-accumulates and requantization shifts by width; recurrent bodies times the mean
/// sequence length) with the target's coefficients, fitted by `tune calibrate` on the board's
/// simulator, and where a `KernelProfile` of the model is given, each node it measured at what was
/// measured. RAM is what the firmware the tuner writes holds: the planned arena, the library's
/// statics and the caller's input and output buffers (all exact, `StaticMemory`), plus the target's
/// worst-case stack estimate and what the platform itself takes; for the pick, the tuner replaces
/// the estimate with the built program's analysed stack. Flash is the weights and tables (exact)
/// plus the code, priced per kernel the same way.
public struct CostModel: Sendable {
    public struct Estimate: Sendable, Equatable, Codable {
        public var cycles: Double
        public var ramBytes: Int
        public var flashBytes: Int
        public var arenaBytes: Int
        public var arenaLowerBound: Int
        public var constantBytes: Int
        /// Static RAM (arena, library statics, input and output buffers) and the stack estimate.
        public var staticBytes: Int
        public var stackBytes: Int
    }

    public let target: Target
    /// Mean timesteps per sequence (1 for feed-forward models).
    public let meanSteps: Double
    /// The model's own kernels measured on the board, when the caller has them: nodes the profile
    /// saw are priced at what was measured for them, and their code with its measured offset.
    public let profile: KernelProfile?

    /// Whether the emitted C takes its DSP-extension paths on this target (`Target.Core.hasDSP`).
    public var dsp: Bool { target.core.hasDSP }
    /// Whether the emitted C takes its AVR-only kernels on this target.
    public var avr: Bool { target.core == .avr }

    public init(target: Target, meanSteps: Double, profile: KernelProfile? = nil) {
        self.target = target
        self.meanSteps = meanSteps
        self.profile = profile
    }

    /// - Parameter fusion: the program's fused runs (`ElementwiseFusion.groups`) when the caller has
    ///   found them, as a measured-runs search has for `needsMeasurement`; found here otherwise.
    public func estimate(_ program: FixedProgram, fusion: [ElementwiseFusion.Group]? = nil) -> Estimate {
        // The fused runs (each checked against the arena), found once for the plan, cycles and code.
        let fusion = fusion ?? ElementwiseFusion.groups(program)
        let arena = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches, fusion: fusion)
        let c = target.cost
        let constants = Self.constantBytes(program, dsp: dsp)
        let statics = Self.staticBytes(program, arena: arena, target: target)
        // A profile prices each node by what it measured: the nodes' counts found once for cycles and code.
        let nodes = profile.map { _ in CostFeatures.nodes(program, dsp: dsp, avr: avr, fusion: fusion) }
        let code = profile.flatMap { profile in nodes.map { Self.code(program, nodes: $0, profile: profile, target: target, fusion: fusion).total } }
            ?? c.price(CostFeatures.code(program, dsp: dsp, avr: avr, fusion: fusion), in: \.codeBytes)
        return Estimate(cycles: cycles(program, nodes: nodes, fusion: fusion),
                        ramBytes: statics + c.stackBytes + c.platformRAMBytes,
                        flashBytes: constants + Int(max(0, code).rounded()),
                        arenaBytes: arena.bytes, arenaLowerBound: arena.lowerBound, constantBytes: constants,
                        staticBytes: statics, stackBytes: c.stackBytes)
    }

    /// Cycles per inference alone (no arena plan).
    public func cycles(_ program: FixedProgram) -> Double {
        cycles(program, nodes: profile.map { _ in CostFeatures.nodes(program, dsp: dsp, avr: avr) })
    }

    /// Cycles per inference; with a profile, `nodes` are the program's node counts (`CostFeatures.nodes`).
    private func cycles(_ program: FixedProgram, nodes: [String: CostFeatures.Vector]?, fusion: [ElementwiseFusion.Group]? = nil) -> Double {
        let c = target.cost
        guard let profile, let nodes else {
            return c.price(CostFeatures.inference(program, steps: meanSteps, dsp: dsp, avr: avr, fusion: fusion), in: \.cycles)
        }
        // Each call's pieces, a node the profile knows at its measured cycles, as often as the call runs.
        var total = 0.0
        for (call, times) in CostFeatures.calls(program, steps: meanSteps) {
            var cost = c.price(CostFeatures.overhead(call), in: \.cycles)
            for piece in CostFeatures.pieces(of: call, in: program) {
                if case let .node(name) = piece, let counts = nodes[name] {
                    // Priced only where the profile needs it (a signature it did not measure) or lacks the node.
                    cost += profile.cycles(node: name, counts: counts, priced: c.price(counts, in: \.cycles))
                        ?? c.price(counts, in: \.cycles)
                } else {
                    cost += c.price(CostFeatures.features(of: piece, in: program, dsp: dsp, avr: avr), in: \.cycles)
                }
            }
            total += times * cost
        }
        return max(0, total * profile.unmarkedScale)
    }

    /// Code bytes with a profile, by where they come from (`tune measure --per-node` sets them beside
    /// the firmware's symbols).
    public struct CodeParts: Sendable {
        /// The glue at the coefficients' price (`CostFeatures.glueCode`).
        public var glue: Double
        /// Each node's function, by node name.
        public var nodes: [String: Double]
        /// The library and helper routines the nodes and the glue reach, each once, with their bytes.
        public var routines: [String: Int]
        /// What the profile's programs had beyond their price (`KernelProfile.codeIntercept`).
        public var intercept: Double
        /// How far the coefficients put the nodes' bytes from those measured at other signatures or
        /// shifts, in all (absolute, `KernelProfile.function`): what no build of theirs measured.
        public var unmeasured: Double
        public var total: Double { glue + nodes.values.reduce(0, +) + Double(routines.values.reduce(0, +)) + intercept }
    }

    /// Code bytes with a profile: each node's function as the profile measured it (or its price
    /// moved by the nearest signature's excess), the routines they reach each once, the rest at the
    /// coefficients' price of the glue plus what the profile's programs had beyond it. Nil without a profile.
    public func codeParts(_ program: FixedProgram) -> CodeParts? {
        profile.map { Self.code(program, nodes: CostFeatures.nodes(program, dsp: dsp, avr: avr), profile: $0, target: target) }
    }

    /// Whether a search that measures what its profile lacks (`tune --measure-runs`) measures
    /// `program`: a node the profile never measured of its kind (`KernelProfile.lacksMeasurement`),
    /// or nodes whose bytes the coefficients put away from those measured by at least
    /// `measuredMoveShare` of the program's flash in all (DSCNN's first convolution, unrolled on the
    /// Uno or padded on the M4, priced 100-300 B away from what it measured at a neighbouring
    /// signature or at other shifts).
    /// (On the search's path: the nodes' counts found once, and the flash as `estimate` finds it
    /// without its arena plan.)
    public func needsMeasurement(_ program: FixedProgram, fusion: [ElementwiseFusion.Group]? = nil) -> Bool {
        guard let profile else { return false }
        let fusion = fusion ?? ElementwiseFusion.groups(program)
        let nodes = CostFeatures.nodes(program, dsp: dsp, avr: avr, fusion: fusion)
        if profile.lacksMeasurement(nodes: nodes) { return true }
        let parts = Self.code(program, nodes: nodes, profile: profile, target: target, fusion: fusion)
        let flash = Self.constantBytes(program, dsp: dsp) + Int(max(0, parts.total).rounded())
        return parts.unmeasured >= Self.measuredMoveShare * Double(flash)
    }

    /// The share of a program's flash that the coefficients may move its nodes' bytes by before
    /// `needsMeasurement` asks for a build: a third of the 3% the cost model is held to.
    static let measuredMoveShare = 0.01

    static func code(_ program: FixedProgram, nodes: [String: CostFeatures.Vector], profile: KernelProfile, target: Target,
                     fusion: [ElementwiseFusion.Group]? = nil) -> CodeParts {
        let c = target.cost
        let codes = CostFeatures.nodeCode(program, dsp: target.core.hasDSP, avr: target.core == .avr, fusion: fusion)
        var routines = profile.glueRoutines(of: program)
        var functions: [String: Double] = [:]
        var unmeasured = 0.0
        for step in program.allSteps {
            let name = step.node.name
            let priced = c.price(codes[name] ?? [:], in: \.codeBytes)
            guard let counts = nodes[name] else { functions[name, default: 0] += priced; continue }
            let function = profile.function(node: name, counts: counts, priced: priced, cycles: {
                let price = c.price(counts, in: \.cycles)
                return profile.cycles(node: name, counts: counts, priced: price) ?? price
            }())
            routines.merge(function.routines) { max($0, $1) }
            functions[name, default: 0] += function.bytes ?? priced
            unmeasured += abs(function.unmeasured)
        }
        return CodeParts(glue: c.price(CostFeatures.glueCode(program), in: \.codeBytes), nodes: functions, routines: routines,
                         intercept: profile.codeIntercept, unmeasured: unmeasured)
    }

    /// Weights, biases and activation tables in flash, as the emitter writes them.
    public static func constantBytes(_ program: FixedProgram, dsp: Bool = false) -> Int {
        var tables = Set<String>()
        var lookups = 0
        let far = CEmitter.farConstants(of: program)
        lookups += DirectLookup.bytes(program.allSteps)
        for step in program.allSteps {
            lookups += SquaredDistanceExpansion.bytes(step, program: program, far: far)
            if DirectLookup.applies(to: step) { continue }
            switch step.kernel {
            case .sigmoid: tables.insert("sigmoid")
            case .tanh: tables.insert("tanh")
            case .exp: tables.insert("exp")
            default: break
            }
        }
        let arrays = CEmitter.flashConstants(of: program).compactMap { program.constants[$0] }
            .reduce(0) { $0 + $1.values.count * $1.format.bits / 8 }
        // With the DSP extension: weights widened to int16, dense layers as streams, arrays folded into code.
        let dspLayouts = dsp ? CEmitter.dspConstantBytes(of: program) : 0
        return arrays + dspLayouts + lookups + tables.reduce(0) { $0 + ($1 == "exp" ? 2 * ActivationTables.exp2.count : 2 * ActivationTables.gridEntries) }
    }

    /// Static RAM of the firmware: exact, with the end of .bss aligned as the target's linker script
    /// aligns it (8 bytes for the Cortex-M runtime).
    public static func staticBytes(_ program: FixedProgram, arena: ArenaPlan, target: Target) -> Int {
        let total = StaticMemory(program: program, arena: arena, pointerBytes: target.pointerBytes).total
        let alignment = target.core == .avr ? 1 : 8
        return (total + alignment - 1) / alignment * alignment
    }
}
