/// How the sequence graph input is laid out in the ONNX graph: `[T, N, F]` (an RNN's default
/// `layout = 0`) or `[N, T, F]` (batch first). Our sequence input is one step `[F]` at a time,
/// as our datasets store `[N, Tmax, F]`, so the layout only decides which RNN reads it unchanged.
struct SequenceLayout: Equatable {
    var batchFirst: Bool
    /// Nil when the file leaves the number of steps dynamic.
    var steps: Int?
    var features: Int

    /// What `Shape` reports: the batch, and the steps when dynamic, are unknown (NaN).
    var onnxDims: [Double] {
        let t = steps.map(Double.init) ?? ConstantValue.batch
        return batchFirst ? [ConstantValue.batch, t, Double(features)] : [t, ConstantValue.batch, Double(features)]
    }

    /// After a Transpose with perm [1, 0, 2].
    var swapped: SequenceLayout { SequenceLayout(batchFirst: !batchFirst, steps: steps, features: features) }
}
