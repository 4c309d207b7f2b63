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
        let features = graph.input.shape.elementCount
        var states = Dictionary(uniqueKeysWithValues: loop.states.map {
            ($0.name, Batch(zeros: split.count, columns: $0.shape.elementCount))
        })
        let lengths = split.lengths ?? Array(repeating: split.maxSteps, count: split.count)
        for t in 0..<split.maxSteps {
            let active = (0..<split.count).filter { lengths[$0] > t }
            guard !active.isEmpty else { break }
            var stepValues: [String: Batch] = [:]
            var x = [Double]()
            x.reserveCapacity(active.count * features)
            for s in active {
                let start = (s * split.maxSteps + t) * features
                x += split.inputs[start..<(start + features)]
            }
            stepValues[loop.stepInput] = Batch(rows: active.count, columns: features, values: x)
            observer?(loop.stepInput, stepValues[loop.stepInput] ?? Batch(zeros: 0, columns: 0))
            let everyone = active.count == split.count
            for state in loop.states {
                stepValues[state.name] = everyone ? states[state.name] : states[state.name]?.gathering(active)
            }
            for node in loop.body {
                let result = apply(node, values: stepValues)
                stepValues[node.output] = result
                observer?(node.output, result)
            }
            for state in loop.states {
                guard let next = stepValues[state.next] else { continue }
                if everyone { states[state.name] = next } else { states[state.name]?.scatter(next, to: active) }
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
        case let .maxPool(window): return FloatKernels.pool(x, input: inputShape, window: window, max: true)
        case let .avgPool(window): return FloatKernels.pool(x, input: inputShape, window: window, max: false)
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
