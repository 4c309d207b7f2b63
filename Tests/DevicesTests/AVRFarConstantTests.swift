import Foundation
import Testing
import TestSupport
import Devices
import Emit
import FixedPoint
import Hardware
import ModelIR

/// Weights beyond avr-gcc's limits: an array over 32,767 bytes (one object at most) and, on the
/// Mega 2560, constants beyond the first 64 KB of flash (beyond `pgm_read_*`'s reach). The emitter
/// writes such arrays in assembly and reads them with far addresses; the firmware builds and is
/// bit-exact on simavr. A program without such arrays has no far code at all.
@Suite struct AVRFarConstantTests {
    /// One dense layer of 200 x 100 weights (40,000 B at 16 bits), and optionally a second of
    /// 200 x 200 after a ReLU (80,000 B more).
    func program(layers: Int, weightBits: Int) throws -> FixedProgram {
        func weights(_ rows: Int, _ columns: Int, _ seed: Int) -> Tensor {
            Tensor(shape: Shape([rows, columns]), values: (0..<(rows * columns)).map { Double(($0 * 37 + seed) % 201 - 100) / 2048 })
        }
        var constants = ["W0": weights(200, 100, 0)]
        var nodes = [Node(name: "fc0", op: .gemm, inputs: ["x"], output: layers == 1 ? "y" : "h", weights: ["W": "W0"])]
        var formats: [String: TensorFormat] = ["x": .init(bits: 8, fracBits: 6), "W0": .init(bits: weightBits, fracBits: weightBits + 2),
                                               "y": .init(bits: 16, fracBits: 8)]
        if layers == 2 {
            constants["W1"] = weights(200, 200, 11)
            nodes += [Node(name: "act", op: .relu, inputs: ["h"], output: "a"),
                      Node(name: "fc1", op: .gemm, inputs: ["a"], output: "y", weights: ["W": "W1"])]
            formats["h"] = .init(bits: 16, fracBits: 8)
            formats["a"] = .init(bits: 16, fracBits: 8)
            formats["W1"] = .init(bits: weightBits, fracBits: weightBits + 2)
        }
        let graph = try Graph.checked(name: "wide", input: .init(name: "x", shape: Shape([100]), isSequence: false), output: "y",
                                      constants: constants, nodes: nodes)
        return try FixedProgram(graph: graph, config: QuantConfig(formats: formats))
    }

    static func split() -> DatasetSplit {
        DatasetSplit(name: "test", inputs: (0..<400).map { Double(($0 * 13) % 17 - 8) / 8 }, labels: [0, 1, 2, 3], lengths: nil,
                     sampleShape: Shape([100]), maxSteps: 1)
    }

    func measure(_ program: FixedProgram, _ label: String) throws -> FirmwareMeasurement {
        let mega = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "mega2560")
        let device = try DeviceCatalog(root: Repository.root).device(for: mega)
        return try FirmwareMeasurement.run(program: program, device: device, split: Self.split(), maxSamples: 4,
                                           directory: makeTemporaryDirectory(label))
    }

    @Test func anArrayOverOneObjectIsBitExact() throws {
        let program = try program(layers: 1, weightBits: 16)
        #expect(CEmitter.farConstants(of: program) == ["W0"])
        let measured = try measure(program, "far-object")
        #expect(measured.samples == 4 && measured.isBitExact, "\(measured.firstMismatch ?? "")")
        #expect(measured.firmware.programFlash > 40_000)
    }

    @Test func constantsBeyond64KBAreBitExactOnTheMega() throws {
        let program = try program(layers: 2, weightBits: 16)
        #expect(CEmitter.flashConstants(of: program).count == 2 && CEmitter.farConstants(of: program).count == 2)
        let measured = try measure(program, "far-64k")
        #expect(measured.samples == 4 && measured.isBitExact, "\(measured.firstMismatch ?? "")")
        #expect(measured.firmware.programFlash > 65_536 + 40_000)
    }

    @Test func smallArraysStayNear() throws {
        let program = try program(layers: 1, weightBits: 8)
        #expect(CEmitter.farConstants(of: program).isEmpty)
        var emitter = CEmitter(program: program)
        #expect(!emitter.emit().source.contains("MCU_FAR"))
    }
}
