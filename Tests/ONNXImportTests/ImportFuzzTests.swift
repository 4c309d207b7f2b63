import Foundation
import Testing
@testable import ONNXImport
import TestSupport

/// Truncated, bit-flipped and random ONNX files: the importer never crashes, and every failure is
/// one line that names the file.
@Suite struct ImportFuzzTests {
    /// A CNN touching most of the importer: Conv, BatchNormalization, Relu, MaxPool, the torch-style
    /// flatten, Gemm, Softmax.
    static func seedModel() throws -> Data {
        var random = SeededValues(state: 42)
        var builder = ONNXModelBuilder()
        builder.opset = 13
        builder.input("x", [2, 6, 6])
        builder.weight("conv.weight", [3, 2, 3, 3], random.take(54))
        builder.weight("conv.bias", [3], random.take(3))
        for name in ["bn.weight", "bn.bias", "bn.mean"] { builder.weight(name, [3], random.take(3)) }
        builder.weight("bn.var", [3], [0.5, 1, 2])
        builder.weight("fc.weight", [4, 27], random.take(108))
        builder.weight("fc.bias", [4], random.take(4))
        builder.integers("zero", [0], dims: [])
        builder.integers("axes", [0])
        builder.integers("minus_one", [-1])
        builder.node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], [ONNXModelBuilder.ints("pads", [1, 1, 1, 1])])
        builder.node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.mean", "bn.var"], ["b"])
        builder.node("Relu", ["b"], ["r"])
        builder.node("MaxPool", ["r"], ["p"], [ONNXModelBuilder.ints("kernel_shape", [2, 2]), ONNXModelBuilder.ints("strides", [2, 2])])
        builder.node("Shape", ["p"], ["shape"])
        builder.node("Gather", ["shape", "zero"], ["batch"])
        builder.node("Unsqueeze", ["batch", "axes"], ["batch1"])
        builder.node("Concat", ["batch1", "minus_one"], ["target"], [ONNXModelBuilder.int("axis", 0)])
        builder.node("Reshape", ["p", "target"], ["flat"])
        builder.node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], [ONNXModelBuilder.int("transB", 1)])
        builder.node("Softmax", ["logits"], ["probabilities"], [ONNXModelBuilder.int("axis", 1)])
        builder.output("probabilities")
        return try builder.data()
    }

    /// Imports `data`; a failure must be one non-empty line that starts with the path.
    static func check(_ data: Data, _ label: String) -> Bool {
        do {
            _ = try ONNXImporter.importModel(data, path: "fuzz.onnx")
            return true
        } catch {
            let message = error.description
            let ok = message.hasPrefix("fuzz.onnx") && !message.contains("\n") && !message.contains("\r")
            if !ok { Issue.record("\(label): \(message)") }
            return ok
        }
    }

    @Test func seedImports() throws {
        _ = try ONNXImporter.importModel(try Self.seedModel(), path: "fuzz.onnx")
    }

    @Test func truncatedFiles() throws {
        let seed = try Self.seedModel()
        var failures = 0
        for length in stride(from: 0, to: seed.count, by: max(1, seed.count / 400)) {
            do {
                _ = try ONNXImporter.importModel(seed.prefix(length), path: "fuzz.onnx")
            } catch {
                failures += 1
                #expect(error.description.hasPrefix("fuzz.onnx") && !error.description.contains("\n"))
            }
        }
        #expect(failures > 0)
    }

    @Test func bitFlips() throws {
        let seed = try Self.seedModel()
        var random = SeededValues(state: 7)
        for trial in 0..<1500 {
            var data = seed
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<data.count, using: &random)
                data[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            }
            _ = Self.check(data, "bit flips, trial \(trial)")
        }
    }

    /// The FastGRNN that PyTorch unrolled over 29 steps, with one node reading another tensor of the
    /// file or one of its inputs dropped: the fold into one loop must refuse what is not a loop, never crash.
    @Test func rewiredUnrolledLoops() throws {
        let url = URL(fileURLWithPath: Repository.path("models/onnx/fastgrnn-japanesevowels.onnx"))
        let seed = try Onnx_ModelProto(serializedBytes: Data(contentsOf: url))
        let tensors = seed.graph.node.flatMap(\.output) + seed.graph.initializer.map(\.name) + ["x"]
        var random = SeededValues(state: 29)
        var imported = 0
        for trial in 0..<300 {
            var model = seed
            let node = Int.random(in: 0..<model.graph.node.count, using: &random)
            guard !model.graph.node[node].input.isEmpty else { continue }
            let input = Int.random(in: 0..<model.graph.node[node].input.count, using: &random)
            if Bool.random(using: &random) {
                model.graph.node[node].input[input] = tensors[Int.random(in: 0..<tensors.count, using: &random)]
            } else {
                model.graph.node[node].input.remove(at: input)
            }
            let data: Data = try model.serializedBytes()
            do {
                _ = try ONNXImporter.importModel(data, path: "fuzz.onnx")
                imported += 1
            } catch {
                // One line naming the file, and never the importer's own inconsistency (a graph our IR rejects).
                #expect(error.description.hasPrefix("fuzz.onnx") && !error.description.contains("\n"), "trial \(trial): \(error)")
                if case .rejectedGraph = error { Issue.record("trial \(trial): \(error)") }
            }
        }
        // Most rewirings break the loop; some only touch what the output does not depend on, or keep it a loop.
        #expect(imported < 300)
    }

    @Test func randomBytes() {
        var random = SeededValues(state: 11)
        for trial in 0..<500 {
            let data = Data((0..<Int.random(in: 0..<600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            _ = Self.check(data, "random bytes, trial \(trial)")
        }
    }
}
