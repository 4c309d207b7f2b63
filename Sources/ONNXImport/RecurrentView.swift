/// An output of a GRU or LSTM node, or what Squeeze, Gather, Slice, Transpose, Reshape made of it,
/// tracked axis by axis until it is `[N, H]`: then it is our op's final state.
///
/// Our recurrent ops return only the state after each sample's last step, so every step's `Y` can
/// be read only through its last step (`out[:, -1, :]`), which for a forward RNN is `Y_h`.
struct RecurrentView {
    enum Axis: String {
        case batch = "N", time = "T", unit = "1", hidden = "H"
    }

    /// Our op's final state `[H]`.
    var state: GraphTranslator.Value
    var axes: [Axis]
    /// The GRU or LSTM node, for messages.
    var node: String
    /// Known when the input fixes the number of steps.
    var steps: Int?

    var isFinalState: Bool { axes == [.batch, .hidden] }
    var hasTime: Bool { axes.contains(.time) }
    var description: String { "[" + axes.map(\.rawValue).joined(separator: ", ") + "]" }

    func with(_ axes: [Axis]) -> RecurrentView {
        var view = self
        view.axes = axes
        return view
    }

    /// True when `index` selects the last step on the time axis.
    func isLastStep(_ index: Int) -> Bool { index == -1 || steps.map { index == $0 - 1 } == true }
}
