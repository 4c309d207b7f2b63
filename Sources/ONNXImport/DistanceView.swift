/// A per-sample `[D]` activation on its way to its squared distances from constant prototypes, as
/// PyTorch writes ProtoNN's `((x.unsqueeze(1) - P) ** 2).sum(-1)`: Unsqueeze, Sub of the
/// prototypes, Pow 2 (or Mul by itself), ReduceSum over the last axis (or ReduceSumSquare of the
/// differences). Nothing is emitted until the sum, which becomes one SquaredDistance node, the
/// op the native ProtoNN uses, so the tuned program is the same.
struct DistanceView {
    enum Stage {
        /// `x.unsqueeze(1)`: `[1, D]`.
        case unsqueezed
        /// `x.unsqueeze(1) - P`: `[M, D]`.
        case differences
        /// Its elements squared.
        case squares
    }

    /// The `[D]` activation.
    var input: GraphTranslator.Value
    var stage: Stage
    /// `[M, D]` row-major in our element order of `input`, once subtracted.
    var prototypes: [Double] = []
    var prototypeCount = 0
    /// The ONNX nodes folded so far (`Op 'name'`), for the report.
    var nodes: [String]

    var description: String {
        switch stage {
        case .unsqueezed: "[1, \(input.count)] (an unsqueezed activation)"
        case .differences: "[\(prototypeCount), \(input.count)] (differences from prototypes)"
        case .squares: "[\(prototypeCount), \(input.count)] (squared differences from prototypes)"
        }
    }

    /// The op that may read this stage, in words.
    var expected: String {
        switch stage {
        case .unsqueezed: "a Sub of constant prototypes [M, D]"
        case .differences: "Pow with exponent 2, a Mul by itself, or ReduceSumSquare over the last axis"
        case .squares: "ReduceSum over the last axis with keepdims=0"
        }
    }

    func next(_ stage: Stage, node: String) -> DistanceView {
        var view = self
        view.stage = stage
        view.nodes.append(node)
        return view
    }
}
