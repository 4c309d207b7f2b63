/// A sliding window: the geometry of a convolution or pooling.
public struct Window: Hashable, Sendable {
    public var kernel: (height: Int, width: Int) { (kernelHeight, kernelWidth) }
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    /// Zero padding: top, left, bottom, right.
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0) {
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
    }

    /// Output height and width for an input of `height` x `width`, or nil when the window does not fit.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int)? {
        let h = height + padTop + padBottom - kernelHeight
        let w = width + padLeft + padRight - kernelWidth
        guard h >= 0, w >= 0 else { return nil }
        return (h / strideHeight + 1, w / strideWidth + 1)
    }
}

/// What a node computes. Attributes that change the computation are carried by the case.
/// Per-sample semantics are in docs/model-format.md.
public enum Op: Hashable, Sendable {
    case gemm, matMul
    case add, sub, mul
    case scale(Double)
    case conv2D(Window), depthwiseConv2D(Window)
    case maxPool(Window), avgPool(Window)
    case relu, relu6, sigmoid, tanh, exp
    case flatten
    case reshape(Shape)
    case argMax
    case squaredDistance
    /// Recurrent cells as written in a model file; `Lowering` turns each into a `loop`.
    case fastGRNN, gru, lstm
    /// A recurrence of primitive ops over the timesteps of the sequence input.
    case loop(Loop)

    /// The name used in model files.
    public var name: String {
        switch self {
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .scale: "Scale"
        case .conv2D: "Conv2D"
        case .depthwiseConv2D: "DepthwiseConv2D"
        case .maxPool: "MaxPool"
        case .avgPool: "AvgPool"
        case .relu: "Relu"
        case .relu6: "Relu6"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .exp: "Exp"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .argMax: "ArgMax"
        case .squaredDistance: "SquaredDistance"
        case .fastGRNN: "FastGRNN"
        case .gru: "GRU"
        case .lstm: "LSTM"
        case .loop: "Loop"
        }
    }

    /// Op names a model file may use.
    public static let fileOpNames = [
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Scale", "Conv2D", "DepthwiseConv2D", "MaxPool", "AvgPool",
        "Relu", "Relu6", "Sigmoid", "Tanh", "Exp", "Flatten", "Reshape", "ArgMax", "SquaredDistance",
        "FastGRNN", "GRU", "LSTM",
    ]

    public var isRecurrent: Bool {
        switch self {
        case .fastGRNN, .gru, .lstm, .loop: true
        default: false
        }
    }

    public var isElementwiseUnary: Bool {
        switch self {
        case .relu, .relu6, .sigmoid, .tanh, .exp, .scale: true
        default: false
        }
    }
}
