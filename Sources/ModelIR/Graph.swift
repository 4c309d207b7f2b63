/// A checked model: its input, constants, nodes in execution order, and the shape of every tensor.
///
/// Build one with `ModelLoader` (from files) or `Graph.checked(...)` (in code); both run
/// `ShapeChecker`, so a `Graph` value always has consistent shapes.
public struct Graph: Sendable {
    public struct Input: Hashable, Sendable {
        public var name: String
        /// One sample, or one timestep when `isSequence`.
        public var shape: Shape
        public var isSequence: Bool
        public init(name: String, shape: Shape, isSequence: Bool) {
            self.name = name
            self.shape = shape
            self.isSequence = isSequence
        }
    }

    public var name: String
    public var input: Input
    public var output: String
    public var constants: [String: Tensor]
    public var nodes: [Node]
    /// Shape of every activation tensor, including those inside loop bodies.
    public internal(set) var shapes: [String: Shape]

    /// Checks the graph and infers every shape.
    public static func checked(name: String, input: Input, output: String,
                               constants: [String: Tensor], nodes: [Node]) throws(ModelError) -> Graph {
        var graph = Graph(name: name, input: input, output: output, constants: constants, nodes: nodes, shapes: [:])
        graph.shapes = try ShapeChecker(graph: graph).inferShapes()
        return graph
    }

    init(name: String, input: Input, output: String, constants: [String: Tensor], nodes: [Node],
         shapes: [String: Shape]) {
        self.name = name
        self.input = input
        self.output = output
        self.constants = constants
        self.nodes = nodes
        self.shapes = shapes
    }

    public var outputShape: Shape { shapes[output] ?? Shape([]) }

    /// True when the model ends in `ArgMax` (its output is a class index, not logits).
    public var outputsClassIndex: Bool { nodes.last.map { $0.op == .argMax } ?? false }

    /// Number of weight values (every constant the nodes refer to).
    public var parameterCount: Int {
        Set(allNodes.flatMap { $0.weights.values }).reduce(0) { $0 + (constants[$1]?.shape.elementCount ?? 0) }
    }

    /// Top-level nodes and the bodies of loops, in execution order.
    public var allNodes: [Node] {
        nodes.flatMap { node -> [Node] in
            if case let .loop(loop) = node.op { return [node] + loop.body }
            return [node]
        }
    }

    public func weight(_ role: String, of node: Node) -> Tensor? {
        node.weights[role].flatMap { constants[$0] }
    }
}
