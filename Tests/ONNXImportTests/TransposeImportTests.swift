import Foundation
import Testing
import ModelIR
@testable import ONNXImport

/// Transposes on activations: the NHWC input a PyTorch model permutes to NCHW itself
/// (`x.permute(0, 3, 1, 2)`, which every bundled CNN does) is imported without a node, and a
/// transpose that would move data in our channels-last layout is one clear error.
@Suite struct TransposeImportTests {
    @Test func nhwcInputPermutedToNCHWByTheModel() throws {
        var random = SeededValues(state: 7)
        let (c, h, w, o, k, classes) = (2, 6, 6, 3, 3, 4)
        let convW = random.take(o * c * k * k), convB = random.take(o)
        let fcW = random.take(classes * o * 3 * 3), fcB = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.input("x", [h, w, c])
        builder.weight("conv.weight", [o, c, k, k], convW)
        builder.weight("conv.bias", [o], convB)
        builder.weight("fc.weight", [classes, o * 9], fcW)
        builder.weight("fc.bias", [classes], fcB)
        builder.node("Transpose", ["x"], ["nchw"], name: "/Transpose", [ONNXModelBuilder.ints("perm", [0, 3, 1, 2])])
        builder.node("Conv", ["nchw", "conv.weight", "conv.bias"], ["c1"], [ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("Relu", ["c1"], ["r1"])
        builder.node("MaxPool", ["r1"], ["p1"], [ONNXModelBuilder.ints("kernel_shape", [2, 2]), ONNXModelBuilder.ints("strides", [2, 2])])
        builder.node("Flatten", ["p1"], ["f1"])
        builder.node("Gemm", ["f1", "fc.weight", "fc.bias"], ["logits"], [ONNXModelBuilder.int("transB", 1)])
        builder.output("logits")
        let imported = try builder.importModel()
        // The input is taken as stored, [H, W, C], and the Transpose becomes nothing.
        #expect(imported.graph.input.shape == Shape([h, w, c]))
        #expect(imported.graph.nodes.map(\.op.name) == ["Conv2D", "Relu", "MaxPool", "Flatten", "Gemm"])
        #expect(imported.report.removed.contains { $0.hasPrefix("Transpose '/Transpose'") })
        #expect(imported.report.notes.contains { $0.contains("input 'x' is NHWC [6, 6, 2]") })

        let x = random.take(ImportNumericsTests.samples * h * w * c)   // NHWC, as the file's input
        let expected = (0..<ImportNumericsTests.samples).map { s -> [Double] in
            var nchw = [Double](repeating: 0, count: c * h * w)
            for y in 0..<h { for x0 in 0..<w { for ch in 0..<c { nchw[(ch * h + y) * w + x0] = x[s * h * w * c + (y * w + x0) * c + ch] } } }
            let conv = NCHWReference.conv(nchw, c: c, h: h, w: w, weight: convW, o: o, k: k, bias: convB, stride: 1, pad: 1, group: 1)
            let pooled = NCHWReference.pool(NCHWReference.relu(conv.values), c: o, h: conv.h, w: conv.w, k: 2, stride: 2, max: true)
            return NCHWReference.gemm(pooled.values, b: fcW, n: classes, transB: true, c: fcB)
        }
        let ours = try ImportNumericsTests.evaluate(imported.graph, x)
        #expect(ImportNumericsTests.maxDifference(ours, expected) < ImportNumericsTests.tolerance)
    }

    /// NCHW to NHWC before a Flatten (what tf2onnx writes) would reorder our buffer: refused, in one line.
    @Test func transposeThatMovesDataIsRefused() throws {
        var builder = ONNXModelBuilder()
        builder.input("image", [2, 4, 4])
        builder.weight("fc.weight", [3, 32], (0..<96).map { Double($0) / 96 })
        builder.node("Transpose", ["image"], ["nhwc"], name: "/to_nhwc", [ONNXModelBuilder.ints("perm", [0, 2, 3, 1])])
        builder.node("Flatten", ["nhwc"], ["flat"])
        builder.node("Gemm", ["flat", "fc.weight"], ["logits"], [ONNXModelBuilder.int("transB", 1)])
        builder.output("logits")
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/to_nhwc' (Transpose, opset 17): perm [0, 2, 3, 1] of a "
            + "per-sample [2, 4, 4] moves data in our channels-last layout; supported: an NHWC graph input transposed to NCHW, "
            + "and transposes that leave our channels-last tensor as it is")
    }

    @Test func transposeOfTheBatchAxisIsRefused() throws {
        var builder = ImportErrorTests.dense()
        builder.node("Transpose", ["h"], ["t"], name: "/t")
        builder.outputs = []
        builder.output("t")
        #expect(try ImportErrorTests.message(builder)
            == "model.onnx: node '/t' (Transpose, opset 17): perm [1, 0] moves the batch axis; only the axes of a sample may move")
    }
}
