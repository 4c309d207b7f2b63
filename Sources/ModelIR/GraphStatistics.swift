/// Per-node sizes of a graph: output shape, weights and multiply-accumulates.
public struct LayerStatistics: Sendable, Equatable {
    public var node: String
    public var op: String
    public var outputShape: Shape
    public var parameters: Int
    /// Multiplies per sample (per timestep for a recurrent node): products in linear ops, Hadamard
    /// products and distances.
    public var macs: Int
    public var perStep: Bool
}

extension Graph {
    /// One row per top-level node; a recurrent cell counts its lowered body once per step.
    public func layerStatistics() -> [LayerStatistics] {
        // Lowering a checked graph only re-checks shapes that already passed; fall back to self.
        let lowered = (try? Lowering.lower(self)) ?? self
        return zip(nodes, lowered.nodes).map { node, loweredNode in
            let body: [Node]
            if case let .loop(loop) = loweredNode.op { body = loop.body } else { body = [loweredNode] }
            let params = Set(node.weights.values).reduce(0) { $0 + (constants[$1]?.shape.elementCount ?? 0) }
            return LayerStatistics(node: node.name, op: node.op.name, outputShape: shapes[node.output] ?? Shape([]),
                                   parameters: params, macs: body.reduce(0) { $0 + lowered.macs(of: $1) },
                                   perStep: node.op.isRecurrent)
        }
    }

    /// Multiplies of one primitive node per sample.
    public func macs(of node: Node) -> Int {
        let out = shapes[node.output] ?? Shape([])
        let w = weight("W", of: node)?.shape
        switch node.op {
        case .gemm, .matMul:
            return w?.elementCount ?? 0
        case .conv2D:
            return out.elementCount * ((w?.elementCount ?? 0) / max(out.dims.last ?? 1, 1))
        case .depthwiseConv2D:
            return out.elementCount * (w.map { $0.dims[0] * $0.dims[1] } ?? 0)
        case .mul:
            return out.elementCount
        case .squaredDistance:
            return weight("P", of: node)?.shape.elementCount ?? 0
        default:
            return 0
        }
    }
}
