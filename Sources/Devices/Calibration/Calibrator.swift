import Dispatch
import Emit
import FixedPoint
import Foundation
import Hardware

/// `tune calibrate`: the benchmark suite measured on a board's simulator, in parallel, and fitted.
public enum Calibrator {
    public struct Outcome: Sendable {
        public var coefficients: CostCoefficients
        public var measurements: [ProgramMeasurement]
        /// Programs that could not be measured, with the reason (they are left out of the fit).
        public var failures: [(name: String, reason: String)]

        public init(coefficients: CostCoefficients, measurements: [ProgramMeasurement], failures: [(name: String, reason: String)]) {
            self.coefficients = coefficients
            self.measurements = measurements
            self.failures = failures
        }
    }

    /// Measures `count` benchmark programs that fit the board (static data well within its RAM) and
    /// fits the target's coefficients; `progress` is called after each program with (done, total).
    public static func calibrate(device: any Device, count: Int, seed: UInt64, jobs: Int, directory: String,
                                 progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) throws(DeviceError) -> Outcome {
        let (measurements, failures) = try measure(device: device, count: count, seed: seed, jobs: jobs, directory: directory, progress: progress)
        return Outcome(coefficients: try fit(measurements, device: device, count: count, seed: seed), measurements: measurements,
                       failures: failures)
    }

    /// The measurements `calibrate` fits (at least one), and the programs that could not be measured.
    public static func measure(device: any Device, count: Int, seed: UInt64, jobs: Int, directory: String,
                               progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in })
        throws(DeviceError) -> (measurements: [ProgramMeasurement], failures: [(name: String, reason: String)]) {
        try device.checkTools()
        let target = device.target
        let far = target.core == .avr && target.flashBytes > 65_536
        let programs = BenchmarkSuite.programs(count: count, seed: seed, far: far) { program in
            let arena = ArenaPlan(program: program, exactBranches: ArenaPlan.searchBranches)
            return CostModel.staticBytes(program, arena: arena, target: target) + 300 <= target.ramBytes
                && CostModel.constantBytes(program, dsp: target.core.hasDSP) + 8192 <= target.flashBytes
        }
        let results = ParallelJobs.map(programs.count, jobs: jobs, progress: { progress($0, programs.count) }) { i in
            try ProgramMeasurement.measure(programs[i], device: device, directory: "\(directory)/\(programs[i].name)")
        }
        var measurements: [ProgramMeasurement] = [], failures: [(String, String)] = []
        for (i, outcome) in results.enumerated() {
            switch outcome {
            case let .success(m): measurements.append(m)
            case let .failure(error):
                // Without the tools nothing can be measured: say so rather than fit nothing.
                if let error = error as? DeviceError, case .toolMissing = error { throw error }
                failures.append((programs[i].name, String(describing: error).split(separator: "\n").first.map(String.init) ?? ""))
            }
        }
        guard !measurements.isEmpty else {
            throw .simulationFailed(simulator: "calibration", elf: directory, reason: "no benchmark program could be measured: \(failures.first?.1 ?? "")")
        }
        return (measurements, failures)
    }

    /// The target's coefficients fitted to `measurements`, with their provenance.
    public static func fit(_ measurements: [ProgramMeasurement], device: any Device, count: Int, seed: UInt64) throws(DeviceError) -> CostCoefficients {
        let target = device.target
        let fit = CalibrationFit(measurements, shiftsBitByBit: target.core.shiftsBitByBit)
        let tools = try device.toolchainDescription()
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let provenance = CostCoefficients.Provenance(
            date: formatter.string(from: Date()), toolVersion: CEmitter.toolVersion, compiler: tools.compiler, flags: tools.flags,
            simulator: tools.simulator, cycleCount: tools.cycles.rawValue, seed: seed, programs: measurements.count,
            measuredPieces: measurements.reduce(0) { $0 + $1.pieces.count }, residuals: fit.residuals)
        let source = "calibrated by `tune calibrate --target \(target.name) --programs \(count) --seed \(seed)`: \(measurements.count) benchmark "
            + "programs built with \(tools.compiler) and run on \(tools.simulator) (\(tools.cycles.rawValue) cycles); "
            + "stack_bytes is the deepest analysed worst-case stack among them; platform_ram_bytes is 0 for the bare firmware "
            + "(reserve your own with --reserve-ram)"
        return CostCoefficients(source: source, calibrated: true, cycles: fit.cycles, codeBytes: fit.codeBytes,
                                stackBytes: fit.stackBytes, platformRAMBytes: 0, provenance: provenance)
    }
}
