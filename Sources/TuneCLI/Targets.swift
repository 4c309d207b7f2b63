import ArgumentParser
import Hardware
import Tuner

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the known boards with their RAM, flash and clock (from configs/targets).")

    func run() throws {
        let catalog = try reporting { try TargetCatalog.load(directory: try BundledResources.locate().get().targetsDirectory) }
        var table = TextTable(["target", "board", "mcu", "core", "clock", "RAM", "flash", "FPU"], numeric: [4, 5, 6])
        for t in catalog.targets {
            table.add([t.name, t.board, t.mcu, t.core.rawValue, Format.hertz(t.clockHz), Format.bytes(t.ramBytes),
                       Format.bytes(t.flashBytes), t.hasFPU ? "yes" : "no"])
        }
        print(table.render())
    }
}
