/// One operation of a graph: it reads activation tensors and named weights and writes one tensor.
public struct Node: Hashable, Sendable {
    public var name: String
    public var op: Op
    /// Activation inputs (the graph input, earlier outputs, or loop states and step inputs).
    public var inputs: [String]
    public var output: String
    /// Weight role (`"W"`, `"b"`, ...) -> constant name in `Graph.constants`.
    public var weights: [String: String]

    public init(name: String, op: Op, inputs: [String], output: String, weights: [String: String] = [:]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.output = output
        self.weights = weights
    }
}
