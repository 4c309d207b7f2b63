import Foundation
import Testing
import TestSupport
@testable import Devices
import Hardware

/// The qemu timing plugin against a loop counted by hand (`Tests/Fixtures/cortexm/it_bench.S`):
/// 11 instructions per iteration, IT blocks whose condition fails half of the time (qemu executes
/// them, and so does the core), a conditional load, loads after loads and a taken branch.
@Suite struct QemuTimingPluginTests {
    @Test func aHandCountedLoopIsCountedAndTimedExactly() throws {
        let board = try TargetCatalog.load(directory: Repository.path("configs/targets")).target(named: "nano33ble")
        let device = try DeviceCatalog(root: Repository.root).device(for: board)
        let directory = makeTemporaryDirectory("it-bench")
        for (name, text) in try device.runtimeFiles() { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        try FileManager.default.copyItem(atPath: Repository.path("Tests/Fixtures/cortexm/it_bench.S"), toPath: "\(directory)/it_bench.S")
        try """
            #include <stdint.h>
            #include "semihost.h"
            int32_t it_bench(int32_t n);
            int main(void) { sh_print_int(it_bench(100)); sh_write("\\n"); return 0; }
            """.write(toFile: "\(directory)/main.c", atomically: true, encoding: .utf8)
        let build = try device.build(in: directory)
        let run = try device.run(build)
        #expect(run.output == "150\n")
        let marks = run.marks
        #expect(marks.map(\.id) == [1, 2])
        guard marks.count == 2, let first = marks[0].instructions, let last = marks[1].instructions else { return }
        // From mcu_region_start's first instruction to the call of mcu_region_end: 11 n + 6 for n = 100.
        #expect(last - first == 1106)
        // M4 timings: bx lr 3, mov 1, ldr 2, movs 1; per iteration 12 plus the last ldr (1 after the
        // conditional load when it ran, else 2) and 2 for each of the 99 taken branches; mov 1, bl 3.
        #expect(marks[1].cycle - marks[0].cycle == 3 + 1 + 2 + 1 + (50 * 13 + 50 * 14 + 99 * 2) + 1 + 3)
        // The deepest stack seen is within the bound analysed from the call graph.
        #expect(run.peakStackBytes > 16 && run.peakStackBytes <= build.stack.bytes)
    }

    @Test func thumbMnemonicsAreClassified() {
        #expect(ARMMnemonic("addeq").base == "add" && ARMMnemonic("addeq").condition == "eq")
        #expect(ARMMnemonic("bne.n").base == "b" && ARMMnemonic("bne.n").condition == "ne")
        #expect(ARMMnemonic("teq").base == "teq" && ARMMnemonic("teq").condition == nil)
        #expect(ARMMnemonic("vmls.f32").base == "vmls")
        #expect(ARMMnemonic("ldrsh.w").base == "ldrsh")
        #expect(ARMMnemonic("bl").base == "bl" && ARMMnemonic("bls").condition == "ls")
        #expect(ARMMnemonic.registerListBytes("{r4, r5, r6, lr}") == 16)
        #expect(ARMMnemonic.registerListBytes("{d8-d9}") == 16)
        #expect(ARMMnemonic.stackAdjustment("sp, #24") == 24)
    }
}
