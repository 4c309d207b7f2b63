import Foundation
import Testing
import Evaluator
import ModelIR
@testable import ONNXImport

/// Imported models run by our float evaluator against ONNX semantics computed directly on NCHW
/// arrays, on random inputs.
@Suite struct ImportNumericsTests {
    static let samples = 5
    static let tolerance = 1e-4

    /// Our graph on `inputs` (in our layout), one row per sample.
    static func evaluate(_ graph: Graph, _ inputs: [Double]) throws -> [[Double]] {
        let split = DatasetSplit(name: "random", inputs: inputs, labels: Array(repeating: 0, count: samples), lengths: nil,
                                 sampleShape: graph.input.shape, maxSteps: 1)
        let out = try FloatEvaluator(graph: graph).run(split)
        return (0..<out.rows).map { Array(out.values[($0 * out.columns)..<(($0 + 1) * out.columns)]) }
    }

    static func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        guard a.count == b.count, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return .infinity }
        return zip(a.joined(), b.joined()).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func mlpWithGemmMatMulAddAndSoftmax() throws {
        var random = SeededValues(state: 1)
        let (k, hidden, classes) = (12, 8, 5)
        let w1 = random.take(hidden * k), b1 = random.take(hidden)
        let w2 = random.take(hidden * classes), b2 = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.input("input", [k])
        builder.weight("fc1.weight", [hidden, k], w1)
        builder.weight("fc1.bias", [hidden], b1)
        builder.weight("onnx::MatMul_7", [hidden, classes], w2)
        builder.weight("fc2.bias", [classes], b2)
        builder.node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["/fc1/Gemm_output_0"], name: "/fc1/Gemm",
                     [ONNXModelBuilder.int("transB", 1), ONNXModelBuilder.float("alpha", 0.5), ONNXModelBuilder.float("beta", 2)])
        builder.node("Relu", ["/fc1/Gemm_output_0"], ["/relu/Relu_output_0"], name: "/relu/Relu")
        builder.node("MatMul", ["/relu/Relu_output_0", "onnx::MatMul_7"], ["/fc2/MatMul_output_0"], name: "/fc2/MatMul")
        builder.node("Add", ["fc2.bias", "/fc2/MatMul_output_0"], ["logits"], name: "/fc2/Add")
        builder.node("Softmax", ["logits"], ["probabilities"], name: "/Softmax", [ONNXModelBuilder.int("axis", 1)])
        builder.output("probabilities")
        let imported = try builder.importModel()

        let x = random.take(Self.samples * k)
        let expected = (0..<Self.samples).map { s -> [Double] in
            let h = NCHWReference.relu(NCHWReference.gemm(Array(x[(s * k)..<((s + 1) * k)]), b: w1, n: hidden, transB: true, c: b1,
                                                          alpha: 0.5, beta: 2))
            return NCHWReference.gemm(h, b: w2, n: classes, transB: false, c: b2)
        }
        #expect(Self.maxDifference(try Self.evaluate(imported.graph, x), expected) < Self.tolerance)
        #expect(imported.graph.nodes.map(\.op.name) == ["Gemm", "Relu", "Gemm"])
        #expect(imported.report.folded.contains { $0.contains("Add '/fc2/Add' merged into the bias") })
        #expect(imported.report.notes.contains { $0.contains("Softmax '/Softmax' at the output was dropped") })
        #expect(imported.report.renamed.contains(.init(original: "/fc1/Gemm_output_0", legal: "fc1_Gemm_output_0")))
    }

    @Test func cnnWithBatchNormMaxPoolFlattenGemm() throws {
        var random = SeededValues(state: 2)
        let (c, h, w, o, k, classes) = (3, 8, 8, 4, 3, 6)
        let convW = random.take(o * c * k * k)
        let (gamma, beta, mean) = (random.take(o), random.take(o), random.take(o))
        let variance = random.take(o).map { abs($0) + 0.1 }
        let fcW = random.take(classes * o * 4 * 4), fcB = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.input("image", [c, h, w])
        builder.weight("conv.weight", [o, c, k, k], convW)
        for (name, values) in [("bn.weight", gamma), ("bn.bias", beta), ("bn.running_mean", mean), ("bn.running_var", variance)] {
            builder.weight(name, [o], values)
        }
        builder.weight("fc.weight", [classes, o * 16], fcW)
        builder.weight("fc.bias", [classes], fcB)
        builder.node("Conv", ["image", "conv.weight"], ["c1"], [ONNXModelBuilder.ints("kernel_shape", [k, k]),
                                                              ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("BatchNormalization", ["c1", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["b1"],
                     [ONNXModelBuilder.float("epsilon", 1e-3)])
        builder.node("Relu", ["b1"], ["r1"])
        builder.node("MaxPool", ["r1"], ["p1"], [ONNXModelBuilder.ints("kernel_shape", [2, 2]), ONNXModelBuilder.ints("strides", [2, 2])])
        builder.node("Flatten", ["p1"], ["f1"], [ONNXModelBuilder.int("axis", 1)])
        builder.node("Gemm", ["f1", "fc.weight", "fc.bias"], ["logits"], [ONNXModelBuilder.int("transB", 1)])
        builder.output("logits")
        let imported = try builder.importModel()
        #expect(imported.graph.input.shape == Shape([h, w, c]))
        #expect(imported.graph.nodes.map(\.op.name) == ["Conv2D", "Relu", "MaxPool", "Flatten", "Gemm"])
        #expect(imported.report.folded.contains { $0.hasPrefix("BatchNormalization") })

        let x = random.take(Self.samples * c * h * w)
        let expected = (0..<Self.samples).map { s -> [Double] in
            let sample = Array(x[(s * c * h * w)..<((s + 1) * c * h * w)])
            let conv = NCHWReference.conv(sample, c: c, h: h, w: w, weight: convW, o: o, k: k, bias: nil, stride: 1, pad: 1, group: 1)
            let bn = NCHWReference.batchNorm(conv.values, c: o, scale: gamma, bias: beta, mean: mean, variance: variance, epsilon: 1e-3)
            let pooled = NCHWReference.pool(NCHWReference.relu(bn), c: o, h: conv.h, w: conv.w, k: 2, stride: 2, max: true)
            return NCHWReference.gemm(pooled.values, b: fcW, n: classes, transB: true, c: fcB)
        }
        let ours = try Self.evaluate(imported.graph, NCHWReference.channelsLast(x, samples: Self.samples, c: c, h: h, w: w))
        #expect(Self.maxDifference(ours, expected) < Self.tolerance)
    }

    @Test func depthwiseConvClipGlobalAveragePool() throws {
        var random = SeededValues(state: 3)
        let (c, h, w, k, classes) = (3, 6, 5, 3, 4)
        let dwW = random.take(c * k * k).map { $0 * 4 }, dwB = random.take(c)
        let fcW = random.take(c * classes), fcB = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.input("x", [c, h, w])
        builder.weight("dw.weight", [c, 1, k, k], dwW)
        builder.weight("dw.bias", [c], dwB)
        builder.weight("zero", [], [0])
        builder.weight("six", [], [6])
        builder.weight("fc.weight", [c, classes], fcW)
        builder.weight("fc.bias", [classes], fcB)
        builder.node("Conv", ["x", "dw.weight", "dw.bias"], ["d"], [ONNXModelBuilder.int("group", c), ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("Clip", ["d", "zero", "six"], ["r6"])
        builder.node("GlobalAveragePool", ["r6"], ["g"])
        builder.node("Flatten", ["g"], ["f"])
        builder.node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"])
        builder.output("logits")
        let imported = try builder.importModel()
        #expect(imported.graph.nodes.map(\.op.name) == ["DepthwiseConv2D", "Relu6", "AvgPool", "Flatten", "Gemm"])

        let x = random.take(Self.samples * c * h * w)
        let expected = (0..<Self.samples).map { s -> [Double] in
            let sample = Array(x[(s * c * h * w)..<((s + 1) * c * h * w)])
            let conv = NCHWReference.conv(sample, c: c, h: h, w: w, weight: dwW, o: c, k: k, bias: dwB, stride: 1, pad: 1, group: c)
            let clipped = conv.values.map { min(max($0, 0), 6) }
            let pooled = (0..<c).map { ch in clipped[(ch * h * w)..<((ch + 1) * h * w)].reduce(0, +) / Double(h * w) }
            return NCHWReference.gemm(pooled, b: fcW, n: classes, transB: false, c: fcB)
        }
        let ours = try Self.evaluate(imported.graph, NCHWReference.channelsLast(x, samples: Self.samples, c: c, h: h, w: w))
        #expect(Self.maxDifference(ours, expected) < Self.tolerance)
    }

    /// `x.view(x.size(0), -1)` as torch exports it: Shape, Gather, Unsqueeze, Concat, Reshape; plus a
    /// Dropout and an Identity that compute nothing.
    @Test func torchStyleFlattenThroughShapeGatherConcatReshape() throws {
        var random = SeededValues(state: 4)
        let (c, h, w, o, k, classes) = (2, 6, 6, 3, 3, 4)
        let convW = random.take(o * c * k * k), convB = random.take(o)
        let fcW = random.take(classes * o * 2 * 2), fcB = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.opset = 13
        builder.input("x", [c, h, w])
        builder.weight("conv.weight", [o, c, k, k], convW)
        builder.weight("conv.bias", [o], convB)
        builder.weight("fc.weight", [classes, o * 4], fcW)
        builder.weight("fc.bias", [classes], fcB)
        builder.integers("zero", [0], dims: [])
        builder.integers("axes", [0])
        builder.integers("minus_one", [-1])
        builder.node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], [ONNXModelBuilder.ints("strides", [2, 2]),
                                                                       ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("Relu", ["c"], ["r"])
        builder.node("AveragePool", ["r"], ["p"], [ONNXModelBuilder.ints("kernel_shape", [2, 2]), ONNXModelBuilder.ints("strides", [1, 1])])
        builder.node("Shape", ["p"], ["shape"])
        builder.node("Gather", ["shape", "zero"], ["batch"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("Unsqueeze", ["batch", "axes"], ["batch1"])
        builder.node("Concat", ["batch1", "minus_one"], ["target"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("Reshape", ["p", "target"], ["flat"])
        builder.node("Dropout", ["flat"], ["dropped"])
        builder.node("Gemm", ["dropped", "fc.weight", "fc.bias"], ["fc"], [ONNXModelBuilder.int("transB", 1)])
        builder.node("Identity", ["fc"], ["logits"])
        builder.output("logits")
        let imported = try builder.importModel()
        #expect(imported.graph.nodes.map(\.op.name) == ["Conv2D", "Relu", "AvgPool", "Flatten", "Gemm"])
        #expect(imported.report.folded.filter { $0.contains("evaluated at import time") }.count == 4)

        let x = random.take(Self.samples * c * h * w)
        let expected = (0..<Self.samples).map { s -> [Double] in
            let sample = Array(x[(s * c * h * w)..<((s + 1) * c * h * w)])
            let conv = NCHWReference.conv(sample, c: c, h: h, w: w, weight: convW, o: o, k: k, bias: convB, stride: 2, pad: 1, group: 1)
            let pooled = NCHWReference.pool(NCHWReference.relu(conv.values), c: o, h: conv.h, w: conv.w, k: 2, stride: 1, max: false)
            return NCHWReference.gemm(pooled.values, b: fcW, n: classes, transB: true, c: fcB)
        }
        let ours = try Self.evaluate(imported.graph, NCHWReference.channelsLast(x, samples: Self.samples, c: c, h: h, w: w))
        #expect(Self.maxDifference(ours, expected) < Self.tolerance)
    }

    /// Weights in a file beside the model (data_location EXTERNAL), at an offset.
    @Test func externalData() throws {
        var random = SeededValues(state: 5)
        let (k, n) = (6, 3)
        let wValues = random.take(n * k), bValues = random.take(n)
        let directory = NSTemporaryDirectory() + "onnx-external-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var blob = Data([0xde, 0xad, 0xbe, 0xef])
        for v in wValues { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { blob.append(contentsOf: $0) } }
        try blob.write(to: URL(fileURLWithPath: directory + "/weights.bin"))

        var builder = ONNXModelBuilder()
        builder.input("x", [k])
        var tensor = Onnx_TensorProto()
        tensor.name = "fc.weight"
        tensor.dims = [Int64(n), Int64(k)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dataLocation = .external
        tensor.externalData = [("location", "weights.bin"), ("offset", "4"), ("length", "\(4 * n * k)")].map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        builder.initializers.append(tensor)
        // float_data, the typed field
        var bias = Onnx_TensorProto()
        bias.name = "fc.bias"
        bias.dims = [Int64(n)]
        bias.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        bias.floatData = bValues.map(Float.init)
        builder.initializers.append(bias)
        builder.node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], [ONNXModelBuilder.int("transB", 1)])
        builder.output("y")
        let path = directory + "/model.onnx"
        try builder.data().write(to: URL(fileURLWithPath: path))
        let imported = try ONNXImporter.importModel(at: path)
        let x = random.take(Self.samples * k)
        let expected = (0..<Self.samples).map { s in
            NCHWReference.gemm(Array(x[(s * k)..<((s + 1) * k)]), b: wValues, n: n, transB: true, c: bValues)
        }
        #expect(Self.maxDifference(try Self.evaluate(imported.graph, x), expected) < Self.tolerance)

        try FileManager.default.removeItem(atPath: directory + "/weights.bin")
        #expect(throws: ONNXImportError.externalDataMissing(path: path, tensor: "fc.weight", file: "weights.bin")) {
            try ONNXImporter.importModel(at: path)
        }
    }
}
