import FixedPoint
import MemoryPlanning
import ModelIR

/// Runs of elementwise nodes (the gates of a recurrent step, an add then an activation) emitted as
/// one loop over their elements: each value is computed from the one before it in a register, and
/// only the values something after the run reads are stored.
///
/// The arena sees a run as one position (`Lifetimes`): every tensor it reads and every value it
/// stores is live throughout, so none of them overlap in memory except a stored value that takes
/// the buffer of an input dying at the run, and the loop reads every input of element `i` before it
/// stores any value of element `i`. The values read only inside the run take no memory at all.
/// Since every value a run reads or stores is live at that one position, a run is split, or left
/// unfused, where it would raise the arena's lower bound over plain C's (`withinArena`).
public enum ElementwiseFusion {
    public struct Group: Sendable, Equatable {
        /// The nodes in program order; the first one's function runs the loop.
        public var steps: [FixedStep]
        /// Outputs read after the run (by a later node, as a loop state or result, or as the
        /// graph's output): stored in the arena. The others live in registers.
        public var stored: [String]
        /// Tensor inputs produced before the run, in order of first use: read from memory.
        public var inputs: [String]
        public var elements: Int

        public var head: String { steps.first?.node.name ?? "" }

        public static func == (a: Group, b: Group) -> Bool { a.steps.map(\.node.name) == b.steps.map(\.node.name) }
    }

    /// Every run of two or more fusable nodes that follow one another, at the top level and in a
    /// loop's body, split where fusing would raise the arena's lower bound (`withinArena`).
    public static func groups(_ program: FixedProgram, far: Set<String>? = nil) -> [Group] {
        let far = far ?? CEmitter.farConstants(of: program)
        return withinArena(runs(program, far: far), program: program, far: far)
    }

    /// Runs of two or more fusable nodes of as many elements that follow one another.
    public static func runs(_ program: FixedProgram, far: Set<String>? = nil) -> [[FixedStep]] {
        let far = far ?? CEmitter.farConstants(of: program)
        var lists = [program.steps]
        for step in program.steps { if case let .loop(plan) = step.kernel { lists.append(plan.body) } }
        var runs: [[FixedStep]] = []
        for list in lists {
            var run: [FixedStep] = [], length: Int?
            func close() {
                if run.count >= 2 { runs.append(run) }
                run = []
            }
            for step in list {
                let n = elements(step, program: program, far: far)
                if let n, !run.isEmpty, length == n {
                    run.append(step)
                } else {
                    close()
                    if n != nil { run = [step] }
                    length = n
                }
            }
            close()
        }
        return runs
    }

    /// The runs as groups, each split into the pieces that keep the arena's lower bound (the bytes
    /// live at the fullest position) at most what it is with no fusion.
    ///
    /// A fused piece is one position where every input it reads and every value it stores is live
    /// at once; unfused, each node frees what dies at it before the next one stores. So fusing can
    /// raise the peak: an LSTM's output-gate run (o_pre .. h_next) reads i, f, g, c, o_x and o_h
    /// and stores c_next and h_next, where plain C has consumed i and g into ig before storing
    /// c_next. What is live at a piece depends only on the piece's own bounds (the nodes before
    /// and after it read and write the same tensors however the rest is split), so each piece is
    /// checked alone, with every other run unfused, and the split with the most fused nodes, then
    /// the fewest loops, is chosen by dynamic programming over the run.
    static func withinArena(_ runs: [[FixedStep]], program: FixedProgram, far: Set<String>) -> [Group] {
        func peak(_ groups: [Group]) -> Int {
            MemoryPlan.lowerBound(Lifetimes(program: program, groups: groups, patchesOf: far).buffers().map(\.request), alignment: 2)
        }
        // Every run has two or more nodes, so each is a group: `whole` pairs with `runs`.
        let whole = runs.compactMap { group($0, program: program) }
        if whole.isEmpty { return [] }
        let limit = peak([])
        if peak(whole) <= limit { return whole }
        var chosen: [Group] = []
        for (run, runGroup) in zip(runs, whole) {
            if peak([runGroup]) <= limit {
                chosen.append(runGroup)
                continue
            }
            func fits(_ piece: ArraySlice<FixedStep>) -> Group? {
                guard let g = group(Array(piece), program: program), peak([g]) <= limit else { return nil }
                return g
            }
            // best[j]: the best split of the run's first j nodes, scored (fused nodes, -loops).
            var best: [(fused: Int, loops: Int, groups: [Group])] = [(0, 0, [])]
            for j in 1...run.count {
                var top = best[j - 1]
                for i in stride(from: j - 2, through: 0, by: -1) where !(i == 0 && j == run.count) {
                    let fused = best[i].fused + (j - i), loops = best[i].loops + 1
                    guard fused > top.fused || (fused == top.fused && loops < top.loops), let g = fits(run[i..<j]) else { continue }
                    top = (fused, loops, best[i].groups + [g])
                }
                best.append(top)
            }
            chosen += best[run.count].groups
        }
        return chosen
    }

    /// The group a node belongs to, if any.
    public static func group(of node: String, in groups: [Group]) -> Group? {
        groups.first { $0.steps.contains { $0.node.name == node } }
    }

    /// Elements of a node that can join a run: add, mul, scale, clamp, sigmoid, tanh and exp whose
    /// tensor inputs all have as many elements as the output (constants are read by the element's
    /// index or are one scalar), and that the layer before does not already apply.
    static func elements(_ step: FixedStep, program: FixedProgram, far: Set<String>) -> Int? {
        switch step.kernel {
        case .add, .mul, .scale, .clamp, .sigmoid, .tanh, .exp: break
        default: return nil
        }
        if ClampFusion.isAbsorbed(step, in: program, far: far) { return nil }
        guard let n = program.graph.shapes[step.node.output]?.elementCount, n > 0 else { return nil }
        for input in step.node.inputs where program.constants[input] == nil {
            guard program.graph.shapes[input]?.elementCount == n else { return nil }
        }
        return n
    }

    private static func group(_ run: [FixedStep], program: FixedProgram) -> Group? {
        guard run.count >= 2 else { return nil }
        let outputs = Set(run.map(\.node.output))
        var inputs: [String] = []
        for step in run {
            for input in step.node.inputs where program.constants[input] == nil && !outputs.contains(input) && !inputs.contains(input) {
                inputs.append(input)
            }
        }
        let names = Set(run.map(\.node.name))
        let readAfter = readers(program, excluding: names)
        let stored = run.map(\.node.output).filter { readAfter.contains($0) }
        return Group(steps: run, stored: stored, inputs: inputs, elements: program.graph.shapes[run[0].node.output]?.elementCount ?? 0)
    }

    /// Tensors read by anything but the nodes `excluded`: other nodes, loop states and results, the
    /// graph's output.
    private static func readers(_ program: FixedProgram, excluding excluded: Set<String>) -> Set<String> {
        var read = Set<String>([program.graph.output])
        for step in program.allSteps where !excluded.contains(step.node.name) { read.formUnion(step.node.inputs) }
        for step in program.steps {
            guard case let .loop(plan) = step.kernel else { continue }
            read.formUnion(plan.states.map(\.next))
            read.insert(plan.result)
        }
        return read
    }
}
