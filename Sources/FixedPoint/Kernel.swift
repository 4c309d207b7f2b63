import ModelIR

/// What one step of a fixed-point program computes, with every constant resolved.
/// The integer semantics of each case are in docs/fixed-point.md; `FixedEmulator` and the C
/// emitter implement exactly these.
public enum Kernel: Sendable, Equatable {
    /// Dense, MatMul, Conv2D, DepthwiseConv2D: acc = bias·2^biasShift + Σ w·x; y = requant(acc, shift).
    case linear(Linear)
    /// y = requant(a·2^shiftA ± b·2^shiftB, shift), b a tensor or a constant.
    case add(Add)
    /// y = requant(a·b, shift), b a tensor or a constant.
    case mul(Mul)
    /// y = requant(x·multiplier, shift).
    case scale(multiplier: Int64, shift: Int, accBits: Int)
    /// y = requant(min(max(x, lo), hi), shift): ReLU (hi = type max) and ReLU6.
    case clamp(lo: Int64, hi: Int64, shift: Int)
    /// y = requant(max over the window, shift).
    case maxPool(window: Window, input: Shape, shift: Int)
    /// y = requant(multiplier · Σ window, shift).
    case avgPool(window: Window, input: Shape, multiplier: Int64, shift: Int, accBits: Int)
    /// y = requant(sigmoid/tanh in Q15, shift = 15 − fy).
    case sigmoid(inputFracBits: Int, shift: Int)
    case tanh(inputFracBits: Int, shift: Int)
    /// y = e^x saturated to the output format.
    case exp(inputFracBits: Int)
    /// y = x (the same buffer).
    case alias
    /// y = the lowest index of the maximum.
    case argMax
    /// y = requant(Σ (x·2^shiftX − p·2^shiftP)², shift).
    case squaredDistance(constant: String, shiftX: Int, shiftP: Int, shift: Int, accBits: Int)
    /// The output is zero for every input: the shift discards every bit the accumulator can hold.
    case zero
    /// A recurrence over the sequence input.
    case loop(LoopPlan)

    public struct Linear: Sendable, Equatable {
        public enum Shape: Sendable, Equatable {
            case dense
            case conv2D(Window, input: ModelIR.Shape)
            case depthwiseConv2D(Window, input: ModelIR.Shape)
        }
        public var shape: Shape
        public var weights: String
        public var bias: String?
        /// The bias is shifted left by this to the product's fractional bits (never negative).
        public var biasShift: Int
        public var shift: Int
        public var accBits: Int
        /// Worst-case |accumulator|, including bias and rounding; below 2^53 the BLAS path is exact.
        public var bound: Double
    }

    public struct Add: Sendable, Equatable {
        public var subtract: Bool
        public var constant: String?
        public var shiftA: Int
        public var shiftB: Int
        public var shift: Int
        public var accBits: Int
    }

    public struct Mul: Sendable, Equatable {
        public var constant: String?
        public var shift: Int
        public var accBits: Int
    }
}

/// A loop with its body resolved.
public struct LoopPlan: Sendable, Equatable {
    public var stepInput: String
    public var states: [Loop.State]
    public var body: [FixedStep]
    public var result: String
}

/// One node of the program.
public struct FixedStep: Sendable, Equatable {
    public var node: Node
    public var kernel: Kernel
    public var output: TensorFormat
    public var inputs: [TensorFormat]
}
