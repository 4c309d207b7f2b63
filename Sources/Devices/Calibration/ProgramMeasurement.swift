import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// One benchmark program measured on a board, as the calibration fits it: every marked piece (a node
/// or a piece of API glue) from a build that marks them, every API call from the plain build, and
/// the plain build's code size, stack and static RAM.
public struct ProgramMeasurement: Sendable {
    public struct Sample: Sendable {
        public var features: CostFeatures.Vector
        /// Mean cycles per execution.
        public var cycles: Double
        public var label: String
    }

    public var name: String
    /// Marked pieces, the cost of the marks themselves taken off.
    public var pieces: [Sample]
    /// Whole API calls (`model_predict`, `model_reset`, `model_step`, `model_result`).
    public var calls: [Sample]
    /// Code (program flash less weights and tables), with its counts.
    public var codeFeatures: CostFeatures.Vector
    public var codeBytes: Int
    public var stackBytes: Int
    public var staticRAM: Int
    public var predictedStaticRAM: Int
    public var isBitExact: Bool

    /// The calls the firmware makes for its samples, in order.
    static func callSequence(_ samples: FirmwareSamples, recurrent: Bool) -> [CostFeatures.Call] {
        samples.steps.flatMap { recurrent ? [.reset] + Array(repeating: .step, count: $0) + [.result] : [CostFeatures.Call.predict] }
    }

    /// Mean cycles of every piece of `program` (each node, each piece of API glue), from a build
    /// that marks them all, run over `split` on `device`; the marks' own cost is taken off.
    public static func measurePieces(_ program: FixedProgram, split: DatasetSplit, device: any Device,
                                     directory: String) throws(DeviceError) -> [Sample] {
        try measureMarked(program, split: split, device: device, directory: directory).pieces
    }

    /// `measurePieces` and the marked build it ran: its node functions are the tuner's own (the
    /// marks stand around their calls), so their symbols give each node's bytes.
    static func measureMarked(_ program: FixedProgram, split: DatasetSplit, device: any Device,
                              directory: String) throws(DeviceError) -> (pieces: [Sample], build: FirmwareBuild) {
        let marked = try ProgramFirmware.build(program: program, device: device, split: split, maxSamples: split.count,
                                               directory: directory, marksPieces: true)
        let run = try device.run(marked.build)
        let regions = run.regionCycles(start: .nodeBegin, end: .nodeEnd)
        // Each call opens with an empty pair of marks, then marks each of its pieces.
        var labels: [CostFeatures.Piece?] = []
        for call in callSequence(marked.samples, recurrent: program.graph.input.isSequence) {
            labels += [nil] + CostFeatures.pieces(of: call, in: program).map(Optional.some)
        }
        guard labels.count == regions.count else {
            throw .simulationFailed(simulator: "calibration", elf: marked.build.elf,
                                    reason: "it marked \(regions.count) pieces, expected \(labels.count)")
        }
        let empty = zip(labels, regions).filter { $0.0 == nil }.map { Double($0.1) }
        let markCost = empty.reduce(0, +) / Double(max(empty.count, 1))
        var totals: [CostFeatures.Piece: (sum: Double, count: Double)] = [:]
        var order: [CostFeatures.Piece] = []
        for (label, cycles) in zip(labels, regions) {
            guard let label else { continue }
            if totals[label] == nil { order.append(label) }
            totals[label, default: (0, 0)].sum += Double(cycles) - markCost
            totals[label, default: (0, 0)].count += 1
        }
        let pieces = order.compactMap { piece -> Sample? in
            guard let total = totals[piece] else { return nil }
            return Sample(features: CostFeatures.features(of: piece, in: program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr), cycles: total.sum / total.count, label: piece.description)
        }
        return (pieces, marked.build)
    }

    /// Builds `benchmark` twice in `directory` (marked and plain) and runs both on `device`.
    public static func measure(_ benchmark: BenchmarkSuite.Program, device: any Device,
                               directory: String) throws(DeviceError) -> ProgramMeasurement {
        let program = benchmark.program
        let recurrent = program.graph.input.isSequence
        let pieces = try measurePieces(program, split: benchmark.split, device: device, directory: "\(directory)/marked")
        let plain = try ProgramFirmware.build(program: program, device: device, split: benchmark.split, maxSamples: benchmark.split.count,
                                              directory: "\(directory)/plain")
        let plainMeasurement = try FirmwareMeasurement.measure(plain, program: program, device: device, split: benchmark.split)
        let callCycles = plainMeasurement.run.regionCycles()
        let sequence = callSequence(plain.samples, recurrent: recurrent)
        guard callCycles.count == sequence.count else {
            throw .simulationFailed(simulator: "calibration", elf: plain.build.elf,
                                    reason: "it marked \(callCycles.count) calls, expected \(sequence.count)")
        }
        var callTotals: [CostFeatures.Call: (sum: Double, count: Double)] = [:]
        for (call, cycles) in zip(sequence, callCycles) {
            callTotals[call, default: (0, 0)].sum += Double(cycles)
            callTotals[call, default: (0, 0)].count += 1
        }
        let calls = CostFeatures.Call.allCases.compactMap { call -> Sample? in
            guard let total = callTotals[call] else { return nil }
            return Sample(features: CostFeatures.call(call, in: program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr), cycles: total.sum / total.count, label: call.rawValue)
        }
        let arena = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches)
        return ProgramMeasurement(
            name: benchmark.name, pieces: pieces, calls: calls, codeFeatures: CostFeatures.code(program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr),
            codeBytes: plain.programFlash - CostModel.constantBytes(program, dsp: device.target.core.hasDSP), stackBytes: plain.build.stack.bytes,
            staticRAM: plain.build.sizes.staticRAM, predictedStaticRAM: CostModel.staticBytes(program, arena: arena, target: device.target),
            isBitExact: plainMeasurement.isBitExact)
    }
}
