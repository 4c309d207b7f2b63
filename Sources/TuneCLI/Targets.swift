import ArgumentParser
import Hardware
import Tuner

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the known boards with their RAM, flash and clock (from configs/targets).",
        discussion: "The last column says whether the board's cost model was fitted by 'tune calibrate' on its simulator (and when, and whether its cycles are counted exactly or instruction-timed) or is still an estimate.")

    func run() throws {
        let catalog = try reporting { try TargetCatalog.load(directory: try BundledResources.locate().get().targetsDirectory) }
        var table = TextTable(["target", "board", "mcu", "core", "clock", "RAM", "flash", "FPU", "cost model"], numeric: [4, 5, 6])
        for t in catalog.targets {
            table.add([t.name, t.board, t.mcu, t.core.rawValue, Format.hertz(t.clockHz), Format.bytes(t.ramBytes),
                       Format.bytes(t.flashBytes), t.hasFPU ? "yes" : "no", Self.costModel(t.cost)])
        }
        print(table.render())
    }

    /// "calibrated 2026-12-02, cycle-accurate" or "estimate (not calibrated)".
    static func costModel(_ cost: CostCoefficients) -> String {
        guard cost.calibrated, let p = cost.provenance else { return "estimate (not calibrated)" }
        return "calibrated \(p.date.prefix(10)), \(p.cycleCount)"
    }
}
