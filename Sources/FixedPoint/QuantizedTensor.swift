import ModelIR

/// A weight in its fixed-point format: the integers stored in flash.
public struct QuantizedTensor: Sendable, Equatable {
    public var name: String
    public var shape: Shape
    public var format: TensorFormat
    public var values: [Int64]

    public init(name: String, tensor: Tensor, format: TensorFormat) {
        self.name = name
        self.shape = tensor.shape
        self.format = format
        self.values = tensor.values.map(format.quantize)
    }

    public var maxAbs: Int64 { values.reduce(0) { max($0, abs($1)) } }
}
