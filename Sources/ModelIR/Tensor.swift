/// A constant tensor (a weight): its shape and its values in row-major order.
///
/// Values are held as `Double` whatever the file's dtype, so float32 weights are exact.
public struct Tensor: Sendable, Equatable {
    public var shape: Shape
    public var values: [Double]

    /// - Precondition: `values.count == shape.elementCount` (checked by every loader).
    public init(shape: Shape, values: [Double]) {
        precondition(values.count == shape.elementCount, "tensor values do not match shape")
        self.shape = shape
        self.values = values
    }

    public init(scalar: Double) { self.init(shape: Shape([1]), values: [scalar]) }

    /// Rows `range` of a matrix `[R, C]`, as a matrix `[range.count, C]`.
    public func rows(_ range: Range<Int>) -> Tensor {
        let columns = shape.dims[1]
        return Tensor(shape: Shape([range.count, columns]),
                      values: Array(values[(range.lowerBound * columns)..<(range.upperBound * columns)]))
    }

    /// Elements `range` of a vector.
    public func slice(_ range: Range<Int>) -> Tensor {
        Tensor(shape: Shape([range.count]), values: Array(values[range]))
    }

    /// The elementwise sum with a tensor of the same shape.
    public func adding(_ other: Tensor) -> Tensor {
        Tensor(shape: shape, values: zip(values, other.values).map { $0 + $1 })
    }
}
