/// How an ONNX file was imported: what each of its nodes became, what was folded away, and the
/// names that had to change. `tune inspect` prints it; tests read it.
public struct ONNXImportReport: Sendable, Equatable {
    /// One ONNX node and the nodes of ours it became (empty when it was folded or removed).
    public struct Mapping: Sendable, Equatable {
        public var node: String
        public var op: String
        public var result: [String]
    }

    /// A loop over the steps that the exporter unrolled, folded back into one recurrent loop.
    public struct RecurrentCell: Sendable, Equatable {
        /// How many copies of the cell the file holds (its fixed number of steps).
        public var steps: Int
        /// The ONNX nodes of one step (the one that picks the step's input included) that became the cell.
        public var onnxNodesPerStep: Int
        public var loop: String
        /// Our nodes in the loop's body.
        public var bodyNodes: Int
        /// The states carried from step to step, each starting at zero: name and per-sample shape.
        public var states: [String]
    }

    public struct Rename: Sendable, Equatable {
        public var original: String
        public var legal: String
    }

    public var path: String
    public var irVersion: Int
    public var opset: Int
    public var producer: String
    public var mapped: [Mapping] = []
    /// Constant subgraphs evaluated at import, and layers merged into the one before them.
    public var folded: [String] = []
    /// Nodes that compute nothing at inference (Identity, Dropout), an output Softmax, unused nodes.
    public var removed: [String] = []
    public var renamed: [Rename] = []
    public var notes: [String] = []
    public var recurrentCells: [RecurrentCell] = []

    /// The report as lines for people.
    public var lines: [String] {
        var lines = ["\(path): ONNX IR version \(irVersion), opset \(opset), written by \(producer.isEmpty ? "an unnamed producer" : producer)"]
        for mapping in mapped where !mapping.result.isEmpty {
            lines.append("  \(mapping.op) '\(mapping.node)' -> \(mapping.result.joined(separator: ", "))")
        }
        for cell in recurrentCells {
            lines.append("  recurrent cell: a loop unrolled \(cell.steps) times by the exporter; each step's \(cell.onnxNodesPerStep) ONNX "
                + "nodes became loop '\(cell.loop)' of \(cell.bodyNodes) nodes, run once per step (state \(cell.states.joined(separator: ", ")), "
                + "from zero)")
        }
        lines += folded.map { "  folded: \($0)" }
        lines += removed.map { "  removed: \($0)" }
        lines += renamed.map { "  renamed: '\($0.original)' -> '\($0.legal)'" }
        lines += notes.map { "  note: \($0)" }
        return lines.map(\.escapingControlCharacters)
    }
}
