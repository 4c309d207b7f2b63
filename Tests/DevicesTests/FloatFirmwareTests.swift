import Foundation
import Testing
import TestSupport
import Devices
import FixedPoint
import Hardware
import ModelIR

/// The float baseline (`FloatCEmitter`) is the same computation as the float reference on every
/// kind of board: soft float on the Uno and the Nano 33 IoT (Cortex-M0+), the FPU on the Nano 33
/// BLE (Cortex-M4F). Each output the board prints is within 1e-3 (relative) of the reference
/// evaluated in double precision on the host, and each sample's class is the reference's.
@Suite struct FloatFirmwareTests {
    static let cases: [(String, String)] = Repository.models.flatMap { model in ["nano33iot", "nano33ble"].map { (model, $0) } }
        + [("mlp-digits", "uno"), ("fastgrnn-japanesevowels", "uno")]

    @Test(arguments: cases)
    func floatCIsTheReferenceOnTheBoard(model name: String, board: String) throws {
        let model = try ModelLoader.load(Repository.path("models/\(name)"))
        let dataset = try Dataset.open(try #require(model.datasetPath))
        let target = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: board)
        let device = try DeviceCatalog(root: Repository.root).device(for: target)
        let measured = try FloatFirmwareMeasurement.run(graph: model.graph, device: device, split: try dataset.load(split: "test"),
                                                        maxSamples: 8, directory: makeTemporaryDirectory("\(name)-\(board)-float"))
        #expect(measured.samples == 8, "\(name) on \(board)")
        #expect(measured.largestRelativeError <= FloatFirmwareMeasurement.tolerance, "\(name) on \(board): \(measured.largestRelativeError)")
        #expect(measured.classDisagreements == 0, "\(name) on \(board)")
        #expect(measured.cycles.count == 8 && measured.cycles.allSatisfy { $0 > 0 })
    }
}

/// The limits of avr-gcc are in the cost model: a 16-bit weight array over 32,767 bytes is
/// infeasible on AVR even on the Mega 2560's 256 KB of flash (and avr-gcc does refuse it), while
/// the same layer with 8-bit weights is within the limits and builds.
@Suite struct AVRBuildLimitTests {
    func program(weightBits: Int) throws -> FixedProgram {
        let (n, k) = (200, 100)
        let w = (0..<(n * k)).map { Double(($0 * 37) % 201 - 100) / 128 }
        let graph = try Graph.checked(
            name: "wide", input: .init(name: "x", shape: Shape([k]), isSequence: false), output: "y",
            constants: ["W": Tensor(shape: Shape([n, k]), values: w)],
            nodes: [Node(name: "fc", op: .gemm, inputs: ["x"], output: "y", weights: ["W": "W"])])
        return try FixedProgram(graph: graph, config: QuantConfig(formats: [
            "x": .init(bits: 8, fracBits: 6), "W": .init(bits: weightBits, fracBits: weightBits - 2), "y": .init(bits: 16, fracBits: 6),
        ]))
    }

    @Test func anObjectOverTheLimitIsInfeasibleAndIsRefusedByAvrGcc() throws {
        let mega = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "mega2560")
        let model = CostModel(target: mega, meanSteps: 1)
        let wide = try program(weightBits: 16)
        let violation = try #require(model.limitViolation(wide))
        #expect(violation.message.contains("32767") && violation.excess == 40_000 - 32_767)
        let device = try DeviceCatalog(root: Repository.root).device(for: mega)
        #expect(throws: DeviceError.self) {
            _ = try ProgramFirmware.build(program: wide, device: device, split: Self.split(), maxSamples: 1,
                                          directory: makeTemporaryDirectory("wide16-build"))
        }
        let narrow = try program(weightBits: 8)
        #expect(model.limitViolation(narrow) == nil)
        let built = try ProgramFirmware.build(program: narrow, device: device, split: Self.split(), maxSamples: 1,
                                              directory: makeTemporaryDirectory("wide8-build"))
        #expect(built.programFlash > 20_000)
    }

    static func split() -> DatasetSplit {
        DatasetSplit(name: "test", inputs: (0..<100).map { Double($0 % 7) / 8 }, labels: [0], lengths: nil, sampleShape: Shape([100]), maxSteps: 1)
    }
}
