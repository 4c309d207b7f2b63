import Testing
@testable import ModelIR

/// Shape rules, on graphs built in code: each wrong shape is refused with a message naming node and tensor.
@Suite struct ShapeCheckerTests {
    func zeros(_ dims: Int...) -> Tensor { Tensor(shape: Shape(dims), values: Array(repeating: 0, count: dims.reduce(1, *))) }

    func graph(input: [Int], sequence: Bool = false, output: String, constants: [String: Tensor], nodes: [Node]) throws(ModelError) -> Graph {
        try Graph.checked(name: "g", input: .init(name: "x", shape: Shape(input), isSequence: sequence),
                          output: output, constants: constants, nodes: nodes)
    }

    @Test func denseInfersItsOutput() throws {
        let g = try graph(input: [4], output: "y", constants: ["W": zeros(3, 4), "b": zeros(3)],
                          nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W", "b": "b"])])
        #expect(g.shapes["y"] == Shape([3]))
        #expect(g.parameterCount == 15)
    }

    @Test func denseWithWrongColumnsIsRefused() {
        #expect(throws: ModelError.wrongShape(tensor: "W", node: "fc", found: Shape([3, 5]), expected: "[N,4] to match input 'x' [4]")) {
            try graph(input: [4], output: "y", constants: ["W": zeros(3, 5)],
                      nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W"])])
        }
    }

    @Test func biasOfWrongLengthIsRefused() {
        #expect(throws: ModelError.wrongShape(tensor: "b", node: "fc", found: Shape([4]), expected: "[3]")) {
            try graph(input: [4], output: "y", constants: ["W": zeros(3, 4), "b": zeros(4)],
                      nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W", "b": "b"])])
        }
    }

    @Test func convolutionAndPoolingShapes() throws {
        let conv = Window(kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let strided = Window(kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2)
        let pool = Window(kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        let g = try graph(input: [8, 8, 1], output: "p", constants: ["W": zeros(4, 3, 3, 1), "D": zeros(3, 3, 4), "V": zeros(6, 3, 3, 4)], nodes: [
            Node(name: "c1", op: .conv2D(conv), inputs: ["x"], output: "a", weights: ["W": "W"]),
            Node(name: "dw", op: .depthwiseConv2D(conv), inputs: ["a"], output: "b", weights: ["W": "D"]),
            Node(name: "c2", op: .conv2D(strided), inputs: ["b"], output: "c", weights: ["W": "V"]),
            Node(name: "mp", op: .maxPool(pool), inputs: ["c"], output: "p"),
        ])
        #expect(g.shapes["a"] == Shape([8, 8, 4]))
        #expect(g.shapes["b"] == Shape([8, 8, 4]))
        #expect(g.shapes["c"] == Shape([3, 3, 6]))
        #expect(g.shapes["p"] == Shape([1, 1, 6]))
        let macs = g.layerStatistics().map(\.macs)
        #expect(macs == [8 * 8 * 4 * 9, 8 * 8 * 4 * 9, 3 * 3 * 6 * 36, 0])
    }

    @Test func convolutionChannelMismatchIsRefused() {
        let window = Window(kernelHeight: 3, kernelWidth: 3)
        #expect(throws: ModelError.wrongShape(tensor: "W", node: "c", found: Shape([4, 3, 3, 2]), expected: "[O,kh,kw,1] (OHWI) for input [8,8,1]")) {
            try graph(input: [8, 8, 1], output: "y", constants: ["W": zeros(4, 3, 3, 2)],
                      nodes: [Node(name: "c", op: .conv2D(window), inputs: ["x"], output: "y", weights: ["W": "W"])])
        }
    }

    @Test func windowLargerThanInputIsRefused() {
        let pool = Window(kernelHeight: 5, kernelWidth: 5, strideHeight: 5, strideWidth: 5)
        #expect(throws: ModelError.wrongShape(tensor: "x", node: "mp", found: Shape([4, 4, 2]), expected: "at least 5x5 after padding")) {
            try graph(input: [4, 4, 2], output: "y", constants: [:], nodes: [Node(name: "mp", op: .maxPool(pool), inputs: ["x"], output: "y")])
        }
    }

    @Test func elementwiseShapesMustAgreeOrBroadcastAScalar() throws {
        let ok = try graph(input: [3], output: "y", constants: ["B": zeros(1)],
                           nodes: [Node(name: "a", op: .add, inputs: ["x"], output: "y", weights: ["B": "B"])])
        #expect(ok.shapes["y"] == Shape([3]))
        #expect(throws: ModelError.wrongShape(tensor: "B", node: "a", found: Shape([2]), expected: "[3] or a scalar")) {
            try graph(input: [3], output: "y", constants: ["B": zeros(2)],
                      nodes: [Node(name: "a", op: .add, inputs: ["x"], output: "y", weights: ["B": "B"])])
        }
        #expect(throws: ModelError.wrongShape(tensor: "f", node: "m", found: Shape([2]), expected: "[3], the shape of 'x'")) {
            try graph(input: [3], output: "y", constants: ["W": zeros(2, 3)], nodes: [
                Node(name: "fc", op: .matMul, inputs: ["x"], output: "f", weights: ["W": "W"]),
                Node(name: "m", op: .mul, inputs: ["x", "f"], output: "y"),
            ])
        }
    }

    @Test func undefinedAndDuplicateTensorsAreRefused() {
        #expect(throws: ModelError.undefinedTensor(name: "h", node: "r")) {
            try graph(input: [3], output: "y", constants: [:], nodes: [Node(name: "r", op: .relu, inputs: ["h"], output: "y")])
        }
        #expect(throws: ModelError.duplicateTensor(name: "y", node: "b")) {
            try graph(input: [3], output: "y", constants: [:], nodes: [
                Node(name: "a", op: .relu, inputs: ["x"], output: "y"), Node(name: "b", op: .tanh, inputs: ["x"], output: "y"),
            ])
        }
        #expect(throws: ModelError.undefinedOutput(name: "z")) {
            try graph(input: [3], output: "z", constants: [:], nodes: [Node(name: "a", op: .relu, inputs: ["x"], output: "y")])
        }
    }

    @Test func weightRolesAreChecked() {
        #expect(throws: ModelError.missingWeight(node: "fc", op: "Gemm", role: "W")) {
            try graph(input: [3], output: "y", constants: [:], nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y")])
        }
        #expect(throws: ModelError.unexpectedWeight(node: "fc", op: "Gemm", role: "bias", allowed: ["W", "b"])) {
            try graph(input: [3], output: "y", constants: ["W": zeros(2, 3), "b": zeros(2)],
                      nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W", "bias": "b"])])
        }
        #expect(throws: ModelError.undefinedConstant(name: "Q", node: "fc", role: "W")) {
            try graph(input: [3], output: "y", constants: [:],
                      nodes: [Node(name: "fc", op: .matMul, inputs: ["x"], output: "y", weights: ["W": "Q"])])
        }
    }

    @Test func reshapeMustKeepTheElementCount() {
        #expect(throws: ModelError.invalidAttribute(node: "r", attribute: "shape", reason: "is [5], which does not hold the 6 elements of [2,3]")) {
            try graph(input: [2, 3], output: "y", constants: [:], nodes: [Node(name: "r", op: .reshape(Shape([5])), inputs: ["x"], output: "y")])
        }
    }

    @Test func onlyRecurrentOpsMayReadASequence() {
        #expect(throws: ModelError.sequenceMisuse(node: "fc", reason: "reads the sequence input 'x'; only FastGRNN, GRU and LSTM may")) {
            try graph(input: [3], sequence: true, output: "y", constants: ["W": zeros(2, 3)],
                      nodes: [Node(name: "fc", op: .matMul, inputs: ["x"], output: "y", weights: ["W": "W"])])
        }
        #expect(throws: ModelError.self) {
            try graph(input: [3], sequence: false, output: "h", constants: gruWeights(features: 3, hidden: 2),
                      nodes: [Node(name: "r", op: .gru, inputs: ["x"], output: "h", weights: gruRoles)])
        }
    }

    let gruRoles = ["W_ih": "W_ih", "W_hh": "W_hh", "b_ih": "b_ih", "b_hh": "b_hh"]
    func gruWeights(features: Int, hidden: Int, gates: Int = 3) -> [String: Tensor] {
        ["W_ih": zeros(gates * hidden, features), "W_hh": zeros(gates * hidden, hidden),
         "b_ih": zeros(gates * hidden), "b_hh": zeros(gates * hidden)]
    }

    @Test func recurrentCellShapes() throws {
        let gru = try graph(input: [3], sequence: true, output: "h", constants: gruWeights(features: 3, hidden: 5),
                            nodes: [Node(name: "r", op: .gru, inputs: ["x"], output: "h", weights: gruRoles)])
        #expect(gru.shapes["h"] == Shape([5]))
        let lstm = try graph(input: [3], sequence: true, output: "h", constants: gruWeights(features: 3, hidden: 4, gates: 4),
                             nodes: [Node(name: "r", op: .lstm, inputs: ["x"], output: "h", weights: gruRoles)])
        #expect(lstm.shapes["h"] == Shape([4]))
        #expect(throws: ModelError.wrongShape(tensor: "W_ih", node: "r", found: Shape([10, 3]), expected: "[3H,3]")) {
            try graph(input: [3], sequence: true, output: "h", constants: gruWeights(features: 3, hidden: 5, gates: 2),
                      nodes: [Node(name: "r", op: .gru, inputs: ["x"], output: "h", weights: gruRoles)])
        }
    }

    @Test func fastGRNNAcceptsLowRankFactors() throws {
        var c = ["W1": zeros(6, 2), "W2": zeros(2, 3), "U1": zeros(6, 3), "U2": zeros(3, 6),
                 "b_z": zeros(6), "b_h": zeros(6), "zeta": zeros(1), "nu": zeros(1)]
        let roles = Dictionary(uniqueKeysWithValues: c.keys.map { ($0, $0) })
        let g = try graph(input: [3], sequence: true, output: "h", constants: c,
                          nodes: [Node(name: "r", op: .fastGRNN, inputs: ["x"], output: "h", weights: roles)])
        #expect(g.shapes["h"] == Shape([6]))
        #expect(g.layerStatistics()[0].macs == 12 + 6 + 18 + 18 + 6 * 2)
        c["U2"] = zeros(3, 5)
        #expect(throws: ModelError.wrongShape(tensor: "U2", node: "r", found: Shape([3, 5]), expected: "[3,6] to follow U1 [6,3]")) {
            try graph(input: [3], sequence: true, output: "h", constants: c,
                      nodes: [Node(name: "r", op: .fastGRNN, inputs: ["x"], output: "h", weights: roles)])
        }
    }
}
