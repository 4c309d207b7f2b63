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
    }

    public let buffers: [Buffer]
    public let bytes: Int
    /// Largest number of bytes live at any position: no plan can use less.
    public let lowerBound: Int
    /// Every planner's result, for reports.
    public let plans: [MemoryPlan]

    public func offset(of tensor: String) -> Int? { buffers.first { $0.tensors.contains(tensor) }?.offset }

    /// No two buffers that are live at the same time overlap in memory.
    public var isValid: Bool {
        MemoryPlan.overlaps(buffers.map { BufferRequest(bytes: $0.bytes, first: $0.first, last: $0.last) }, buffers.map(\.offset))
    }

    /// - Parameter exactSeconds: the exact planner's time cap (the search prices thousands of
    ///   candidates and gives it little; the emitter gives it more).
    public init(program: FixedProgram, exactSeconds: Double = 1.0) {
        let collected = Lifetimes(program: program).buffers()
        let requests = collected.map { BufferRequest(bytes: $0.bytes, first: $0.first, last: $0.last) }
        let planners: [any MemoryPlanner] = [NaivePlanner(), GreedyBySizePlanner(), FirstFitByLifetimePlanner(),
                                             ExactPlanner(timeLimit: exactSeconds)]
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
struct Lifetimes {
    let program: FixedProgram

    func buffers() -> [ArenaPlan.Buffer] {
        var first: [String: Int] = [:], last: [String: Int] = [:]
        var owner: [String: String] = [:]  // view -> the tensor whose buffer it uses
        let graph = program.graph
        var external: Set<String> = [graph.input.name]
        var position = 0
        func root(_ t: String) -> String { owner[t].map(root) ?? t }
        func define(_ t: String) { first[root(t)] = first[root(t)] ?? position; last[root(t)] = max(last[root(t)] ?? position, position) }
        func use(_ t: String) { if !external.contains(root(t)) { last[root(t)] = max(last[root(t)] ?? position, position) } }
        var loopRange: [String: (Int, Int)] = [:]
        for step in program.steps {
            if case let .loop(plan) = step.kernel {
                external.insert(plan.stepInput)
                let start = position
                for state in plan.states { define(state.name) }
                for inner in plan.body {
                    position += 1
                    if case .alias = inner.kernel { owner[inner.node.output] = inner.node.inputs[0] }
                    inner.node.inputs.forEach(use)
                    define(inner.node.output)
                }
                position += 1  // the copy of each next value into its state
                for state in plan.states { use(state.next) }
                owner[step.node.output] = plan.result
                loopRange[step.node.name] = (start, position)
            } else {
                position += 1
                if case .alias = step.kernel { owner[step.node.output] = step.node.inputs[0] }
                step.node.inputs.forEach(use)
                define(step.node.output)
            }
        }
        use(graph.output)
        // States persist across steps and until their last use after the loop.
        for step in program.steps {
            if case let .loop(plan) = step.kernel, let range = loopRange[step.node.name] {
                for state in plan.states {
                    first[state.name] = range.0
                    last[state.name] = max(last[state.name] ?? range.1, range.1)
                }
            }
        }
        var members: [String: [String]] = [:]
        for tensor in FixedPointGraph.tensors(of: graph) where graph.constants[tensor] == nil {
            let r = root(tensor)
            if !external.contains(r), first[r] != nil { members[r, default: []].append(tensor) }
        }
        return members.keys.sorted().map { r in
            let elements = graph.shapes[r]?.elementCount ?? 0
            return ArenaPlan.Buffer(tensors: members[r] ?? [r], bytes: elements * program.format(r).bits / 8,
                                    first: first[r] ?? 0, last: last[r] ?? 0, offset: 0)
        }
    }
}
