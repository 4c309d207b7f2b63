import Foundation
import Testing
import ModelIR
@testable import ONNXImport

/// Transposes on activations: the NHWC input a PyTorch model permutes to NCHW itself
/// (`x.permute(0, 3, 1, 2)`, which every bundled CNN does), and tf2onnx's NHWC relabellings around
/// a Keras CNN, are imported without a node; a transpose that would move data in our channels-last
/// layout is one clear error.
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

    /// What tf2onnx writes for a Keras Conv2D on a one-channel image and a Flatten after it: the
    /// NHWC input reshaped to NCHW (the same buffer), and the NCHW result transposed back to NHWC
    /// and flattened by a Reshape whose shape Shape, Gather, Cast, Slice and Concat compute. Both
    /// are relabellings of our channels-last buffer: no node, and the Dense takes its columns as
    /// they are.
    @Test func kerasOneChannelInputAndFlattenOfNHWC() throws {
        var random = SeededValues(state: 11)
        let (h, w, o, k, classes) = (4, 4, 2, 3, 3)
        let convW = random.take(o * k * k), fcW = random.take(h * w * o * classes), fcB = random.take(classes)
        var builder = ONNXModelBuilder()
        builder.opset = 15
        builder.input("x", [h, w, 1])
        builder.integers("new_shape", [-1, 1, Int64(h), Int64(w)])
        builder.weight("conv.weight", [o, 1, k, k], convW)
        builder.integers("nhwc_axes", [0, 2, 3, 1])
        builder.integers("start", [0])
        builder.integers("end", [1])
        builder.integers("features", [Int64(h * w * o)])
        builder.weight("kernel", [h * w * o, classes], fcW)
        builder.weight("bias", [classes], fcB)
        builder.node("Reshape", ["x", "new_shape"], ["nchw"], name: "conv/BiasAdd__6")
        builder.node("Conv", ["nchw", "conv.weight"], ["c"], [ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("Transpose", ["c"], ["nhwc"], name: "Transpose__34", [ONNXModelBuilder.ints("perm", [0, 2, 3, 1])])
        builder.node("Shape", ["c"], ["shape"])
        builder.node("Gather", ["shape", "nhwc_axes"], ["nhwc_shape"])
        builder.node("Cast", ["nhwc_shape"], ["shape32"], [ONNXModelBuilder.int("to", 6)])
        builder.node("Slice", ["shape32", "start", "end", "start"], ["batch"])
        builder.node("Concat", ["batch", "features"], ["flat_shape"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("Reshape", ["nhwc", "flat_shape"], ["flat"], name: "flatten/Reshape")
        builder.node("MatMul", ["flat", "kernel"], ["m"])
        builder.node("Add", ["m", "bias"], ["logits"])
        builder.output("logits")
        let imported = try builder.importModel()
        #expect(imported.graph.input.shape == Shape([h, w, 1]))
        #expect(imported.graph.nodes.map(\.op.name) == ["Conv2D", "Flatten", "Gemm"])
        #expect(imported.report.removed.contains { $0.hasPrefix("Reshape 'conv/BiasAdd__6': it turns the one-channel NHWC input into NCHW") })
        #expect(imported.report.removed.contains { $0.hasPrefix("Transpose 'Transpose__34'") })

        let x = random.take(ImportNumericsTests.samples * h * w)     // [N, H, W, 1]: NCHW too
        let expected = (0..<ImportNumericsTests.samples).map { s -> [Double] in
            let conv = NCHWReference.conv(Array(x[(s * h * w)..<((s + 1) * h * w)]), c: 1, h: h, w: w, weight: convW, o: o, k: k,
                                          bias: nil, stride: 1, pad: 1, group: 1)
            let nhwc = NCHWReference.channelsLast(conv.values, samples: 1, c: o, h: conv.h, w: conv.w)
            return NCHWReference.gemm(nhwc, b: fcW, n: classes, transB: false, c: fcB)
        }
        let ours = try ImportNumericsTests.evaluate(imported.graph, x)
        #expect(ImportNumericsTests.maxDifference(ours, expected) < ImportNumericsTests.tolerance)
    }

    /// An image transposed to NHWC holds our buffer as it is, but our ops read images as NCHW: only
    /// Flatten, Reshape or a Transpose back may read it.
    @Test func nhwcImageReadByAnotherOpIsRefused() throws {
        var builder = ONNXModelBuilder()
        builder.input("image", [2, 4, 4])
        builder.node("Transpose", ["image"], ["nhwc"], name: "/to_nhwc", [ONNXModelBuilder.ints("perm", [0, 2, 3, 1])])
        builder.node("Relu", ["nhwc"], ["r"], name: "/relu")
        builder.output("r")
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/relu' (Relu, opset 17): reads 'nhwc', an image in "
            + "NHWC order [4, 4, 2]; only Dropout, Flatten, Identity, Reshape, Transpose (to NCHW, or to [N, features]) may read one")
    }

    /// Swapping height and width would reorder our buffer: refused, in one line.
    @Test func transposeThatMovesDataIsRefused() throws {
        var builder = ONNXModelBuilder()
        builder.input("image", [2, 4, 4])
        builder.weight("fc.weight", [3, 32], (0..<96).map { Double($0) / 96 })
        builder.node("Transpose", ["image"], ["swapped"], name: "/swap", [ONNXModelBuilder.ints("perm", [0, 1, 3, 2])])
        builder.node("Flatten", ["swapped"], ["flat"])
        builder.node("Gemm", ["flat", "fc.weight"], ["logits"], [ONNXModelBuilder.int("transB", 1)])
        builder.output("logits")
        #expect(try ImportErrorTests.message(builder) == "model.onnx: node '/swap' (Transpose, opset 17): perm [0, 1, 3, 2] of a "
            + "per-sample [2, 4, 4] moves data in our channels-last layout; supported: an NHWC image transposed to NCHW or back, "
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
