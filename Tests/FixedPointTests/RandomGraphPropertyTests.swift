import Devices
import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR
import Testing
import TestSupport
import Tuner

/// Seeds of the property test: 0..<200, or those in MCUTUNE_RANDOM_GRAPH_SEEDS to reproduce or
/// explore ("17", "3,17,40", or a range "1000..<1400").
enum RandomGraphSeeds {
    static let standard: [UInt64] = (0..<200).map { UInt64($0) }

    static var property: [UInt64] {
        guard let text = ProcessInfo.processInfo.environment["MCUTUNE_RANDOM_GRAPH_SEEDS"], !text.isEmpty else { return standard }
        if let r = text.range(of: "..<"), let lo = UInt64(text[..<r.lowerBound]), let hi = UInt64(text[r.upperBound...]), lo < hi {
            return Array(lo..<hi)
        }
        return text.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// The core contract on random graphs: for small random graphs over every op, random data and
/// random configs (8/16 bits, formats around the data-driven fit, sometimes far off so that values
/// saturate or shift out entirely), the emitted C compiles warning-free, runs UBSan-clean and gives
/// the emulator's integers exactly; and the emulator's BLAS and scalar paths agree.
@Suite struct RandomGraphPropertyTests {
    @Test(arguments: RandomGraphSeeds.property)
    func emittedCIsBitExactWithTheEmulator(seed: UInt64) throws {
        let random: RandomGraphCase
        do { random = try RandomGraphCase(seed: seed) } catch {
            Issue.record("seed \(seed): the generator built an invalid case: \(error)")
            return
        }
        let program: FixedProgram
        do {
            program = try FixedProgram(graph: random.graph, config: random.config)
        } catch .unsupported(let node, let reason) {
            // A config whose accumulator would need more than 64 bits is refused by design.
            print("seed \(seed): config refused (node \(node): \(reason))")
            return
        } catch {
            Issue.record("seed \(seed): FixedProgram failed: \(error)\n\(random.summary)")
            return
        }

        let emulator = FixedEmulator(program: program)
        let blas = emulator.run(random.split, path: .blas)
        let scalar = emulator.run(random.split, path: .scalar)
        #expect(blas == scalar, "seed \(seed): emulator paths differ: \(Self.firstDifference(blas, scalar))\n\(random.summary)")

        let directory = makeTemporaryDirectory("random-graph-\(seed)")
        let report: BitExactCheck.Report
        do {
            report = try BitExactCheck.run(program: program, split: random.split, directory: directory)
        } catch {
            Issue.record("seed \(seed): the emitted C failed to build or run (kept in \(directory)): \(error)\n\(random.summary)")
            return
        }
        #expect(report.isBitExact,
                "seed \(seed): \(report.mismatches) mismatches, first \(report.firstMismatch ?? ""); C kept in \(directory)\n\(random.summary)")
        if report.isBitExact, blas == scalar { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The smallest forms of the emitter bugs the random graphs found (each once failed to compile
    /// under -Werror): a linear kernel with a one-element weight or bias (the array was left out as
    /// "a scalar inlined as a literal"), a node whose kernel is `.zero` (its weights were emitted but
    /// never read), and a model made only of views of its input (an arena nothing used).
    @Test(arguments: ["one-element weights", "zero kernel", "views only"])
    func emitterEdgeCasesFoundByRandomGraphs(_ name: String) throws {
        func t(_ dims: [Int], _ values: [Double]) -> Tensor { Tensor(shape: Shape(dims), values: values) }
        let input: Graph.Input, constants: [String: Tensor], nodes: [Node], output: String
        var formats: [String: TensorFormat] = [:]
        switch name {
        case "one-element weights":
            input = .init(name: "x", shape: Shape([2]), isSequence: false)
            constants = ["W": t([1, 2], [0.75, -0.5]), "b": t([1], [0.25]), "P": t([1, 1], [0.5]), "V": t([1, 1], [-1.25])]
            nodes = [Node(name: "fc", op: .gemm, inputs: ["x"], output: "h", weights: ["W": "W", "b": "b"]),
                     Node(name: "dist", op: .squaredDistance, inputs: ["h"], output: "d", weights: ["P": "P"]),
                     Node(name: "out", op: .matMul, inputs: ["d"], output: "y", weights: ["W": "V"])]
            output = "y"
        case "zero kernel":
            input = .init(name: "x", shape: Shape([3]), isSequence: false)
            constants = ["W": t([2, 3], [0.5, -1, 0.25, 1, 0.75, -0.5]), "b": t([2], [0.5, -0.25])]
            nodes = [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W", "b": "b"])]
            output = "y"
            // int8 Q4 times int8 Q4 is Q8; Q-20 shifts every bit of the accumulator out.
            formats = ["x": .init(bits: 8, fracBits: 4), "W": .init(bits: 8, fracBits: 4), "b": .init(bits: 8, fracBits: 4),
                       "y": .init(bits: 8, fracBits: -20)]
        default:
            input = .init(name: "x", shape: Shape([4]), isSequence: false)
            constants = [:]
            nodes = [Node(name: "r", op: .reshape(Shape([2, 2])), inputs: ["x"], output: "m"),
                     Node(name: "f", op: .flatten, inputs: ["m"], output: "y")]
            output = "y"
        }
        let graph = try Graph.checked(name: "edge", input: input, output: output, constants: constants, nodes: nodes)
        for tensor in FixedPointGraph.tensors(of: graph) where formats[tensor] == nil {
            formats[tensor] = TensorFormat(bits: 16, fracBits: 8)
        }
        let program = try FixedProgram(graph: graph, config: QuantConfig(formats: formats))
        let features = input.shape.elementCount
        let split = DatasetSplit(name: "edge", inputs: (0..<(5 * features)).map { Double($0 % 7) / 2 - 1.5 },
                                 labels: Array(repeating: 0, count: 5), lengths: nil, sampleShape: input.shape, maxSteps: 1)
        let directory = makeTemporaryDirectory("emitter-edge")
        let report = try BitExactCheck.run(program: program, split: split, directory: directory)
        #expect(report.isBitExact, "\(name): \(report.firstMismatch ?? "")")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The program, or nil when its config is refused as needing more than 64-bit accumulators.
    static func programUnlessRefused(_ random: RandomGraphCase) throws -> FixedProgram? {
        do {
            return try FixedProgram(graph: random.graph, config: random.config)
        } catch {
            if case .unsupported = error { return nil }
            throw error
        }
    }

    static func firstDifference(_ a: Batch, _ b: Batch) -> String {
        guard a.rows == b.rows, a.columns == b.columns else { return "shapes \(a.rows)x\(a.columns) vs \(b.rows)x\(b.columns)" }
        guard let i = a.values.indices.first(where: { a.values[$0] != b.values[$0] }) else { return "none" }
        return "sample \(i / max(a.columns, 1)), output \(i % max(a.columns, 1)): blas \(a.values[i]), scalar \(b.values[i])"
    }

    /// Ops and variants every property run must exercise (besides every op of `Op.fileOpNames`).
    static let requiredFeatures = [
        "kind/vector", "kind/image", "kind/recurrent",
        "Gemm+b", "Gemm-b", "Scale+", "Scale-",
        "Add(2)", "Sub(2)", "Mul(2)", "Add(B)", "Sub(B)", "Mul(B)", "Add(B1)", "Sub(B1)", "Mul(B1)",
        "binary/self", "binary/skip", "binary/dense-branch", "binary/conv-branch",
        "Conv2D/stride1", "Conv2D/stride2", "Conv2D/pad", "Conv2D/nopad", "Conv2D/+b", "Conv2D/-b",
        "DepthwiseConv2D/stride1", "DepthwiseConv2D/stride2", "DepthwiseConv2D/pad", "DepthwiseConv2D/nopad",
        "DepthwiseConv2D/+b", "DepthwiseConv2D/-b",
        "MaxPool/2x2", "MaxPool/3x3", "AvgPool/2x2", "AvgPool/3x3",
        "Reshape/flat", "Reshape/2d", "Reshape/3d",
        "FastGRNN/full", "FastGRNN/lowrank",
    ]

    /// The standard seeds really cover every op, variant and integer path, and few configs are refused,
    /// so the property test cannot silently stop testing something.
    @Test func randomGraphsCoverEveryOpAndPath() throws {
        var ops = Set<String>(), features = Set<String>(), kinds: [String: Int] = [:], opCounts: [String: Int] = [:]
        var refused: [UInt64] = [], zeroKernels = 0, saturatingCases = 0, accumulators: [String: Int] = [:], paths: [String: Int] = [:]
        for seed in RandomGraphSeeds.standard {
            let random = try RandomGraphCase(seed: seed)
            ops.formUnion(random.graph.nodes.map(\.op.name))
            for node in random.graph.nodes { opCounts[node.op.name, default: 0] += 1 }
            features.formUnion(random.features)
            kinds[random.kind.rawValue, default: 0] += 1
            guard let program = try Self.programUnlessRefused(random) else {
                refused.append(seed)
                continue
            }
            for step in program.allSteps {
                switch step.kernel {
                case .zero: zeroKernels += 1
                case let .linear(p): accumulators["linear\(p.accBits)", default: 0] += 1
                case let .add(p): accumulators["add\(p.accBits)", default: 0] += 1
                case let .mul(p): accumulators["mul\(p.accBits)", default: 0] += 1
                case let .scale(_, _, bits): accumulators["scale\(bits)", default: 0] += 1
                case let .avgPool(_, _, _, _, bits): accumulators["avgPool\(bits)", default: 0] += 1
                case let .squaredDistance(_, _, _, _, bits): accumulators["squaredDistance\(bits)", default: 0] += 1
                case let .exp(frac):
                    paths[frac > 16 ? "exp/fine" : frac < -13 ? "exp/coarse" : "exp/direct", default: 0] += 1
                case let .sigmoid(frac, shift), let .tanh(frac, shift):
                    let g = frac - (step.node.op == .sigmoid ? ActivationTables.sigmoidStepLog2 : ActivationTables.tanhStepLog2)
                    paths[g <= 0 ? "table/coarse" : g > ActivationTables.interpolationBits ? "table/fine" : "table/interpolated", default: 0] += 1
                    paths[shift < 0 ? "q15/left" : shift > 15 ? "q15/shift>15" : "q15/right", default: 0] += 1
                default: break
                }
                let shift: Int?
                switch step.kernel {
                case let .linear(p): shift = p.shift
                case let .add(p): shift = p.shift
                case let .mul(p): shift = p.shift
                case let .scale(_, s, _), let .avgPool(_, _, _, s, _), let .squaredDistance(_, _, _, s, _): shift = s
                default: shift = nil
                }
                if let shift { paths[shift < 0 ? "requant/left" : shift == 0 ? "requant/none" : "requant/right", default: 0] += 1 }
            }
            // Some value of some computed tensor reaches its format's limit (saturation, most likely).
            var saturates = false
            _ = FixedEmulator(program: program).run(random.split) { tensor, values in
                let format = program.format(tensor)
                if tensor != program.graph.input.name, !program.graph.outputsClassIndex || tensor != program.graph.output,
                   values.values.contains(where: { $0 == Double(format.maxInt) || $0 == Double(format.minInt) }) {
                    saturates = true
                }
            }
            if saturates { saturatingCases += 1 }
            // Fused elementwise runs (`ElementwiseFusion`): values kept in registers, and a stored
            // value in the buffer of an input of the run (narrower or as wide).
            let groups = ElementwiseFusion.groups(program)
            let arena = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches)
            // A convolution that gathers its windows into a patch in the arena.
            if program.allSteps.contains(where: { step in arena.buffers.contains { $0.tensors == [ArenaPlan.patchName(step.node.name)] } }) {
                paths["conv/patch", default: 0] += 1
            }
            if !groups.isEmpty {
                for g in groups {
                    paths["fused/run", default: 0] += 1
                    if g.stored.count < g.steps.count { paths["fused/in-registers", default: 0] += 1 }
                    for output in g.stored where arena.buffers.contains(where: { b in b.tensors.contains(output) && g.inputs.contains { b.tensors.contains($0) } }) {
                        paths[program.format(output).bits < (g.inputs.map { program.format($0).bits }.max() ?? 0) ? "fused/in-place-narrower" : "fused/in-place", default: 0] += 1
                    }
                }
            }
        }
        let missingOps = Set(Op.fileOpNames).subtracting(ops).sorted()
        let missingFeatures = Set(Self.requiredFeatures).subtracting(features).sorted()
        #expect(missingOps.isEmpty, "ops never generated: \(missingOps)")
        #expect(missingFeatures.isEmpty, "variants never generated: \(missingFeatures)")
        #expect(refused.count <= RandomGraphSeeds.standard.count / 10, "too many configs refused: \(refused)")
        #expect(zeroKernels > 0, "no kernel shifted every bit out")
        #expect(saturatingCases >= 20, "only \(saturatingCases) cases reach a format's limit")
        for kind in ["linear16", "linear32", "linear64", "add16", "add32", "mul16", "mul32", "avgPool32", "squaredDistance32", "squaredDistance64"] {
            #expect(accumulators[kind, default: 0] > 0, "no \(kind) accumulator")
        }
        for path in ["fused/run", "fused/in-registers", "fused/in-place", "conv/patch"] {
            #expect(paths[path, default: 0] > 0, "no random graph takes the path \(path)")
        }
        print("""
            random graphs: \(kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")); \
            ops \(opCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")); \
            refused \(refused.count) \(refused); zero kernels \(zeroKernels); cases reaching a limit \(saturatingCases); \
            accumulators \(accumulators.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")); \
            paths \(paths.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            """)
    }
}
