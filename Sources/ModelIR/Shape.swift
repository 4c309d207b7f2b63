/// The shape of one sample of a tensor (the batch dimension is never part of it).
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }

    /// Number of elements; a scalar (`[]`) has one.
    public var elementCount: Int { dims.reduce(1, *) }
    public var rank: Int { dims.count }
    /// `[]` or `[1]`: broadcastable against any shape.
    public var isScalar: Bool { elementCount == 1 && rank <= 1 }

    public var description: String { "[" + dims.map(String.init).joined(separator: ",") + "]" }
}
