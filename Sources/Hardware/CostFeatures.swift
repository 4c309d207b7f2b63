import Emit
import FixedPoint
import ModelIR

/// The work a fixed-point program does, as named counts that the cost model prices with a
/// target's calibrated coefficients: cycles = Σ coefficient × count.
///
/// Each count mirrors a loop or a statement of the emitted C (`KernelEmitter`): a dense layer
/// counts its calls, rows and multiply-accumulates by operand and accumulator width; a
/// requantization counts the bits it shifts (an AVR shifts one bit per instruction, a Cortex-M any
/// number at once: the fit decides what each costs on each core). Names read
/// `<kind>.<variant>.<unit>`, e.g. `dense.w8.x16.a32.mac`, `rq.a32.r.bits`.
public enum CostFeatures {
    public typealias Vector = [String: Double]

    /// A piece of the program a calibration build marks on its own: one node, or the glue the API
    /// functions run between nodes.
    public enum Piece: Hashable, Sendable, CustomStringConvertible {
        case node(String)
        /// `model_predict` / `model_result`: copy the outputs to the caller and take their argmax.
        case outputCopy
        /// `model_reset`: zero the states.
        case resetStates
        /// `model_step`: the new states replace the old.
        case stateCopy

        public var description: String {
            switch self {
            case let .node(name): name
            case .outputCopy: "(output copy and argmax)"
            case .resetStates: "(state reset)"
            case .stateCopy: "(state update)"
            }
        }
    }

    /// The API functions a firmware calls, each one marked region.
    public enum Call: String, Sendable, CaseIterable {
        case predict, reset, step, result
    }

    /// The pieces each API call runs, in order.
    public static func pieces(of call: Call, in program: FixedProgram) -> [Piece] {
        let loop = program.steps.first { if case .loop = $0.kernel { true } else { false } }
        switch call {
        case .predict: return program.steps.map { .node($0.node.name) } + [.outputCopy]
        case .reset: return [.resetStates]
        case .step:
            guard case let .loop(plan)? = loop?.kernel else { return [] }
            return plan.body.map { .node($0.node.name) } + [.stateCopy]
        case .result:
            return program.steps.filter { $0.node.name != loop?.node.name }.map { .node($0.node.name) } + [.outputCopy]
        }
    }

    /// Counts of one API call: its own overhead and its pieces.
    public static func call(_ call: Call, in program: FixedProgram, dsp: Bool, avr: Bool) -> Vector {
        Self.call(call, in: program, Context(program, dsp: dsp, avr: avr))
    }

    private static func call(_ call: Call, in program: FixedProgram, _ context: Context) -> Vector {
        var v = overhead(call)
        for piece in pieces(of: call, in: program) { v.add(features(of: piece, in: program, context)) }
        return v
    }

    /// What a node's counts depend on beyond the node itself, found once per program: which
    /// weights are far, which nodes run fused, and whether the core takes the DSP paths.
    struct Context {
        let far: Set<String>
        let dsp: Bool
        /// Whether the core is an AVR, whose C takes the `#if defined(__AVR__)` kernels.
        let avr: Bool
        let groups: [String: ElementwiseFusion.Group]
        /// Muls emitted as `mcu_mul16x8_rq8_S` (`MixedProduct`).
        let mixed: [String: (shift: Int, wideFirst: Bool)]
        /// Dense layers emitted as streams of blocks of four rows, by weight array (`FourRowStream`; DSP cores only).
        let streams: [String: FourRowStream]

        /// `fusion`: the program's fused runs when the caller has found them (`ElementwiseFusion.groups`,
        /// which checks each run against the arena: found once per candidate, not per use).
        init(_ program: FixedProgram, dsp: Bool, avr: Bool, fusion: [ElementwiseFusion.Group]? = nil) {
            let far = CEmitter.farConstants(of: program)
            self.far = far
            self.dsp = dsp
            self.avr = avr
            var groups: [String: ElementwiseFusion.Group] = [:]
            let fused = fusion ?? ElementwiseFusion.groups(program, far: far)
            for group in fused {
                for step in group.steps { groups[step.node.name] = group }
            }
            self.groups = groups
            self.mixed = MixedProduct.products(of: program, groups: fused)
            self.streams = dsp ? FourRowStream.streams(of: program, far: far) : [:]
        }
    }

    /// Counts of one inference: a feed-forward call, or a sequence of `steps` timesteps.
    public static func inference(_ program: FixedProgram, steps: Double, dsp: Bool, avr: Bool,
                                 fusion: [ElementwiseFusion.Group]? = nil) -> Vector {
        // Which weights are far and which nodes are fused are properties of the whole program: found once.
        let context = Context(program, dsp: dsp, avr: avr, fusion: fusion)
        var v: Vector = [:]
        for (c, times) in calls(program, steps: steps) { v.add(call(c, in: program, context), times: times) }
        return v
    }

    /// A call's own work, besides its pieces.
    public static func overhead(_ call: Call) -> Vector { ["api.\(call.rawValue)": 1] }

    /// Counts of every node of `program`, by name (the program's far weights found once).
    public static func nodes(_ program: FixedProgram, dsp: Bool, avr: Bool, fusion: [ElementwiseFusion.Group]? = nil) -> [String: Vector] {
        let context = Context(program, dsp: dsp, avr: avr, fusion: fusion)
        var nodes: [String: Vector] = [:]
        for step in program.allSteps { nodes[step.node.name] = node(step, in: program, context) }
        return nodes
    }

    /// The API calls of one inference and how often each runs: `predict` once, or `reset`, `steps`
    /// times `step`, and `result`.
    public static func calls(_ program: FixedProgram, steps: Double) -> [(call: Call, times: Double)] {
        program.graph.input.isSequence ? [(.reset, 1), (.step, steps), (.result, 1)] : [(.predict, 1)]
    }

    public static func features(of piece: Piece, in program: FixedProgram, dsp: Bool, avr: Bool) -> Vector {
        // Only a node needs the program's context (its fused runs are worth an arena check each).
        guard case .node = piece else { return glue(piece, in: program) }
        return features(of: piece, in: program, Context(program, dsp: dsp, avr: avr))
    }

    private static func features(of piece: Piece, in program: FixedProgram, _ context: Context) -> Vector {
        guard case let .node(name) = piece else { return glue(piece, in: program) }
        guard let step = program.allSteps.first(where: { $0.node.name == name }) else { return [:] }
        return node(step, in: program, context)
    }

    /// Counts of a piece of API glue (a copy of the output or of the states, their reset).
    private static func glue(_ piece: Piece, in program: FixedProgram) -> Vector {
        switch piece {
        case .node:
            return [:]
        case .outputCopy:
            let count = max(program.graph.outputShape.elementCount, 1)
            let bits = program.outputFormat.bits
            var v: Vector = ["glue.out": 1]
            v.loop("glue.out.o\(bits)", count: count, bytes: bits / 8)
            if !program.graph.outputsClassIndex { v.loop("glue.argmax.o\(bits)", count: count, bytes: bits / 8) }
            return v
        case .resetStates, .stateCopy:
            guard case let .loop(plan)? = program.steps.first(where: { if case .loop = $0.kernel { true } else { false } })?.kernel else { return [:] }
            let name = piece == .resetStates ? "glue.reset" : "glue.state"
            var v: Vector = [name: 1]
            for state in plan.states {
                let bits = program.format(state.name).bits
                v.loop("\(name).b\(bits)", count: state.shape.elementCount, bytes: bits / 8)
            }
            return v
        }
    }

    /// What the code outside the nodes depends on: the input a step or prediction takes, the output
    /// copied out, and each recurrent state reset and copied, by element count and width. Two
    /// programs with equal glue signatures compile their glue alike (gcc makes a loop that clears
    /// or copies a state a call to memset or memcpy at some sizes and not at others).
    public static func glueSignature(_ program: FixedProgram) -> String {
        var v: Vector = ["in.b\(program.inputFormat.bits)": Double(program.graph.input.shape.elementCount)]
        for piece in [Piece.outputCopy, .resetStates, .stateCopy] {
            v.merge(features(of: piece, in: program, dsp: false, avr: false)) { a, _ in a }
        }
        return v.keys.sorted().map { "\($0)=\(v[$0] ?? 0)" }.joined(separator: " ")
    }

    /// Every term of a node's counts, by name: two nodes with equal signatures run the same loops.
    /// A fused run's terms also carry their counts (`chain.rq.a32.r=32`), its shifts aside (their
    /// forms, and their bits, which `KernelProfile.Node.shiftBits` compares):
    /// its ops' terms add up by name, so two runs with the same names can differ in how many
    /// of an op they do per element (an LSTM cell whose output gate needs no rounding shift under
    /// one format and one under the next: 0.5% fewer cycles on the M4, priced alike by name).
    public static func signature(_ counts: Vector) -> String {
        guard counts[KernelProfile.fusedRun] != nil else { return counts.keys.sorted().joined(separator: " ") }
        return counts.keys.sorted().map { key in
            KernelProfile.isShiftForm(key) || key.hasSuffix(".bits") ? key : "\(key)=\(countText(counts[key] ?? 0))"
        }.joined(separator: " ")
    }

    /// A count as a signature writes it: whole counts without a fraction.
    private static func countText(_ count: Double) -> String {
        count == count.rounded() && abs(count) < 1e15 ? String(Int(count)) : String(count)
    }

    /// The tokens of `signature(counts)`: what two signatures are compared by.
    public static func signatureTerms(_ counts: Vector) -> Set<String> {
        Set(signature(counts).split(separator: " ").map(String.init))
    }

    /// The term a signature's token names (`chain.rq.a32.r=32` -> `chain.rq.a32.r`).
    public static func termName(_ token: Substring) -> String {
        String(token.split(separator: "=", maxSplits: 1).first ?? token)
    }

    /// The term a kernel's requantization, shift or bias term shares with every other kernel's
    /// (`conv.dot24.rq.a32.o16.l` -> `rq.a32.o16.l`); nil for any other term. The same statement
    /// costs about the same in every kernel: the fit prices it once for all (the shared term) plus
    /// what each kernel adds to it (its own term, held near zero where the benchmarks say little;
    /// `CalibrationFit`), and a price adds the two (`CostCoefficients.price`).
    public static func sharedTerm(of key: String) -> String? {
        // A scan of the bytes in place, not `range(of:)` or a copy: every price looks at every key,
        // thousands of times a second.
        let utf8 = key.utf8
        guard !utf8.starts(with: "code.".utf8) else { return nil }
        var from = utf8.startIndex
        while let dot = utf8[from...].firstIndex(of: UInt8(ascii: ".")) {
            from = utf8.index(after: dot)
            let rest = utf8[from...]
            if rest.starts(with: "rq.".utf8) || rest.starts(with: "lshift.".utf8) || rest.starts(with: "bias.".utf8) {
                return String(decoding: rest, as: UTF8.self)
            }
        }
        return nil
    }

    /// A node's kernel variant: its call term (`dense.w8.x16.a32.call`).
    public static func variant(_ counts: Vector) -> String? {
        counts.keys.filter { $0.hasSuffix(".call") }.min()
    }

    // MARK: Nodes

    /// Counts of one node's kernel. Requantizations and shifts are named after the kernel that does
    /// them (`dense.rq.a32.r`): the compiler schedules the same statement differently in a
    /// multiply-accumulate loop and in an elementwise one, and a fit per kind of kernel is closer.
    /// (For every node of a program, `nodes` finds what they share once.)
    public static func node(_ step: FixedStep, in program: FixedProgram, dsp: Bool, avr: Bool) -> Vector {
        node(step, in: program, Context(program, dsp: dsp, avr: avr))
    }

    private static func node(_ step: FixedStep, in program: FixedProgram, _ context: Context) -> Vector {
        let v = kernel(step, in: program, context)
        // Named after the kernel's call term: its kind, and for a multiply-accumulate kernel its full
        // variant (the registers its operands and accumulator hold shape the code around the loop).
        guard let call = v.keys.first(where: { $0.hasSuffix(".call") }) else { return v }
        let space = String(call.dropLast(5))
        var named: Vector = [:]
        for (key, value) in v {
            let shared = key.hasPrefix("rq.") || key.hasPrefix("lshift.") || key.hasPrefix("bias.")
            named[shared ? "\(space).\(key)" : key] = value
        }
        return named
    }

    private static func kernel(_ step: FixedStep, in program: FixedProgram, _ context: Context) -> Vector {
        // A run of elementwise nodes is one loop (`ElementwiseFusion`), counted at its first node.
        if let group = context.groups[step.node.name] {
            return group.head == step.node.name ? fused(group, in: program, context) : [:]
        }
        return single(step, in: program, context)
    }

    /// A fused run: the loop, each input read and each value stored, and each node's arithmetic
    /// by its own terms named `chain.*` (no loop, load or store of its own; its values in registers).
    private static func fused(_ group: ElementwiseFusion.Group, in program: FixedProgram, _ context: Context) -> Vector {
        let n = Double(group.elements)
        var v: Vector = ["chain.call": 1, "chain.elem": n]
        for input in group.inputs { v["chain.load.b\(program.format(input).bits).elem", default: 0] += n }
        for output in group.stored { v["chain.store.b\(program.format(output).bits).elem", default: 0] += n }
        for step in group.steps {
            for (key, value) in single(step, in: program, context) where !key.hasSuffix(".call") {
                v["chain.\(key)", default: 0] += value
            }
        }
        return v
    }

    private static func single(_ step: FixedStep, in program: FixedProgram, _ context: Context) -> Vector {
        let (dsp, avr, far) = (context.dsp, context.avr, context.far)
        let shapes = program.graph.shapes
        let count = Double(shapes[step.node.output]?.elementCount ?? 0)
        let out = step.output.bits
        let x = step.inputs.first?.bits ?? 16
        var v: Vector = [:]
        // A ReLU the layer before applies as it stores (`ClampFusion`) has no code of its own.
        if ClampFusion.isAbsorbed(step, in: program, far: far) { return v }
        if DirectLookup.applies(to: step) {
            // One read of the input, one of the table in flash, one store, per element.
            v["lut.call"] = 1
            v.elementwise("lut", [out == 16 ? "o16" : nil], count: count)
            return v
        }
        switch step.kernel {
        case let .linear(plan):
            linear(plan, step: step, program: program, dsp: dsp, avr: avr, far: far, stream: context.streams[plan.weights], into: &v)
        case let .add(plan):
            let (kind, b) = secondOperand(step, constant: plan.constant, program: program)
            let a = plan.accBits
            v["add.call"] = 1
            if avr, SaturatingAdd.applies(to: step, program: program) {
                // One 8-bit add and a branch not taken (`mcu_add_sat8`), a rounded addend or not.
                v.elementwise("add", ["s8", kind == "t" ? nil : kind], count: count)
                break
            }
            if let cs = RoundedAddend.stored(step, program: program) {
                // One addition of the stored rounded addend and a saturation (`RoundedAddend`).
                let range = (typeRange(x).lo + Double(cs.min() ?? 0), typeRange(x).hi + Double(cs.max() ?? 0))
                if v.folded("add", range: range, shift: 0, outBits: out, count: count) { break }
                v.elementwise("add", ["rounded", kind == "t" ? nil : kind, x == 16 ? "x16" : nil, b == 16 ? "b16" : nil, a > 16 ? "a\(a)" : nil], count: count)
                v.requant(avr: avr, count: count, accBits: a, outBits: out, shift: 0, bound: .greatestFiniteMagnitude, range: range)
                break
            }
            let xs = scaled(typeRange(x), plan.shiftA)
            let bs = scaled(operandRange(step, constant: plan.constant, program: program), plan.shiftB)
            let range = plan.subtract ? (xs.lo - bs.hi, xs.hi - bs.lo) : (xs.lo + bs.lo, xs.hi + bs.hi)
            if v.folded("add", range: range, shift: plan.shift, outBits: out, count: count) { break }
            if avr, SaturatingAdd16.applies(to: step, program: program) {
                // A 16-bit add or subtract and a branch not taken, each term shifted in 16 bits (`mcu_add_sat16`).
                v.elementwise("add", ["s16", plan.subtract ? "sub" : nil, kind == "t" ? nil : kind, x == 8 ? "x8" : nil,
                                      kind != "s" && b == 8 ? "b8" : nil], count: count)
                v["add.s16.l.bits", default: 0] += count * Double(plan.shiftA + (kind == "s" ? 0 : plan.shiftB))
                break
            }
            v.elementwise("add", [kind == "t" ? nil : kind, x == 16 ? "x16" : nil, b == 16 ? "b16" : nil, a > 16 ? "a\(a)" : nil], count: count)
            v.leftShift(avr: avr, plan.shiftA, count: count, accBits: a)
            if kind != "s" { v.leftShift(avr: avr, plan.shiftB, count: count, accBits: a) }
            v.requant(avr: avr, count: count, accBits: a, outBits: out, shift: plan.shift, bound: .greatestFiniteMagnitude, range: range)
        case let .mul(plan):
            let (kind, b) = secondOperand(step, constant: plan.constant, program: program)
            v["mul.call"] = 1
            if avr, let s = NarrowProduct.shift(step, program: program) {
                // `muls`, the rounding add and 8 - s left shifts each with a branch not taken.
                v.elementwise("mul", ["q8", kind == "t" ? nil : kind], count: count)
                v["mul.q8.l.bits", default: 0] += count * Double(8 - s)
                break
            }
            let range = product(typeRange(x), operandRange(step, constant: plan.constant, program: program))
            if v.folded("mul", range: range, shift: plan.shift, outBits: out, count: count) { break }
            if avr, let mixed = context.mixed[step.node.name] {
                // A `muls`, a `mulsu` and the shift in 16 bits (`mcu_mul16x8_rq8_S`).
                v.elementwise("mul", ["w16x8", kind == "t" ? nil : kind], count: count)
                v["mul.w16x8.r.bits", default: 0] += count * Double(mixed.shift - 8)
                break
            }
            v.elementwise("mul", [kind == "t" ? nil : kind, x == 16 ? "x16" : nil, b == 16 ? "b16" : nil,
                                  plan.accBits > 16 ? "a\(plan.accBits)" : nil], count: count)
            v.requant(avr: avr, count: count, accBits: plan.accBits, outBits: out, shift: plan.shift, bound: .greatestFiniteMagnitude, range: range)
        case let .scale(multiplier, shift, accBits):
            v["scale.call"] = 1
            let range = product(typeRange(x), (Double(multiplier), Double(multiplier)))
            if v.folded("scale", range: range, shift: shift, outBits: out, count: count) { break }
            v.elementwise("scale", [x == 16 ? "x16" : nil, accBits > 16 ? "a\(accBits)" : nil], count: count)
            v.requant(avr: avr, count: count, accBits: accBits, outBits: out, shift: shift, bound: .greatestFiniteMagnitude, range: range)
        case let .clamp(lo, hi, shift):
            v["clamp.call"] = 1
            let range = (Double(lo), Double(hi))
            v.elementwise("clamp", [x == 16 ? "x16" : nil], count: count)
            v.requant(avr: avr, count: count, accBits: 32, outBits: out, shift: shift, bound: Double(step.inputs.first?.magnitude ?? 32768), range: range)
        case let .maxPool(window, input, _) where dsp && CEmitter.maxPoolsByWords(step):
            // Four channels a word (`mcu_max8x4`): per word of outputs one load per tap.
            let words = pooledOutputs(window, input) / 4
            v["maxpool.x8x4.call"] = 1
            v["maxpool.x8x4.out"] = words
            v["maxpool.x8x4.elem"] = words * Double(window.kernelHeight * window.kernelWidth)
        case let .maxPool(window, input, shift):
            let o = pooledOutputs(window, input)
            v["maxpool.call"] = 1
            v["maxpool.x\(x).out"] = o
            v["maxpool.x\(x).ky"] = o * Double(window.kernelHeight)
            v["maxpool.x\(x).elem"] = o * Double(window.kernelHeight * window.kernelWidth)
            v.requant(avr: avr, count: o, accBits: 32, outBits: out, shift: shift, bound: Double(step.inputs.first?.magnitude ?? 32768))
        case let .avgPool(window, input, _, _, _) where CEmitter.narrowAvgPoolShift(step) != nil:
            // The 16-bit sum (`CEmitter.narrowAvgPoolShift`): a variant of its own.
            let o = pooledOutputs(window, input)
            v["avgpool.n16.call"] = 1
            v["avgpool.n16.out"] = o
            v["avgpool.n16.ky"] = o * Double(window.kernelHeight)
            v["avgpool.n16.elem"] = o * Double(window.kernelHeight * window.kernelWidth)
            v.requant(avr: avr, count: o, accBits: 16, outBits: out, shift: CEmitter.narrowAvgPoolShift(step) ?? 0,
                      bound: Double(128 * window.kernelHeight * window.kernelWidth))
        case let .avgPool(window, input, _, shift, accBits):
            let o = pooledOutputs(window, input)
            v["avgpool.a\(accBits).call"] = 1
            v["avgpool.a\(accBits).out"] = o
            v["avgpool.x\(x).a\(accBits).ky"] = o * Double(window.kernelHeight)
            v["avgpool.x\(x).a\(accBits).elem"] = o * Double(window.kernelHeight * window.kernelWidth)
            v.requant(avr: avr, count: o, accBits: accBits, outBits: out, shift: shift, bound: .greatestFiniteMagnitude)
        case let .sigmoid(fracBits, shift), let .tanh(fracBits, shift):
            let isSigmoid: Bool
            if case .sigmoid = step.kernel { isSigmoid = true } else { isSigmoid = false }
            let g = fracBits - (isSigmoid ? ActivationTables.sigmoidStepLog2 : ActivationTables.tanhStepLog2)
            // A plain lookup and an interpolating one are different code: each its own call term, so
            // its requantization and shifts are fitted apart too (`node` names them by the call).
            let kind = g > 0 ? "act.interp" : "act.lookup"
            v["\(kind).call"] = 1
            v.elementwise("act", [g > 0 ? "interp" : nil, x == 16 ? "x16" : nil, out == 16 ? "o16" : nil], count: count)
            // The node's own lookup (`KernelEmitter.lookup`): the position shifted by g and the
            // fraction narrowed to 8 bits (16-bit shifts), the interpolation shifted back (32-bit).
            if g > 0 {
                let narrow = max(0, min(g, 24) - ActivationTables.interpolationBits)
                v["\(kind).shift16.bits"] = count * Double(min(g, 16) + min(narrow, 16))
                v["\(kind).shift32.bits"] = count * Double(min(g, ActivationTables.interpolationBits))
            } else if -g < 8 {
                v["\(kind).shift16.bits"] = count * Double(-g)
            }
            v.requant(avr: avr, count: count, accBits: 32, outBits: out, shift: shift, bound: 32768)
        case let .exp(fracBits):
            v["exp.call"] = 1
            v.elementwise("exp", [x == 16 ? "x16" : nil, out == 16 ? "o16" : nil], count: count)
            v["exp.frac.bits"] = count * Double(min(abs(fracBits + 14), 31))
        case .argMax:
            v["argmax.call"] = 1
            v.elementwise("argmax", [x == 16 ? "x16" : nil], count: Double(shapes[step.node.inputs.first ?? ""]?.elementCount ?? 1))
        case let .squaredDistance(name, shiftX, shiftP, shift, accBits) where SquaredDistanceExpansion.applies(to: step, program: program, far: far):
            // An 8-bit dot product per prototype (`SquaredDistanceExpansion`): Σ x² once, then per
            // prototype a dot product, a norm read from flash and the 32-bit combination.
            let (m, n) = { let d = program.constants[name]?.shape.dims ?? [0, 0]; return (d[0], d[1]) }()
            v["sqd.dot.call"] = 1
            v["sqd.dot.x"] = Double(n)
            v["sqd.dot.row"] = Double(m)
            v["sqd.dot.dot"] = Double(m)
            v["dot24.group"] = Double(m * (n / 8))
            v["dot24.single"] = Double(m * (n % 8))
            if shiftX > 0 { v.shiftTerms(avr: avr, "sqd.dot.lshift32", 2 * shiftX, count: 1, shortest: 7) }
            v.shiftTerms(avr: avr, "sqd.dot.lshift32", shiftX + shiftP + 1, count: Double(m), shortest: 7)
            v.requant(avr: avr, count: Double(m), accBits: accBits, outBits: out, shift: shift, bound: .greatestFiniteMagnitude)
        case let .squaredDistance(name, shiftX, shiftP, shift, accBits):
            let dims = program.constants[name]?.shape.dims ?? [0, 0]
            let p = program.constants[name]?.format.bits ?? 16
            let elements = Double(dims[0] * dims[1])
            v["sqd.a\(accBits).call"] = 1
            v["sqd.a\(accBits).row"] = Double(dims[0])
            let narrow = CEmitter.squaredDistanceFits16(program, prototypes: name, xBits: x, shiftX: shiftX, shiftP: shiftP)
            // One variant per difference width; 16-bit prototypes add a wider read to each element.
            v["sqd.x\(x).\(narrow ? "d16" : "d\(accBits)").elem"] = elements
            if p == 16 { v["sqd.p16.elem"] = elements }
            // The operands are aligned at the difference's width: 16 bits when it fits there.
            v.leftShift(avr: avr, shiftX, count: elements, accBits: narrow ? 16 : accBits)
            v.leftShift(avr: avr, shiftP, count: elements, accBits: narrow ? 16 : accBits)
            v.requant(avr: avr, count: Double(dims[0]), accBits: accBits, outBits: out, shift: shift, bound: .greatestFiniteMagnitude)
        case .zero:
            v["zero.call"] = 1
            v.elementwise("zero", [out == 16 ? "o16" : nil], count: count)
        case .alias, .loop:
            break
        }
        return v
    }

    private static func linear(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, dsp: Bool, avr: Bool, far: Set<String>,
                               stream: FourRowStream?, into v: inout Vector) {
        let a = plan.accBits, out = step.output.bits
        // Far weights (`CEmitter.farConstants`) are read at an index from a base on AVR: a variant of
        // their own, "w16f" (on other cores the same code as near ones, and priced like them).
        let w = "\(program.constants[plan.weights]?.format.bits ?? 16)\(far.contains(plan.weights) ? "f" : "")"
        let x = step.inputs.first?.bits ?? 16
        let wDims = program.constants[plan.weights]?.shape.dims ?? []
        let outputs: Double
        var wide: WideDotProduct?
        if let k = CEmitter.shortRowLength(plan, step: step, program: program, far: far) {
            // Rows written out product by product: a variant per row length.
            let n = Double(wDims.first ?? 0)
            outputs = n
            v["dense.short\(k).a\(a).call"] = 1
            v["dense.short\(k).a\(a).row"] = n
        } else if avr, let k = CEmitter.rowsInAssembly(plan, step: step, program: program, far: far),
                  let dot = CEmitter.dot8Width(plan, step: step, program: program, far: far) {
            // AVR: each row one straight block of assembly (no loop, no call); per row its setup and
            // requantization, per product the same few instructions.
            let n = Double(wDims.first ?? 0)
            outputs = n
            v["dense.rows.a\(dot).call"] = 1
            v["dense.rows.a\(dot).row"] = n
            v["dense.rows.a\(dot).mac"] = n * Double(k)
        } else if avr, let unrolled = CEmitter.unrolledConvolution(plan, step: step, program: program, far: far) {
            outputs = unrolledFilters(plan, bands: (unrolled.rows, unrolled.columns), width: unrolled.width, wDims: wDims, into: &v)
        } else if let stream {
            // A stream of blocks of four rows (`FourRowStream`): per block its sums loaded, the
            // input's and the end's addresses and four stores; per group of four columns sixteen
            // multiply-accumulates, per column past the groups four, per turn of the loop its test.
            outputs = Double(stream.rows)
            v["x4s.call"] = 1
            v["x4s.block"] = Double(stream.blocks)
            v["x4s.group"] = Double(stream.blocks * stream.groups)
            if stream.tail > 0 { v["x4s.tail"] = Double(stream.blocks * stream.tail) }
            if stream.turns > 0 { v["x4s.turn"] = Double(stream.blocks * stream.turns) }
        } else if let dot = CEmitter.dot8Width(plan, step: step, program: program, far: far) {
            outputs = dot8(plan, width: dot, wDims: wDims, dsp: dsp, into: &v)
        } else if avr, let found = WideDotProduct.of(plan, step: step, program: program, far: far) {
            // AVR: per row its assembly, steps of four products and up to three before them.
            wide = found
            let (n, k) = (wDims[0], wDims[1])
            outputs = Double(n)
            let variant = found.variant
            v["\(variant).call"] = 1
            v["\(variant).row"] = Double(n)
            v["\(variant).step"] = Double(n * (k / 4))
            v["\(variant).single"] = Double(n * (k % 4))
        } else if let width = CEmitter.depthwiseWidth(plan, step: step, program: program, far: far),
                  case let .depthwiseConv2D(window, input) = plan.shape {
            outputs = depthwiseByChannel(window: window, input: input, width: width, into: &v)
        } else {
            switch plan.shape {
            case .dense:
                let (n, k) = (Double(wDims[0]), Double(wDims[1]))
                outputs = n
                // gcc unrolls the shortest inner loops completely: such layers are a kernel of their own,
                // one per length.
                let variant = "dense.w\(w).x\(x).a\(a)\(k <= 4 ? ".k\(Int(k))" : "")"
                v["\(variant).call"] = 1
                v["\(variant).row"] = n
                v["\(variant).mac"] = n * k
            case let .conv2D(window, input), let .depthwiseConv2D(window, input):
                let depthwise: Bool
                if case .depthwiseConv2D = plan.shape { depthwise = true } else { depthwise = false }
                let kind = depthwise ? "dw" : "conv"
                let channels = input.dims[2]
                let filters = Double(depthwise ? channels : wDims[0])
                let g = WindowCounts(window, input: input)
                let padded = window.padTop + window.padLeft + window.padBottom + window.padRight > 0
                outputs = g.positions * filters
                // Every loop level's overhead by the kernel's full variant: the registers a wide
                // accumulator or operand takes change the code of the loops around it too.
                // Where a tap is one or a few multiply-accumulates (depthwise, or few input channels), gcc
                // unrolls the loop over a short kernel row or not depending on its length: a variant each.
                let short = depthwise || channels <= 4
                let row = short && window.kernelWidth <= 5 ? ".k\(window.kernelWidth)" : ""
                let variant = "\(kind).w\(w).x\(x).a\(a)\(!depthwise && channels <= 4 ? ".c\(channels)" : "")\(row)"
                v["\(variant).call"] = 1
                v["\(variant).out"] = outputs
                v["\(variant).ky"] = outputs * Double(window.kernelHeight)
                v["\(variant).kx"] = g.rowsInside * filters * Double(window.kernelWidth)
                if padded {
                    v["\(variant).check"] = outputs * Double(window.kernelHeight) + g.rowsInside * filters * Double(window.kernelWidth)
                }
                if depthwise {
                    v["\(variant).mac"] = g.tapsInside * filters
                } else {
                    v["\(variant).tap"] = g.tapsInside * filters
                    v["\(variant).mac"] = g.tapsInside * filters * Double(channels)
                }
            }
        }
        if plan.bias != nil, stream == nil {
            v["bias.a\(a)"] = outputs
            let narrow = CEmitter.shiftsBiasIn16Bits(plan, step: step, program: program, far: far)
            v.leftShift(avr: avr, plan.biasShift, count: outputs, accBits: narrow ? 16 : a)
        }
        let clamp = ClampFusion.clamp(after: step, in: program, far: far)
        if let clamp, CEmitter.requantizesToReLU(plan, step: step, clamp: clamp) {
            // `mcu_rq8_relu_32`: with the DSP extension one USAT replaces the requantization's
            // saturation and the clamp; elsewhere the same code as a requantization and a clamp.
            if dsp {
                v["rq.a32.o8.relu"] = outputs
            } else {
                v.requant(avr: avr, count: outputs, accBits: a, outBits: out, shift: plan.shift, bound: plan.bound)
                v["fused.clamp.out"] = outputs
            }
            return
        }
        if wide?.requantizesFrom32Bits == true {
            // A 40-bit sum less its low byte, requantized in 32 bits.
            v.requant(avr: avr, count: outputs, accBits: 32, outBits: out, shift: plan.shift - 8, bound: plan.bound / 256 + 1)
            return
        }
        v.requant(avr: avr, count: outputs, accBits: a, outBits: out, shift: plan.shift, bound: plan.bound)
        if clamp != nil { v["fused.clamp.out"] = outputs }
    }

    /// A dense or convolution node emitted with `mcu_dot8_aN`: one dot product per row of W or per
    /// kernel row inside the image (per filter over a gathered patch), each a loop of eight
    /// products per step and up to seven others before it. With the DSP extension (`dsp`), rows
    /// or filters four at a time, and only the last `n mod 4` one by one: over whole rows (dense,
    /// or a gathered patch) with the weights interleaved (`mcu_dot8x4i`: 32 columns a turn of
    /// its loop from 64 on, written out below, then steps of four, then the last `n mod 4`; kernel rows as segments where
    /// `CEmitter.interleavesKernelRows`), otherwise over kernel rows with `mcu_dot8x4` (four
    /// columns a step, the rest one by one). Returns the node's outputs.
    private static func dot8(_ plan: Kernel.Linear, width: Int, wDims: [Int], dsp: Bool, into v: inout Vector) -> Double {
        var dots = 0.0, quads = 0.0, singles = 0.0, outputs = 0.0, rows = 0.0
        var blocks = 0.0, x4 = 0.0, x4Quads = 0.0, x4Singles = 0.0
        var x4i = 0.0, x4iTurns = 0.0, x4iSteps = 0.0, x4iSingles = 0.0
        var isDense = false
        /// `count` dot products of length `n` for each of `filters` rows or filters.
        func add(filters: Int, n: Int, count: Int, interleaved: Bool, patch: Bool = false) {
            let blocked = dsp && filters >= 4 ? filters / 4 : 0, single = filters - 4 * blocked
            dots += Double(count * single)
            quads += Double(count * single * (n / 8))
            singles += Double(count * single * (n % 8))
            // Weights widened to int16 (`CEmitter.widensKernelRows`): variants of their own.
            let widened = interleaved && !patch && CEmitter.widensKernelRows(filters: filters) && !isDense
            if blocked == 0 {
            } else if patch {
                v["x4p.dot", default: 0] += Double(count * blocked)
                v["x4p.group", default: 0] += Double(count * blocked * (n / 4))
                v["x4p.single", default: 0] += Double(count * blocked * (n % 4))
            } else if widened {
                v["x16i.dot", default: 0] += Double(count * blocked)
                v["x16i.turn", default: 0] += Double(count * blocked * (n >= 64 ? n / 32 : 0))
                v["x16i.step", default: 0] += Double(count * blocked * (n >= 64 ? n % 32 / 4 : n / 4))
                v["x16i.single", default: 0] += Double(count * blocked * (n % 4))
            } else if interleaved {
                x4i += Double(count * blocked)
                x4iTurns += Double(count * blocked * (n >= 64 ? n / 32 : 0))
                x4iSteps += Double(count * blocked * (n >= 64 ? n % 32 / 4 : n / 4))
                x4iSingles += Double(count * blocked * (n % 4))
            } else {
                x4 += Double(count * blocked)
                x4Quads += Double(count * blocked * (n / 4))
                x4Singles += Double(count * blocked * (n % 4))
            }
        }
        let variant: String
        switch plan.shape {
        case .dense:
            isDense = true
            let (n, k) = (wDims[0], wDims[1])
            variant = "dense.dot\(width)"
            outputs = Double(n)
            add(filters: n, n: k, count: 1, interleaved: true)
            blocks = dsp && n >= 4 ? Double(n / 4) : 0
        case let .conv2D(window, input), let .depthwiseConv2D(window, input):
            let (h, w, ch) = (input.dims[0], input.dims[1], input.dims[2])
            let size = window.outputSize(height: h, width: w) ?? (0, 0)
            let filters = wDims.first ?? 0
            let gathers = CEmitter.gathersPatches(window: window, input: input)
            let rowsInterleaved = CEmitter.interleavesKernelRows(window: window, input: input)
            var partRows = 0.0
            variant = "conv.dot\(width)\(window.padLeft + window.padRight > 0 || window.padTop + window.padBottom > 0 ? ".padded" : "")"
            for oy in 0..<size.height {
                let inside = (0..<window.kernelHeight).filter { let i = oy * window.strideHeight + $0 - window.padTop; return i >= 0 && i < h }.count
                for ox in 0..<size.width {
                    if gathers {
                        add(filters: filters, n: window.kernelHeight * window.kernelWidth * ch, count: 1, interleaved: true, patch: true)
                        // Rows inside the image but narrowed by padding are copied by loops.
                        let columns = (0..<window.kernelWidth).filter { let i = ox * window.strideWidth + $0 - window.padLeft; return i >= 0 && i < w }.count
                        if columns < window.kernelWidth { partRows += Double(inside) }
                    } else {
                        let columns = (0..<window.kernelWidth).filter { let i = ox * window.strideWidth + $0 - window.padLeft; return i >= 0 && i < w }.count
                        add(filters: filters, n: columns * ch, count: inside, interleaved: rowsInterleaved)
                    }
                }
            }
            outputs = Double(size.height * size.width * filters)
            // A patch is gathered row by row once per pixel; otherwise each filter walks the rows.
            if gathers {
                v["\(variant).gather"] = Double(size.height * size.width * window.kernelHeight)
                if partRows > 0 { v["\(variant).gather.part"] = partRows }
            } else {
                rows = outputs * Double(window.kernelHeight)
            }
            blocks = dsp && filters >= 4 ? Double(size.height * size.width * (filters / 4)) : 0
            v["\(variant).pixel"] = Double(size.height * size.width)
        }
        v["\(variant).call"] = 1
        v["\(variant).out"] = outputs
        if rows > 0 { v["\(variant).ky"] = rows }
        v["\(variant).dot"] = dots
        v["dot\(width).group"] = quads
        v["dot\(width).single"] = singles
        if blocks > 0 {
            v["x4.block"] = blocks
            if x4 > 0 {
                v["x4.dot"] = x4
                v["x4.quad"] = x4Quads
                v["x4.single"] = x4Singles
            }
            if x4i > 0 {
                v["x4i.dot"] = x4i
                v["x4i.turn"] = x4iTurns
                v["x4i.step"] = x4iSteps
                v["x4i.single"] = x4iSingles
            }
        }
        return outputs
    }

    /// AVR: a convolution emitted filter by filter with its products in assembly
    /// (`CEmitter.unrolledConvolution`): per filter its weights read into locals, per band of output
    /// rows and columns a loop, per output its window's products and the pointer moves between them.
    private static func unrolledFilters(_ plan: Kernel.Linear, bands: (rows: [CEmitter.WindowBand], columns: [CEmitter.WindowBand]), width: Int,
                                        wDims: [Int], into v: inout Vector) -> Double {
        let depthwise: Bool, window: Window, input: Shape
        switch plan.shape {
        case let .depthwiseConv2D(w, i): (depthwise, window, input) = (true, w, i)
        case let .conv2D(w, i): (depthwise, window, input) = (false, w, i)
        case .dense: return 0
        }
        let filters = Double(depthwise ? input.dims[2] : wDims.first ?? 0)
        var rows = 0.0, pixels = 0.0, macs = 0.0, steps = 0.0
        var weights = Set<Int>()
        for r in bands.rows {
            for c in bands.columns {
                let products = CEmitter.unrolledProducts(rows: r.kernel, columns: c.kernel, window: window, input: input, depthwise: depthwise)
                let n = Double(r.outputs.count * c.outputs.count)
                rows += Double(r.outputs.count)
                pixels += n
                macs += n * Double(products.count)
                steps += n * Double(CEmitter.pointerSteps(products))
                weights.formUnion(products.map(\.weight))
            }
        }
        let variant = "unrolled.a\(width)"
        v["\(variant).call"] = 1
        v["\(variant).filter"] = filters
        v["\(variant).weight"] = filters * Double(weights.count)
        v["\(variant).row"] = filters * rows
        v["\(variant).out"] = filters * pixels
        v["\(variant).mac"] = filters * macs
        if steps > 0 { v["\(variant).step"] = filters * steps }
        return filters * pixels
    }

    /// A depthwise convolution emitted by channel (`CEmitter.depthwiseWidth`): per output pixel its
    /// window clipped once, per channel a loop over the rows and taps inside the image.
    private static func depthwiseByChannel(window: Window, input: Shape, width: Int, into v: inout Vector) -> Double {
        let (h, w, ch) = (input.dims[0], input.dims[1], input.dims[2])
        let size = window.outputSize(height: h, width: w) ?? (0, 0)
        var rows = 0.0, taps = 0.0
        for oy in 0..<size.height {
            let inside = (0..<window.kernelHeight).filter { let i = oy * window.strideHeight + $0 - window.padTop; return i >= 0 && i < h }.count
            for ox in 0..<size.width {
                let columns = (0..<window.kernelWidth).filter { let i = ox * window.strideWidth + $0 - window.padLeft; return i >= 0 && i < w }.count
                rows += Double(inside * ch)
                taps += Double(inside * columns * ch)
            }
        }
        let variant = "dwc.a\(width)"
        let outputs = Double(size.height * size.width * ch)
        v["\(variant).call"] = 1
        v["\(variant).pixel"] = Double(size.height * size.width)
        v["\(variant).out"] = outputs
        v["\(variant).ky"] = rows
        v["\(variant).mac"] = taps
        return outputs
    }

    /// How the second operand of Add, Sub or Mul is read: `t` a tensor, `s` a scalar literal, `c` a
    /// constant array in flash; and its bits.
    private static func secondOperand(_ step: FixedStep, constant: String?, program: FixedProgram) -> (String, Int) {
        if step.inputs.count == 2 { return ("t", step.inputs[1].bits) }
        guard let q = program.constants[constant ?? ""] else { return ("s", 16) }
        return (q.values.count == 1 ? "s" : "c", q.format.bits)
    }

    // MARK: Value ranges the compiler sees

    /// The values of a `bits`-bit integer.
    static func typeRange(_ bits: Int) -> (lo: Double, hi: Double) {
        let half = Double(sign: .plus, exponent: bits - 1, significand: 1)
        return (-half, half - 1)
    }

    static func scaled(_ r: (lo: Double, hi: Double), _ shift: Int) -> (lo: Double, hi: Double) {
        let f = Double(sign: .plus, exponent: shift, significand: 1)
        return (r.lo * f, r.hi * f)
    }

    static func product(_ a: (lo: Double, hi: Double), _ b: (lo: Double, hi: Double)) -> (lo: Double, hi: Double) {
        let p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        return (p.min() ?? 0, p.max() ?? 0)
    }

    /// The second operand of Add, Sub or Mul: a scalar literal is known to the compiler; a tensor
    /// or an array read from flash could be any value of its type.
    private static func operandRange(_ step: FixedStep, constant: String?, program: FixedProgram) -> (lo: Double, hi: Double) {
        if step.inputs.count == 2 { return typeRange(step.inputs[1].bits) }
        guard let q = program.constants[constant ?? ""] else { return typeRange(16) }
        return q.values.count == 1 ? (Double(q.values[0]), Double(q.values[0])) : typeRange(q.format.bits)
    }

    private static func pooledOutputs(_ window: Window, _ input: Shape) -> Double {
        let size = window.outputSize(height: input.dims[0], width: input.dims[1]) ?? (0, 0)
        return Double(size.height * size.width * input.dims[2])
    }

    // MARK: Flash

    /// Counts behind the code a program compiles to: one per node kernel by kind and widths, one per
    /// requantization kind, the runtime helpers it uses and the API around it.
    public static func code(_ program: FixedProgram, dsp: Bool, avr: Bool, fusion: [ElementwiseFusion.Group]? = nil) -> Vector {
        var v = programCode(program)
        for (_, node) in nodeCode(program, dsp: dsp, avr: avr, fusion: fusion) { v.add(node) }
        return v
    }

    /// `programCode` without the runtime helpers: the code outside the nodes' functions where those
    /// functions' bytes are measured (a kernel profile), since the helpers are inlined into the
    /// nodes that use them (`MCU_INLINE`) and so measured with them. (Priced again here, a program
    /// with e^x came out ~80 B high and one without ~100 B low on ProtoNN's Uno candidates.)
    public static func glueCode(_ program: FixedProgram) -> Vector {
        programCode(program).filter { $0.key != "code.lookup" && $0.key != "code.exp" }
    }

    /// The code terms outside the nodes' functions: the API, the runtime helpers the program uses,
    /// the state copies of a recurrent loop, and per constant array its addressing.
    public static func programCode(_ program: FixedProgram) -> Vector {
        var v: Vector = ["code.base": 1, program.graph.input.isSequence ? "code.api.sequence" : "code.api.predict": 1]
        if !program.graph.outputsClassIndex { v["code.argmax"] = 1 }
        var lookup = false, exp = false
        for step in program.allSteps {
            switch step.kernel {
            case .sigmoid, .tanh: lookup = lookup || !DirectLookup.applies(to: step)
            case .exp where !DirectLookup.applies(to: step): lookup = true; exp = true
            case let .loop(plan): v["code.state", default: 0] += Double(plan.states.count)
            default: break
            }
        }
        if lookup { v["code.lookup"] = 1 }
        if exp { v["code.exp"] = 1 }
        v["code.arrays"] = Double(CEmitter.flashConstants(of: program).count)
        return v
    }

    /// The code terms of each node's own function (`MCU_NODE`), by node name: its loops, by variant
    /// (a multiply-accumulate kernel's call term, an elementwise kernel's element term), and its
    /// inline requantizations and shifts by kind. A node fused into another's loop has none.
    public static func nodeCode(_ program: FixedProgram, dsp: Bool, avr: Bool, fusion: [ElementwiseFusion.Group]? = nil) -> [String: Vector] {
        let context = Context(program, dsp: dsp, avr: avr, fusion: fusion)
        var nodes: [String: Vector] = [:]
        for step in program.allSteps {
            let kernel = kernel(step, in: program, context)
            var v: Vector = [:]
            let elements = kernel.keys.filter { $0.hasSuffix(".elem") }
            for key in elements.isEmpty ? kernel.keys.filter({ $0.hasSuffix(".call") }) : elements {
                v["code." + key.dropLast(5), default: 0] += 1
            }
            if kernel["fused.clamp.out"] != nil { v["code.fused.clamp", default: 0] += 1 }
            if kernel["x4.block"] != nil { v["code.x4", default: 0] += 1 }
            if case let .linear(plan) = step.kernel, let stream = context.streams[plan.weights] {
                // The block's assembly, written out once in the node's loop: its groups (eight in
                // the loop over turns, then the rest), its last columns, the loop's test.
                v["code.x4s.group"] = Double(stream.writtenGroups + (stream.turns > 0 ? 8 : 0))
                if stream.tail > 0 { v["code.x4s.tail"] = Double(stream.tail) }
                if stream.turns > 0 { v["code.x4s.turn"] = 1 }
            }
            if let blocks = kernel["x4p.dot"], blocks > 0 {
                // A gathered patch's blocks are written out group by group, in the code once per
                // block of a pixel (up to `CEmitter.writtenOutBlocks`, else once in a loop).
                let pixels = kernel.first { $0.key.hasSuffix(".pixel") }?.value ?? blocks
                let perPixel = (blocks / max(pixels, 1)).rounded()
                let copies = perPixel <= Double(CEmitter.writtenOutBlocks) ? perPixel : 1
                v["code.x4p.group", default: 0] += copies * (kernel["x4p.group"] ?? 0) / blocks
                v["code.x4p.single", default: 0] += copies * (kernel["x4p.single"] ?? 0) / blocks
            }
            for key in kernel.keys where !key.hasSuffix(".bits") {
                let own = key.hasPrefix("chain.") ? String(key.dropFirst(6)) : key
                guard own.hasPrefix("rq.") || own.hasPrefix("lshift.") || own.hasPrefix("bias.") else { continue }
                v["code." + key, default: 0] += 1
            }
            if context.avr, case let .linear(plan) = step.kernel,
               let unrolled = CEmitter.unrolledConvolution(plan, step: step, program: program, far: context.far) {
                // Code written out per band: each band's loop and its window's products.
                var products = 0
                for r in unrolled.rows {
                    for c in unrolled.columns {
                        if case let .depthwiseConv2D(w, i) = plan.shape {
                            products += CEmitter.unrolledProducts(rows: r.kernel, columns: c.kernel, window: w, input: i, depthwise: true).count
                        } else if case let .conv2D(w, i) = plan.shape {
                            products += CEmitter.unrolledProducts(rows: r.kernel, columns: c.kernel, window: w, input: i, depthwise: false).count
                        }
                    }
                }
                v["code.unrolled.a\(unrolled.width).band"] = Double(unrolled.rows.count * unrolled.columns.count)
                v["code.unrolled.a\(unrolled.width).product"] = Double(products)
            } else if context.avr, case let .linear(plan) = step.kernel,
                      let k = CEmitter.rowsInAssembly(plan, step: step, program: program, far: context.far),
                      let dot = CEmitter.dot8Width(plan, step: step, program: program, far: context.far) {
                // A row's products written out once, in the row loop.
                v["code.dense.rows.a\(dot).product"] = Double(k)
            } else if context.avr, case let .linear(plan) = step.kernel,
                      let wide = WideDotProduct.of(plan, step: step, program: program, far: context.far),
                      let k = program.constants[plan.weights]?.shape.dims.last {
                // The products written out in the row: k mod 4 before the loop, four in it.
                v["code.\(wide.variant).product"] = Double(k % 4 + (k >= 4 ? 4 : 0))
            } else if case let .linear(plan) = step.kernel, case let .conv2D(w, _) = plan.shape, w.padTop + w.padLeft + w.padBottom + w.padRight > 0 {
                v["code.conv.padded", default: 0] += 1
            } else if case let .linear(plan) = step.kernel, case let .depthwiseConv2D(w, _) = plan.shape, w.padTop + w.padLeft + w.padBottom + w.padRight > 0 {
                v["code.dw.padded", default: 0] += 1
            }
            nodes[step.node.name] = v
        }
        return nodes
    }
}

/// Iterations of a convolution's window loops, counting the padding the emitted C skips.
struct WindowCounts {
    /// Output pixels.
    let positions: Double
    /// (output pixel, kernel row) pairs whose row lies inside the input.
    let rowsInside: Double
    /// (output pixel, kernel row, kernel column) taps inside the input.
    let tapsInside: Double

    init(_ window: Window, input: Shape) {
        let (h, w) = (input.dims[0], input.dims[1])
        let size = window.outputSize(height: h, width: w) ?? (0, 0)
        func inside(_ o: Int, stride: Int, pad: Int, kernel: Int, extent: Int) -> Int {
            (0..<kernel).filter { let i = o * stride + $0 - pad; return i >= 0 && i < extent }.count
        }
        let rows = (0..<size.height).map { inside($0, stride: window.strideHeight, pad: window.padTop, kernel: window.kernelHeight, extent: h) }
        let columns = (0..<size.width).map { inside($0, stride: window.strideWidth, pad: window.padLeft, kernel: window.kernelWidth, extent: w) }
        positions = Double(size.height * size.width)
        rowsInside = Double(rows.reduce(0, +) * size.width)
        tapsInside = Double(rows.reduce(0, +) * columns.reduce(0, +))
    }
}

extension Dictionary where Key == String, Value == Double {
    mutating func add(_ other: [String: Double], times factor: Double = 1) {
        for (key, value) in other { self[key, default: 0] += value * factor }
    }

    /// `count` values multiplied by 2^shift (a shift left by a constant).
    mutating func leftShift(avr: Bool, _ shift: Int, count: Double, accBits: Int) {
        guard shift > 0 else { return }
        shiftTerms(avr: avr, "lshift.a\(accBits)", shift, count: count, shortest: 7)
    }

    /// A constant shift by `k` of `count` values, in the terms its code takes: a shift by whole bytes
    /// is register moves; a short one (up to `shortest` bits) a straight run of one step per bit;
    /// a longer one a loop of one step per bit. (An AVR shifts one bit per instruction and avr-gcc
    /// writes exactly these three forms; a Cortex-M shifts any distance at once, and the fit finds
    /// the per-bit costs near zero.) But for one case a Cortex-M prices apart (`.one`): a 64-bit
    /// value shifted by one bit is an add with carry, two instructions where any other short
    /// distance takes three or four (ProtoNN's 64-bit squared distance on the M4: 4,044 cycles at a
    /// one-bit shift of its operands, 4,444 and 4,447 at two and seven bits), so a signature with
    /// one-bit 64-bit shifts is another signature there, not the same loops at another distance.
    mutating func shiftTerms(avr: Bool, _ name: String, _ k: Int, count: Double, shortest: Int) {
        if k == 1 && !avr && name.split(separator: ".").contains("a64") {
            self["\(name).one", default: 0] += count
        } else if k % 8 == 0 {
            self["\(name).moves", default: 0] += count
        } else if k <= shortest {
            self["\(name).short.bits", default: 0] += count * Double(k)
        } else {
            self["\(name).loop", default: 0] += count
            self["\(name).loop.bits", default: 0] += count * Double(k)
        }
    }

    /// The values a requantization by `shift` makes of accumulators in `range`, before saturation.
    static func requantized(_ range: (lo: Double, hi: Double), shift: Int) -> (lo: Double, hi: Double) {
        guard shift > 0 else { return CostFeatures.scaled(range, -shift) }
        let f = Double(sign: .plus, exponent: shift, significand: 1)
        return (((range.lo + f / 2) / f).rounded(.down), ((range.hi + f / 2) / f).rounded(.down))
    }

    /// An elementwise kernel whose every output is the same value, given only the types of its
    /// operands (a large constant term drowns the tensor's): the compiler folds the arithmetic away
    /// and stores a constant. Counts it so and says whether it did.
    mutating func folded(_ kind: String, range: (lo: Double, hi: Double), shift: Int, outBits: Int, count: Double) -> Bool {
        let r = Self.requantized(range, shift: shift), t = CostFeatures.typeRange(outBits)
        let lo = Swift.min(Swift.max(r.lo, t.lo), t.hi), hi = Swift.min(Swift.max(r.hi, t.lo), t.hi)
        guard lo == hi else { return false }
        self["\(kind).folded.elem", default: 0] += count
        return true
    }

    /// `count` requantizations as `KernelEmitter.requant` writes them. With the accumulator's
    /// `range` known to the compiler, a saturation that cannot trigger costs nothing.
    mutating func requant(avr: Bool, count: Double, accBits a: Int, outBits o: Int, shift: Int, bound: Double,
                          range: (lo: Double, hi: Double)? = nil) {
        // At the least, the compiler knows the accumulator's type: an int16 shifted right by 8 always
        // fits an int8, and its saturation is compiled away.
        let known = range ?? CostFeatures.typeRange(a)
        var saturates = o < a
        if shift >= 0 {
            let r = Self.requantized(known, shift: shift), t = CostFeatures.typeRange(o)
            saturates = saturates && (r.lo < t.lo || r.hi > t.hi)
        }
        if shift > 0 {
            if shift >= 63 || bound < Double(sign: .plus, exponent: shift - 1, significand: 1) { return }
            if CEmitter.requantizesIn16Bits(accBits: a, outBits: o, shift: shift) {
                // `mcu_rq8_32`: two 32-bit compares, then a 16-bit shift (after a byte move past 8).
                self["rq.a32.o8.n", default: 0] += count
                if shift > 8 { self["rq.a32.o8.n.hi", default: 0] += count }
                shiftTerms(avr: avr, "rq.a32.o8.n", shift > 8 ? shift - 8 : shift, count: count, shortest: 2)
                return
            }
            self["rq.a\(a).r", default: 0] += count
            shiftTerms(avr: avr, "rq.a\(a).r", shift, count: count, shortest: 2)
            if saturates { self["rq.a\(a).o\(o).sat", default: 0] += count }
        } else if shift == 0 {
            if saturates { self["rq.a\(a).o\(o).sat", default: 0] += count }
        } else if -shift >= o {
            self["rq.a\(a).o\(o).sign", default: 0] += count
        } else {
            self["rq.a\(a).o\(o).l", default: 0] += count
            shiftTerms(avr: avr, "rq.a\(a).l", -shift, count: count, shortest: 7)
        }
    }

    /// `count` elements of an elementwise kernel, named by the widths and operands that change its
    /// code (`add.c.x16.b8.a32.elem`).
    mutating func elementwise(_ name: String, _ parts: [String?], count: Double) {
        let variant = parts.compactMap { $0 }
        self["\(name).\((variant.isEmpty ? ["base"] : variant).joined(separator: ".")).elem", default: 0] += count
    }

    /// A loop over `count` elements of `bytes` each: the compiler unrolls the shortest completely
    /// (at most 8 bytes moved), so those count apart.
    mutating func loop(_ name: String, count: Int, bytes: Int) {
        self["\(name).\(count * bytes <= 8 ? "short" : "elem")", default: 0] += Double(count)
    }
}
