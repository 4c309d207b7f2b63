import FixedPoint
import ModelIR

/// Where each activation tensor lives in the one static arena, from the tensors' lifetimes.
///
/// Lifetimes are intervals over the program's positions (one per step; loop states live through
/// the whole recurrence). Tensors are placed largest first at the lowest offset that does not
/// collide with a tensor live at the same time (the "greedy by size" plan of TensorFlow Lite
/// Micro). Views (Flatten, Reshape) share their input's buffer. The graph input and the loop's
/// step input are the caller's buffers and take no arena space.
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

    public func offset(of tensor: String) -> Int? { buffers.first { $0.tensors.contains(tensor) }?.offset }

    /// No two buffers that are live at the same time overlap in memory.
    public var isValid: Bool {
        for (i, a) in buffers.enumerated() {
            for b in buffers[(i + 1)...] where a.first <= b.last && b.first <= a.last {
                if a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes { return false }
            }
        }
        return true
    }

    public init(program: FixedProgram) {
        let collected = Lifetimes(program: program).buffers()
        var placed: [Buffer] = []
        for candidate in collected.sorted(by: { ($0.bytes, -$0.first) > ($1.bytes, -$1.first) }) {
            var buffer = candidate
            // Offsets stay even: 16-bit tensors need 2-byte alignment on Cortex-M0.
            let conflicts = placed.filter { $0.first <= buffer.last && buffer.first <= $0.last }.sorted { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts where offset + buffer.bytes > other.offset && other.offset + other.bytes > offset {
                offset = (other.offset + other.bytes + 1) & ~1
            }
            // A later conflict may start below the new offset; re-scan until the spot is free.
            while let clash = conflicts.first(where: { offset < $0.offset + $0.bytes && $0.offset < offset + buffer.bytes }) {
                offset = (clash.offset + clash.bytes + 1) & ~1
            }
            buffer.offset = offset
            placed.append(buffer)
        }
        let positions = placed.map(\.last).max() ?? 0
        var peak = 0
        for p in 0...max(positions, 0) {
            peak = max(peak, placed.filter { $0.first <= p && p <= $0.last }.reduce(0) { $0 + $1.bytes })
        }
        self.buffers = placed.sorted { $0.offset < $1.offset || ($0.offset == $1.offset && $0.first < $1.first) }
        self.bytes = ((placed.map { $0.offset + $0.bytes }.max() ?? 0) + 1) & ~1
        self.lowerBound = peak
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
