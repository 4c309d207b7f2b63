import Emit
import FixedPoint
import ModelIR

/// What a fixed-point program costs on a target: cycles per inference, peak RAM and flash.
///
/// Cycles price the program's work (`CostFeatures`: per kernel, its calls, rows, taps,
/// multiply-accumulates and requantization shifts by width; recurrent bodies times the mean
/// sequence length) with the target's coefficients, fitted by `tune calibrate` on the board's
/// simulator. RAM is what the firmware the tuner writes holds: the planned arena, the library's
/// statics and the caller's input and output buffers (all exact, `StaticMemory`), plus the target's
/// worst-case stack estimate and what the platform itself takes; for the pick, the tuner replaces
/// the estimate with the built program's analysed stack. Flash is the weights and tables (exact)
/// plus the code, priced per kernel the same way.
public struct CostModel: Sendable {
    public struct Estimate: Sendable, Equatable, Codable {
        public var cycles: Double
        public var ramBytes: Int
        public var flashBytes: Int
        public var arenaBytes: Int
        public var arenaLowerBound: Int
        public var constantBytes: Int
        /// Static RAM (arena, library statics, input and output buffers) and the stack estimate.
        public var staticBytes: Int
        public var stackBytes: Int
    }

    public let target: Target
    /// Mean timesteps per sequence (1 for feed-forward models).
    public let meanSteps: Double

    public init(target: Target, meanSteps: Double) {
        self.target = target
        self.meanSteps = meanSteps
    }

    public func estimate(_ program: FixedProgram) -> Estimate {
        let arena = ArenaPlan(program: program, exactSeconds: 0.02)
        let c = target.cost
        let constants = Self.constantBytes(program)
        let statics = Self.staticBytes(program, arena: arena, target: target)
        let code = Int(c.price(CostFeatures.code(program), in: \.codeBytes).rounded())
        return Estimate(cycles: cycles(program),
                        ramBytes: statics + c.stackBytes + c.platformRAMBytes,
                        flashBytes: constants + code,
                        arenaBytes: arena.bytes, arenaLowerBound: arena.lowerBound, constantBytes: constants,
                        staticBytes: statics, stackBytes: c.stackBytes)
    }

    /// Cycles per inference alone (no arena plan).
    public func cycles(_ program: FixedProgram) -> Double {
        target.cost.price(CostFeatures.inference(program, steps: meanSteps), in: \.cycles)
    }

    /// Weights, biases and activation tables in flash, as the emitter writes them.
    public static func constantBytes(_ program: FixedProgram) -> Int {
        var tables = Set<String>()
        for step in program.allSteps {
            switch step.kernel {
            case .sigmoid: tables.insert("sigmoid")
            case .tanh: tables.insert("tanh")
            case .exp: tables.insert("exp")
            default: break
            }
        }
        let arrays = CEmitter.flashConstants(of: program).compactMap { program.constants[$0] }
            .reduce(0) { $0 + $1.values.count * $1.format.bits / 8 }
        return arrays + tables.reduce(0) { $0 + ($1 == "exp" ? 2 * ActivationTables.exp2.count : 2 * ActivationTables.gridEntries) }
    }

    /// Static RAM of the firmware: exact, with the end of .bss aligned as the target's linker script
    /// aligns it (8 bytes for the Cortex-M runtime).
    public static func staticBytes(_ program: FixedProgram, arena: ArenaPlan, target: Target) -> Int {
        let total = StaticMemory(program: program, arena: arena, pointerBytes: target.pointerBytes).total
        let alignment = target.core == .avr ? 1 : 8
        return (total + alignment - 1) / alignment * alignment
    }
}
