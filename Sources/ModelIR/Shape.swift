/// The shape of one sample of a tensor (the batch dimension is never part of it).
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }

    /// Most elements one tensor may have per sample: 2^20, more than any microcontroller's RAM holds,
    /// and few enough that a batch of samples never asks for gigabytes. `ShapeChecker` enforces it.
    public static let maxElements = 1 << 20

    /// Number of elements; a scalar (`[]`) has one. Within `maxElements` for every shape of a checked graph.
    public var elementCount: Int { dims.reduce(1, *) }

    /// The number of elements, or nil when a dimension is negative or the product overflows.
    public var checkedElementCount: Int? {
        var count = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { return nil }
            count = product
        }
        return count
    }
    public var rank: Int { dims.count }
    /// `[]` or `[1]`: broadcastable against any shape.
    public var isScalar: Bool { elementCount == 1 && rank <= 1 }

    public var description: String { "[" + dims.map(String.init).joined(separator: ",") + "]" }
}
