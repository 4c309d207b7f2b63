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
