import Emit
import FixedPoint
import ModelIR

/// What a fixed-point program costs on a target: cycles per inference, peak RAM and flash.
///
/// Cycles sum each kernel's multiply-accumulates, requantizations and elementwise work at the
/// target's coefficients (recurrent bodies times the mean sequence length of the calibration split).
/// RAM is what the firmware the tuner writes (`AVRFirmware`) holds: the planned arena, the library's
/// statics and the caller's input and output buffers (all exact, `StaticMemory`), plus the target's
/// worst-case stack estimate and what the platform itself takes. For the pick on an AVR board the
/// tuner replaces the stack estimate with the compiled program's analysed worst case
/// (`AVRFirmwareBuild`). Flash is the weights and tables plus an estimate of the code.
/// Coefficients are estimates until the simulator calibration lands (`Target.cost.calibrated`).
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
        let (cycles, nodes, tables) = walk(program)
        let constants = CEmitter.flashConstants(of: program).compactMap { program.constants[$0] }
            .reduce(0) { $0 + $1.values.count * $1.format.bits / 8 }
        let tableBytes = tables.reduce(0) { $0 + ($1 == "exp" ? 2 * ActivationTables.exp2.count : 2 * ActivationTables.gridEntries) }
        let statics = StaticMemory(program: program, arena: arena, pointerBytes: target.pointerBytes).total
        return Estimate(cycles: cycles,
                        ramBytes: statics + c.stackBytes + c.platformRAMBytes,
                        flashBytes: constants + tableBytes + c.codeBaseBytes + c.codeBytesPerNode * nodes,
                        arenaBytes: arena.bytes, arenaLowerBound: arena.lowerBound, constantBytes: constants + tableBytes,
                        staticBytes: statics, stackBytes: c.stackBytes)
    }

    /// Cycles per inference alone (no arena plan).
    public func cycles(_ program: FixedProgram) -> Double { walk(program).cycles }

    /// Cycles, node functions and activation tables of the program.
    private func walk(_ program: FixedProgram) -> (cycles: Double, nodes: Int, tables: Set<String>) {
        let c = target.cost
        var cycles = 0.0, nodes = 0
        var tables = Set<String>()
        for step in program.steps {
            if case let .loop(plan) = step.kernel {
                let body = plan.body.reduce(0.0) { $0 + kernelCycles($1, program: program, tables: &tables) }
                let copies = plan.states.reduce(0.0) { $0 + Double($1.shape.elementCount) * c.elementwise(accBits: 16) }
                cycles += (body + copies) * meanSteps
                nodes += plan.body.count
            } else {
                cycles += kernelCycles(step, program: program, tables: &tables)
                nodes += 1
            }
        }
        return (cycles, nodes, tables)
    }

    private func kernelCycles(_ step: FixedStep, program: FixedProgram, tables: inout Set<String>) -> Double {
        let c = target.cost
        let outputs = Double(program.graph.shapes[step.node.output]?.elementCount ?? 0)
        let operandBits = max(step.inputs.map(\.bits).max() ?? 8,
                              step.node.weights.values.compactMap { program.constants[$0]?.format.bits }.max() ?? 8)
        var cycles = c.nodeOverheadCycles
        switch step.kernel {
        case let .linear(plan):
            let macs = Double(program.graph.macs(of: step.node))
            cycles += macs * c.mac(accBits: plan.accBits, operandBits: operandBits) + outputs * c.requant(accBits: plan.accBits)
        case let .add(plan):
            cycles += outputs * (c.elementwise(accBits: plan.accBits) + c.requant(accBits: plan.accBits))
        case let .mul(plan):
            cycles += outputs * (c.mac(accBits: plan.accBits, operandBits: operandBits) + c.requant(accBits: plan.accBits))
        case let .scale(_, _, accBits):
            cycles += outputs * (c.mac(accBits: accBits, operandBits: 16) + c.requant(accBits: accBits))
        case .clamp, .argMax, .zero:
            cycles += outputs * c.elementwise(accBits: 32)
        case let .maxPool(window, _, _):
            cycles += outputs * (Double(window.kernelHeight * window.kernelWidth) * c.elementwise(accBits: 32) + c.requant(accBits: 32))
        case let .avgPool(window, _, _, _, accBits):
            cycles += outputs * (Double(window.kernelHeight * window.kernelWidth) * c.elementwise(accBits: accBits) + c.requant(accBits: accBits))
        case .sigmoid:
            tables.insert("sigmoid")
            cycles += outputs * c.lookupCycles
        case .tanh:
            tables.insert("tanh")
            cycles += outputs * c.lookupCycles
        case .exp:
            tables.insert("exp")
            cycles += outputs * c.expCycles
        case let .squaredDistance(_, _, _, _, accBits):
            cycles += Double(program.graph.macs(of: step.node)) * c.mac(accBits: accBits, operandBits: operandBits)
                + outputs * c.requant(accBits: accBits)
        case .alias, .loop:
            cycles = 0
        }
        return cycles
    }
}
