import Foundation
import ModelIR

/// The float reference: runs a whole split through a graph at once, in double precision.
///
/// Every matrix product is one OpenBLAS GEMM over the batch (per timestep inside loops). Recurrent
/// cells are lowered to loops first; at each step only the samples whose sequence has not ended
/// are computed, so the others keep their state and observers see only real values.
public struct FloatEvaluator: Sendable {
    /// Called with every tensor computed: its name and its values for the rows computed (for loop
    /// bodies, the samples still running at that step).
    public typealias Observer = (_ tensor: String, _ values: Batch) -> Void

    public let graph: Graph

    /// - Parameter graph: a checked graph; recurrent cells are lowered here.
    public init(graph: Graph) throws(ModelError) {
        self.graph = try Lowering.lower(graph)
    }

    /// The output for every sample of `split`: `[count, outputs]` (logits, or one class index per row).
    public func run(_ split: DatasetSplit, observer: Observer? = nil) -> Batch {
        var values: [String: Batch] = [:]
        let input = graph.input
        if !input.isSequence {
            values[input.name] = Batch(rows: split.count, columns: input.shape.elementCount, values: split.inputs)
            observer?(input.name, values[input.name] ?? Batch(zeros: 0, columns: 0))
        }
        for node in graph.nodes {
            let result: Batch
            if case let .loop(loop) = node.op {
                result = runLoop(loop, split: split, observer: observer)
            } else {
                result = apply(node, values: values)
            }
            values[node.output] = result
            observer?(node.output, result)
        }
        return values[graph.output] ?? Batch(zeros: split.count, columns: 0)
    }

    private func runLoop(_ loop: Loop, split: DatasetSplit, observer: Observer?) -> Batch {
        let runner = SequenceRunner(stateNames: loop.states.map { ($0.name, $0.next, $0.shape.elementCount) },
                                    stepInput: loop.stepInput, features: graph.input.shape.elementCount)
        let states = runner.run(inputs: split.inputs, count: split.count, maxSteps: split.maxSteps, lengths: split.lengths,
                                observer: observer) { values in
            for node in loop.body {
                let result = apply(node, values: values)
                values[node.output] = result
                observer?(node.output, result)
            }
        }
        return states[loop.result] ?? Batch(zeros: split.count, columns: 0)
    }

    private func apply(_ node: Node, values: [String: Batch]) -> Batch {
        // Inputs and weights exist and have checked shapes: the graph came from the shape checker.
        let inputs = node.inputs.map { values[$0] ?? Batch(zeros: 0, columns: 0) }
        let x = inputs.first ?? Batch(zeros: 0, columns: 0)
        let inputShape = graph.shapes[node.inputs.first ?? ""] ?? Shape([])
        func weight(_ role: String) -> Tensor? { graph.weight(role, of: node) }
        func binary(_ f: (Double, Double) -> Double) -> Batch {
            if inputs.count == 2 { return FloatKernels.elementwise(inputs[0], inputs[1], f) }
            return FloatKernels.elementwise(x, constant: weight("B") ?? Tensor(scalar: 0), f)
        }
        switch node.op {
        case .gemm, .matMul:
            return FloatKernels.dense(x, weight("W") ?? Tensor(scalar: 0), weight("b"))
        case .add: return binary(+)
        case .sub: return binary(-)
        case .mul: return binary(*)
        case let .scale(s): return FloatKernels.map(x) { $0 * s }
        case let .conv2D(window):
            return FloatKernels.conv2D(x, input: inputShape, window: window, weight("W") ?? Tensor(scalar: 0), weight("b"))
        case let .depthwiseConv2D(window):
            return FloatKernels.depthwiseConv2D(x, input: inputShape, window: window, weight("W") ?? Tensor(scalar: 0), weight("b"))
        case let .maxPool(window): return FloatKernels.pool(x, input: inputShape, window: window, .max)
        case let .avgPool(window): return FloatKernels.pool(x, input: inputShape, window: window, .average)
        case .relu: return FloatKernels.map(x) { max($0, 0) }
        case .relu6: return FloatKernels.map(x) { min(max($0, 0), 6) }
        case .sigmoid: return FloatKernels.map(x) { 1 / (1 + Foundation.exp(-$0)) }
        case .tanh: return FloatKernels.map(x) { Foundation.tanh($0) }
        case .exp: return FloatKernels.map(x) { Foundation.exp($0) }
        case .flatten, .reshape: return x
        case .argMax: return FloatKernels.argMax(x)
        case .squaredDistance: return FloatKernels.squaredDistance(x, weight("P") ?? Tensor(scalar: 0))
        case .fastGRNN, .gru, .lstm, .loop:
            // Lowered in init; loops are run by runLoop.
            return x
        }
    }
}
