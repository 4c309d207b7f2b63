import Dispatch
import Emit
import Evaluator
import FixedPoint
import Foundation
import ModelIR

/// How fast each way of scoring a candidate runs: the emulator's BLAS path, its scalar path, and
/// the emitted C compiled on the host (timed with and without its compile, since a new candidate
/// needs a new build). All run the same program over the same validation samples in one process.
public struct EvaluationBenchmark {
    public struct Row: Sendable {
        public var model: String
        public var samples: Int
        public var blasPerSecond: Double
        public var scalarPerSecond: Double
        public var cRunPerSecond: Double
        public var cBuildAndRunPerSecond: Double
    }

    /// Repeats `body` until `seconds` have passed (at least twice) and returns runs per second.
    public static func rate(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            try body()
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds || runs < 2
        return Double(runs) / elapsed
    }

    /// Scores `program` on `split` each way; `directory` holds the host program.
    public static func measure(program: FixedProgram, split: DatasetSplit, seconds: Double, directory: String) throws -> Row {
        let emulator = FixedEmulator(program: program)
        let blas = rate(seconds: seconds) { _ = emulator.run(split, path: .blas) }
        let scalar = rate(seconds: seconds) { _ = emulator.run(split, path: .scalar) }

        try BitExactCheck.writeHostProgram(program, split: split, directory: directory)
        guard let cc = ProcessRunner.find("cc") else { throw DeviceError.toolMissing(tool: "cc", package: "gcc") }
        func build() throws {
            let result = try ProcessRunner.run(cc, ["-std=c99", "-O2", "model.c", "harness.c", "-o", "harness"], in: directory)
            guard result.status == 0 else { throw DeviceError.toolFailed(tool: "cc", output: result.stderr) }
        }
        func runHarness() throws {
            let result = try ProcessRunner.run("\(directory)/harness", ["input.bin", "output.bin"], in: directory)
            guard result.status == 0 else { throw DeviceError.toolFailed(tool: "harness", output: result.stderr) }
        }
        try build()
        let cRun = try rate(seconds: seconds) { try runHarness() }
        let cBuild = try rate(seconds: seconds) { try build(); try runHarness() }
        return Row(model: program.graph.name, samples: split.count, blasPerSecond: blas, scalarPerSecond: scalar,
                   cRunPerSecond: cRun, cBuildAndRunPerSecond: cBuild)
    }
}
