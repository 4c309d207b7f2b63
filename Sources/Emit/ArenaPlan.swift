import FixedPoint
import MemoryPlanning
import ModelIR

/// Where each activation tensor lives in the one static arena, from the tensors' lifetimes.
///
/// Lifetimes are intervals over the program's positions (one per step; loop states live through
/// the whole recurrence). Views (Flatten, Reshape) share their input's buffer; the graph input and
/// the loop's step input are the caller's buffers and take no arena space. The offsets are the
/// smallest of the plans of `MemoryPlanning`'s planners (greedy by size, first fit by lifetime,
/// exact branch and bound), 2-byte aligned for 16-bit tensors on Cortex-M0.
public struct ArenaPlan: Sendable {
    public struct Buffer: Sendable, Equatable {
        public var tensors: [String]
        public var bytes: Int
        public var first: Int
        public var last: Int
        public var offset: Int

        /// What the planners place: the buffer's bytes and lifetime.
        var request: BufferRequest { BufferRequest(bytes: bytes, first: first, last: last) }
    }

    public let buffers: [Buffer]
    public let bytes: Int
    /// Largest number of bytes live at any position: no plan can use less.
    public let lowerBound: Int
    /// Every planner's result, for reports.
    public let plans: [MemoryPlan]

    public func offset(of tensor: String) -> Int? { buffers.first { $0.tensors.contains(tensor) }?.offset }

    /// The arena buffer of the patch a convolution gathers its windows into
    /// (`CEmitter.gathersPatches`): live while the node runs, so it takes memory only where the
    /// arena has some free then (on the stack it would add to every peak).
    public static func patchName(_ node: String) -> String { "\(node)#patch" }

    /// Bytes of the patch `step` gathers into, or 0.
    static func patchBytes(_ step: FixedStep, program: FixedProgram, far: Set<String>) -> Int {
        guard case let .linear(plan) = step.kernel, case let .conv2D(window, input) = plan.shape,
              CEmitter.dot8Width(plan, step: step, program: program, far: far) != nil,
              CEmitter.gathersPatches(window: window, input: input) else { return 0 }
        return window.kernelHeight * window.kernelWidth * input.dims[2]
    }

    /// No two buffers that are live at the same time overlap in memory.
    public var isValid: Bool {
        !MemoryPlan.overlaps(buffers.map(\.request), buffers.map(\.offset))
    }

    /// The exact planner's branches when the search prices a candidate.
    public static let searchBranches = 20_000

    /// - Parameter exactBranches: the exact planner's cap on branches (the search prices thousands
    ///   of candidates and gives it few; the emitter gives it more). A count, not a time: the plan,
    ///   and so every RAM figure and the search's log, must not depend on how loaded the machine is.
    /// - Parameter inPlace: let elementwise ops write over inputs that die at them (the emitter
    ///   always does; false is for comparisons).
    /// - Parameter fusing: the specialised emitter's plan: runs of elementwise nodes are one loop
    ///   (`ElementwiseFusion`), and a convolution that gathers its windows has its patch here
    ///   (`patchName`); false for the plain C of `CEmitter(specialised: false)`.
    /// - Parameter fusion: the program's fused runs, when the caller has found them
    ///   (`ElementwiseFusion.groups`; found here otherwise).
    public init(program: FixedProgram, exactBranches: Int = 2_000_000, inPlace: Bool = true, fusing: Bool = true,
                fusion: [ElementwiseFusion.Group]? = nil) {
        let far = CEmitter.farConstants(of: program)
        let collected = Lifetimes(program: program, inPlace: inPlace, groups: fusing ? fusion ?? ElementwiseFusion.groups(program, far: far) : [],
                                  patchesOf: fusing ? far : nil).buffers()
        let requests = collected.map(\.request)
        let planners: [any MemoryPlanner] = [NaivePlanner(), GreedyBySizePlanner(), FirstFitByLifetimePlanner(),
                                             ExactPlanner(timeLimit: .infinity, maxNodes: exactBranches)]
        let plans = planners.map { $0.plan(requests, alignment: 2) }
        let best = plans.dropFirst().min { ($0.bytes, $0.planner) < ($1.bytes, $1.planner) } ?? plans[0]
        var placed = collected
        for i in placed.indices { placed[i].offset = best.offsets[i] }
        self.buffers = placed.sorted { ($0.offset, $0.first) < ($1.offset, $1.first) }
        self.bytes = best.bytes
        self.lowerBound = best.lowerBound
        self.plans = plans
    }
}

/// The lifetime of every arena tensor over the program's positions.
///
/// An elementwise kernel (add, mul, scale, clamp, sigmoid, tanh, exp) writes its output over an
/// input that dies at it, when the output's elements are no wider: the emitted loop reads element
/// `i` before it writes element `i`, and an element written never lies beyond one still to be read.
/// Such an output joins its input's buffer, as a view does.
///
/// A run of fused elementwise nodes (`ElementwiseFusion`) is one position: its inputs are read and
/// its stored values defined there, and its values read only inside it take no buffer. A stored
/// value may take the buffer of any input of the run that dies there (each input's once).
struct Lifetimes {
    let program: FixedProgram
    var inPlace = true
    var groups: [ElementwiseFusion.Group] = []
    /// With the program's far weights: gathered patches are arena buffers (`ArenaPlan.patchName`).
    var patchesOf: Set<String>? = nil

    func buffers() -> [ArenaPlan.Buffer] {
        let plain = collect(inPlace: [:])
        return inPlace ? collect(inPlace: inPlaceOutputs(plain)).buffers : plain.buffers
    }

    /// Output tensor -> the input whose buffer it takes.
    private func inPlaceOutputs(_ plain: Collected) -> [String: String] {
        var result: [String: String] = [:]
        let graph = program.graph
        var taken = Set<String>()
        for (position, step) in plain.positions {
            guard Self.writesInPlace(step.kernel), let outputShape = graph.shapes[step.node.output] else { continue }
            let outputBits = program.format(step.node.output).bits
            var candidates = step.node.inputs
            if let g = ElementwiseFusion.group(of: step.node.name, in: groups) {
                guard g.stored.contains(step.node.output) else { continue }
                candidates = g.inputs
            }
            for input in candidates where !taken.contains(input) {
                let r = plain.root(input)
                guard !plain.external.contains(r), !plain.states.contains(r), graph.constants[input] == nil,
                      plain.last[r] == position, plain.first[r] != nil,
                      graph.shapes[input]?.elementCount == outputShape.elementCount,
                      program.format(input).bits >= outputBits else { continue }
                result[step.node.output] = input
                taken.insert(input)
                break
            }
        }
        return result
    }

    static func writesInPlace(_ kernel: Kernel) -> Bool {
        switch kernel {
        case .add, .mul, .scale, .clamp, .sigmoid, .tanh, .exp: true
        default: false
        }
    }

    struct Collected {
        var first: [String: Int] = [:], last: [String: Int] = [:]
        var owner: [String: String] = [:]  // view or in-place output -> the tensor whose buffer it uses
        var external: Set<String> = []
        var states: Set<String> = []
        /// Every non-loop step with its position.
        var positions: [(Int, FixedStep)] = []
        var buffers: [ArenaPlan.Buffer] = []

        func root(_ t: String) -> String { owner[t].map(root) ?? t }
    }

    private func collect(inPlace: [String: String]) -> Collected {
        var c = Collected()
        let graph = program.graph
        c.external = [graph.input.name]
        var position = 0
        func define(_ t: String) {
            let r = c.root(t)
            c.first[r] = c.first[r] ?? position
            c.last[r] = max(c.last[r] ?? position, position)
        }
        func use(_ t: String) {
            let r = c.root(t)
            if !c.external.contains(r) { c.last[r] = max(c.last[r] ?? position, position) }
        }
        var scratch: [ArenaPlan.Buffer] = []
        let heads = Dictionary(uniqueKeysWithValues: groups.map { ($0.head, $0) })
        let fusedMembers = Set(groups.flatMap { $0.steps.dropFirst().map(\.node.name) })
        func visit(_ step: FixedStep) {
            if fusedMembers.contains(step.node.name) { return }
            position += 1
            if let g = heads[step.node.name] {
                for member in g.steps { c.positions.append((position, member)) }
                g.inputs.forEach(use)
                for output in g.stored {
                    if let base = inPlace[output] { c.owner[output] = base }
                    define(output)
                }
                return
            }
            if case .alias = step.kernel { c.owner[step.node.output] = step.node.inputs[0] }
            if let base = inPlace[step.node.output] { c.owner[step.node.output] = base }
            c.positions.append((position, step))
            step.node.inputs.forEach(use)
            define(step.node.output)
            if let far = patchesOf, case let bytes = ArenaPlan.patchBytes(step, program: program, far: far), bytes > 0 {
                scratch.append(ArenaPlan.Buffer(tensors: [ArenaPlan.patchName(step.node.name)], bytes: bytes, first: position, last: position, offset: 0))
            }
        }
        var loopRange: [String: (Int, Int)] = [:]
        for step in program.steps {
            if case let .loop(plan) = step.kernel {
                c.external.insert(plan.stepInput)
                c.states.formUnion(plan.states.map(\.name))
                let start = position
                for state in plan.states { define(state.name) }
                plan.body.forEach(visit)
                position += 1  // the copy of each next value into its state
                for state in plan.states { use(state.next) }
                c.owner[step.node.output] = plan.result
                loopRange[step.node.name] = (start, position)
            } else {
                visit(step)
            }
        }
        use(graph.output)
        // States persist across steps and until their last use after the loop.
        for step in program.steps {
            if case let .loop(plan) = step.kernel, let range = loopRange[step.node.name] {
                for state in plan.states {
                    c.first[state.name] = range.0
                    c.last[state.name] = max(c.last[state.name] ?? range.1, range.1)
                }
            }
        }
        var members: [String: [String]] = [:]
        for tensor in FixedPointGraph.tensors(of: graph) where graph.constants[tensor] == nil {
            let r = c.root(tensor)
            if !c.external.contains(r), c.first[r] != nil { members[r, default: []].append(tensor) }
        }
        c.buffers = members.keys.sorted().map { r in
            let elements = graph.shapes[r]?.elementCount ?? 0
            return ArenaPlan.Buffer(tensors: members[r] ?? [r], bytes: elements * program.format(r).bits / 8,
                                    first: c.first[r] ?? 0, last: c.last[r] ?? 0, offset: 0)
        } + scratch
        return c
    }
}
