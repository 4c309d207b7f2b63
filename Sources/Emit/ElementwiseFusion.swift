import FixedPoint
import ModelIR

/// Runs of elementwise nodes (the gates of a recurrent step, an add then an activation) emitted as
/// one loop over their elements: each value is computed from the one before it in a register, and
/// only the values something after the run reads are stored.
///
/// The arena sees a run as one position (`Lifetimes`): every tensor it reads and every value it
/// stores is live throughout, so none of them overlap in memory except a stored value that takes
/// the buffer of an input dying at the run, and the loop reads every input of element `i` before it
/// stores any value of element `i`. The values read only inside the run take no memory at all.
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
    /// loop's body.
    public static func groups(_ program: FixedProgram, far: Set<String>? = nil) -> [Group] {
        let far = far ?? CEmitter.farConstants(of: program)
        var lists = [program.steps]
        for step in program.steps { if case let .loop(plan) = step.kernel { lists.append(plan.body) } }
        var groups: [Group] = []
        for list in lists {
            var run: [FixedStep] = [], length: Int?
            func close() {
                if run.count >= 2, let g = group(run, program: program) { groups.append(g) }
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
        return groups
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
