/// A recurrence: a body of primitive nodes run once per timestep of the sequence input.
///
/// At step `t` the body reads `stepInput` (timestep `t` of the sequence) and the current value of
/// every state, and computes each state's `next` tensor; then all states take their next values at
/// once. States start at zero. A sample whose sequence has ended keeps its state. The loop node's
/// output is the final value of `result`.
public struct Loop: Hashable, Sendable {
    public struct State: Hashable, Sendable {
        public var name: String
        public var next: String
        public var shape: Shape
        public init(name: String, next: String, shape: Shape) {
            self.name = name
            self.next = next
            self.shape = shape
        }
    }

    public var stepInput: String
    public var states: [State]
    public var body: [Node]
    public var result: String

    public init(stepInput: String, states: [State], body: [Node], result: String) {
        self.stepInput = stepInput
        self.states = states
        self.body = body
        self.result = result
    }
}
