import Testing
import ModelIR
@testable import ONNXImport

/// ProtoNN's squared distances `((x.unsqueeze(1) - P) ** 2).sum(-1)` in the forms exporters write
/// them, imported as one SquaredDistance and run against the distances computed directly; and the
/// errors for the forms we do not import. (The file PyTorch wrote for models/protonn-digits is in
/// ExportedModelTests.)
@Suite struct DistanceImportTests {
    static let samples = ImportNumericsTests.samples
    static let (features, prototypes) = (4, 3)

    /// `x [4] -> Unsqueeze(1) -> Sub P [1, 3, 4] -> squared -> summed`; `square` and `sum` write the last two steps.
    static func model(opset: Int = 17, prototypesFirst: Bool = false, prototypeShape: [Int] = [1, 3, 4],
                      square: (inout ONNXModelBuilder) -> Void, sum: (inout ONNXModelBuilder) -> Void) -> ONNXModelBuilder {
        var builder = ONNXModelBuilder()
        builder.opset = opset
        builder.input("x", [features])
        var random = SeededValues(state: 7)
        builder.weight("P", prototypeShape, random.take(prototypes * features))
        if opset >= 13 {
            builder.integers("axis1", [1])
            builder.node("Unsqueeze", ["x", "axis1"], ["u"], name: "/protonn/Unsqueeze")
        } else {
            builder.node("Unsqueeze", ["x"], ["u"], name: "/protonn/Unsqueeze", [ONNXModelBuilder.ints("axes", [1])])
        }
        builder.node("Sub", prototypesFirst ? ["P", "u"] : ["u", "P"], ["d"], name: "/protonn/Sub")
        square(&builder)
        sum(&builder)
        builder.output("dist")
        return builder
    }

    static func pow(_ builder: inout ONNXModelBuilder) {
        builder.weight("two", [], [2])
        builder.node("Pow", ["d", "two"], ["s"], name: "/protonn/Pow")
    }

    static func mulBySelf(_ builder: inout ONNXModelBuilder) { builder.node("Mul", ["d", "d"], ["s"], name: "/protonn/Mul") }

    static func reduceSum(_ builder: inout ONNXModelBuilder) {
        builder.integers("last", [-1])
        builder.node("ReduceSum", ["s", "last"], ["dist"], name: "/protonn/ReduceSum", [ONNXModelBuilder.int("keepdims", 0)])
    }

    /// `||x_s - P_m||^2` for each sample `s` and prototype `m` of `count` rows of `features`.
    static func squaredDistances(_ x: [Double], _ p: [Double], features: Int, count: Int) -> [[Double]] {
        (0..<samples).map { s in
            (0..<count).map { m in
                var sum = 0.0
                for j in 0..<features {
                    let difference = x[s * features + j] - p[m * features + j]
                    sum += difference * difference
                }
                return sum
            }
        }
    }

    static func expected(_ x: [Double]) -> [[Double]] {
        var random = SeededValues(state: 7)
        return squaredDistances(x, random.take(prototypes * features), features: features, count: prototypes)
    }

    static func check(_ builder: ONNXModelBuilder) throws {
        let imported = try builder.importModel()
        #expect(imported.graph.nodes.map(\.op) == [.squaredDistance])
        var random = SeededValues(state: 8)
        let x = random.take(samples * features)
        let ours = try ImportNumericsTests.evaluate(imported.graph, x)
        #expect(ImportNumericsTests.maxDifference(ours, expected(x)) < ImportNumericsTests.tolerance)
        #expect(imported.report.folded.contains { $0.contains("Unsqueeze '/protonn/Unsqueeze', Sub '/protonn/Sub'") })
    }

    @Test func powAndReduceSumAsTorchWritesThem() throws {
        try Self.check(Self.model(square: Self.pow, sum: Self.reduceSum))
    }

    @Test func mulBySelfPrototypesFirstAndPrototypesWithoutTheLeadingOne() throws {
        try Self.check(Self.model(prototypesFirst: true, prototypeShape: [3, 4], square: Self.mulBySelf, sum: Self.reduceSum))
    }

    @Test func reduceSumSquareOfTheDifferences() throws {
        let builder = Self.model(opset: 18, square: { _ in }) { builder in
            builder.integers("last", [2])
            builder.node("ReduceSumSquare", ["d", "last"], ["dist"], name: "/protonn/ReduceSumSquare", [ONNXModelBuilder.int("keepdims", 0)])
        }
        try Self.check(builder)
    }

    @Test func axesAsAttributesBeforeOpset13() throws {
        let builder = Self.model(opset: 11, square: Self.mulBySelf) { builder in
            builder.node("ReduceSum", ["s"], ["dist"], name: "/protonn/ReduceSum",
                         [ONNXModelBuilder.ints("axes", [-1]), ONNXModelBuilder.int("keepdims", 0)])
        }
        try Self.check(builder)
    }

    /// The prototypes meet a flattened NCHW image: their columns are permuted to our channels-last order.
    @Test func prototypesOfAFlattenedImage() throws {
        let (c, h, w, count) = (2, 2, 3, 4)
        var random = SeededValues(state: 9)
        let p = random.take(count * c * h * w)
        var builder = ONNXModelBuilder()
        builder.input("image", [c, h, w])
        builder.weight("P", [count, c * h * w], p)
        builder.integers("axis1", [1])
        builder.node("Flatten", ["image"], ["f"])
        builder.node("Unsqueeze", ["f", "axis1"], ["u"])
        builder.node("Sub", ["u", "P"], ["d"])
        Self.mulBySelf(&builder)
        Self.reduceSum(&builder)
        builder.output("dist")
        let imported = try builder.importModel()
        let x = random.take(Self.samples * c * h * w)
        let expected = Self.squaredDistances(x, p, features: c * h * w, count: count)
        let ours = try ImportNumericsTests.evaluate(imported.graph, NCHWReference.channelsLast(x, samples: Self.samples, c: c, h: h, w: w))
        #expect(ImportNumericsTests.maxDifference(ours, expected) < ImportNumericsTests.tolerance)
    }

    // MARK: - What we refuse

    static let pattern = "an activation may be unsqueezed only to compute its squared distances from constant prototypes: "
        + "Unsqueeze(axes [1]), Sub of a constant [M, D], Pow 2 (or Mul by itself), ReduceSum(axes [-1], keepdims=0)"

    @Test func unsqueezeOnAnotherAxis() throws {
        var builder = ONNXModelBuilder()
        builder.input("x", [4])
        builder.integers("axis0", [0])
        builder.node("Unsqueeze", ["x", "axis0"], ["u"], name: "/Unsqueeze")
        builder.output("u")
        #expect(try ImportErrorTests.message(builder)
            == "model.onnx: node '/Unsqueeze' (Unsqueeze, opset 17): unsqueezes axes [0] of a per-sample [4]; " + Self.pattern)
    }

    @Test func anotherOpReadsTheDifferences() throws {
        let builder = Self.model(square: { builder in builder.node("Abs", ["d"], ["s"], name: "/protonn/Abs") }, sum: Self.reduceSum)
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/protonn/Abs' (Abs, opset 17): reads 'd', [3, 4] "
            + "(differences from prototypes), which only Pow with exponent 2, a Mul by itself, or ReduceSumSquare over the last axis "
            + "may read; " + Self.pattern)
    }

    @Test func anExponentOtherThanTwo() throws {
        let builder = Self.model(square: { builder in
            builder.weight("three", [], [3])
            builder.node("Pow", ["d", "three"], ["s"], name: "/protonn/Pow")
        }, sum: Self.reduceSum)
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/protonn/Pow' (Pow, opset 17): raises [3, 4] "
            + "(differences from prototypes) to [3.0]; only the exponent 2 (a squared distance) is supported")
    }

    @Test func aSumThatKeepsItsAxis() throws {
        let builder = Self.model(square: Self.pow) { builder in
            builder.integers("last", [-1])
            builder.node("ReduceSum", ["s", "last"], ["dist"], name: "/protonn/ReduceSum")
        }
        #expect(try ImportErrorTests.message(builder)
            == "model.onnx: node '/protonn/ReduceSum' (ReduceSum): attribute 'keepdims' must be 0: the distances are [N, M]")
    }

    @Test func theSquaresAsTheOutput() throws {
        var builder = Self.model(square: Self.pow) { _ in }
        builder.outputs = []
        builder.output("s")
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node 's' (output, opset 17): the output is [3, 4] "
            + "(squared differences from prototypes); " + Self.pattern)
    }

    @Test func prototypesComputedFromTheInput() throws {
        var builder = Self.model(square: Self.pow, sum: Self.reduceSum)
        builder.nodes[1].input = ["u", "x"]
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/protonn/Sub' (Sub, opset 17): its prototypes "
            + "(input 2, 'x') is computed from the model's input; only a constant prototypes is supported")
    }
}
