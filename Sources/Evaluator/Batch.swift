/// The values of one tensor for a batch of samples: `rows` samples of `columns` elements, row-major.
public struct Batch: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "batch values do not match rows x columns")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(zeros rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: Array(repeating: 0, count: rows * columns))
    }

    public func row(_ r: Int) -> ArraySlice<Double> { values[(r * columns)..<((r + 1) * columns)] }

    /// The rows at `indices`, in that order.
    public func gathering(_ indices: [Int]) -> Batch {
        var out = [Double]()
        out.reserveCapacity(indices.count * columns)
        for r in indices { out += row(r) }
        return Batch(rows: indices.count, columns: columns, values: out)
    }

    /// Writes the rows of `source` over rows `indices` of this batch.
    public mutating func scatter(_ source: Batch, to indices: [Int]) {
        for (k, r) in indices.enumerated() {
            values.replaceSubrange((r * columns)..<((r + 1) * columns), with: source.row(k))
        }
    }

    /// Each row's class: the lowest index of its maximum (or the value itself for a one-column index output).
    public func argMaxRows() -> [Int] {
        (0..<rows).map { r in
            let row = self.row(r)
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            return best - row.startIndex
        }
    }
}
