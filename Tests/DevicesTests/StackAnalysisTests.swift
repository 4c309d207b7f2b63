import Testing
@testable import Devices

/// The worst-case stack from `.su` frames and the call graph of a disassembly, on small hand-written
/// listings in avr-objdump's format (the real programs are checked against simavr elsewhere).
@Suite struct StackAnalysisTests {
    static func listing(_ functions: [(String, Int, [String])]) -> String {
        var text = "\nfirmware.elf:     file format elf32-avr\n\nDisassembly of section .text:\n\n"
        for (name, address, body) in functions {
            text += String(format: "%08x <%@>:\n", address, name)
            var at = address
            for instruction in body {
                text += String(format: " %3x:\t00 00       \t", at) + instruction + "\n"
                at += 2
            }
            text += "\n"
        }
        return text
    }

    @Test func theDeepestChainAddsFramesAndLibraryPushes() throws {
        let text = Self.listing([
            ("main", 0x100, ["push\tr28", "call\t0x200\t; 0x200 <model_step>", "call\t0x300\t; 0x300 <__divmodhi4>", "ret"]),
            ("model_step", 0x200, ["rcall\t.+0     \t; 0x204 <model_step+0x4>", "call\t0x400\t; 0x400 <mcu_lookup.constprop.0>", "ret"]),
            ("__divmodhi4", 0x300, ["push\tr16", "push\tr17", "ret"]),
            ("mcu_lookup.constprop.0", 0x400, ["call\t0x500\t; 0x500 <__mulsi3>", "ret"]),
            ("__mulsi3", 0x500, ["push\tr24", "push\tr25", "ret"]),
        ])
        let su = "main.c:5:5:main\t3\tstatic\nmodel.c:9:6:model_step\t20\tstatic\nmodel.c:2:16:mcu_lookup.constprop\t6\tstatic\n"
        let result = try StackAnalysis(graph: ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2), stackUsage: [su]).worstCase()
        // main 3 + model_step 20 + lookup 6 + __mulsi3 (2 return + 2 pushes) = 33; the divide path is 3 + 4 = 7.
        #expect(result.bytes == 33)
        #expect(result.path.first == "main (3 B)" && result.path.last == "__mulsi3 (4 B)")
    }

    @Test func theRoutinesAFunctionReachesStopAtTheGivenBoundaries() {
        let text = Self.listing([
            ("main", 0x100, ["call\t0x200\t; 0x200 <model_step>", "call\t0x300\t; 0x300 <__divmodhi4>", "ret"]),
            ("model_step", 0x200, ["call\t0x400\t; 0x400 <mcu_node_fc>", "ret"]),
            ("__divmodhi4", 0x300, ["ret"]),
            ("mcu_node_fc", 0x400, ["call\t0x500\t; 0x500 <__mulhisi3>", "ret"]),
            ("__mulhisi3", 0x500, ["jmp\t0x600\t; 0x600 <__umulhisi3>"]),
            ("__umulhisi3", 0x600, ["ret"]),
        ])
        let graph = ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2)
        // Through calls and tail jumps, and not into another node's function.
        #expect(graph.reachable(from: "mcu_node_fc") == ["__mulhisi3", "__umulhisi3"])
        #expect(graph.reachable(from: "main", boundaries: ["mcu_node_fc"]) == ["model_step", "__divmodhi4"])
        #expect(graph.reachable(from: "absent").isEmpty)
    }

    @Test func aTailJumpReusesTheCallersReturnAddress() throws {
        let text = Self.listing([
            ("main", 0x100, ["call\t0x200\t; 0x200 <f>", "ret"]),
            ("f", 0x200, ["push\tr28", "pop\tr28", "jmp\t0x300\t; 0x300 <g>"]),
            ("g", 0x300, ["push\tr16", "push\tr17", "push\tr28", "ret"]),
        ])
        let result = try StackAnalysis(graph: ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2), stackUsage: ["m.c:1:1:main\t2\tstatic\nm.c:2:1:f\t3\tstatic\n"]).worstCase()
        #expect(result.bytes == 2 + 5)  // main, then g's 3 pushes on f's return address
    }

    @Test func aLibraryRoutineThatRunsOnIntoTheNextCountsItsDepth() throws {
        // libgcc's layout on the Uno: __mulshisi3 skips its jump to __muluhisi3 when the bit is set
        // and runs on into __mulohisi3, which calls __muluhisi3, which calls __umulhisi3;
        // __usmulhisi3 returns from its call into __usmulhisi3_tail.
        let text = Self.listing([
            ("main", 0x100, ["call\t0x300\t; 0x300 <__mulshisi3>", "call\t0x200\t; 0x200 <__usmulhisi3>", "ret"]),
            ("__usmulhisi3", 0x200, ["call\t0x400\t; 0x400 <__umulhisi3>"]),
            ("__usmulhisi3_tail", 0x202, ["sbrs\tr27, 7", "ret", "sub\tr24, r18", "ret"]),
            ("__mulshisi3", 0x300, ["sbrs\tr27, 7", "jmp\t0x30a\t; 0x30a <__muluhisi3>"]),
            ("__mulohisi3", 0x304, ["call\t0x30a\t; 0x30a <__muluhisi3>", "sub\tr24, r18", "ret"]),
            ("__muluhisi3", 0x30a, ["call\t0x400\t; 0x400 <__umulhisi3>", "ret"]),
            ("__umulhisi3", 0x400, ["ret"]),
        ])
        let graph = ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2)
        #expect(graph.functions["__mulshisi3"]?.tailJumps == ["__muluhisi3", "__mulohisi3"])
        #expect(graph.functions["__usmulhisi3"]?.tailJumps == ["__usmulhisi3_tail"])
        // Ending in a return or an unskipped jump, or not a library routine: no fall-through.
        #expect(graph.functions["__usmulhisi3_tail"]?.tailJumps.isEmpty == true && graph.functions["main"]?.tailJumps.isEmpty == true)
        let result = try StackAnalysis(graph: graph, stackUsage: ["m.c:1:1:main\t2\tstatic\n"]).worstCase()
        // main 2, then __mulohisi3 in place of __mulshisi3 (2), __muluhisi3 (2), __umulhisi3 (2).
        #expect(result.bytes == 8)
        #expect(result.path.contains("__mulohisi3 (2 B)"))
    }

    @Test func interruptHandlersComeOnTopOfTheDeepestPoint() throws {
        let text = Self.listing([
            ("main", 0x100, ["ret"]),
            ("__vector_18", 0x200, ["push\tr1", "push\tr0", "reti"]),
        ])
        let result = try StackAnalysis(graph: ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2), stackUsage: ["m.c:1:1:main\t4\tstatic\n"]).worstCase()
        #expect(result.bytes == 4 + 4 && result.interruptBytes == 4)
    }

    @Test func recursionIndirectCallsAndDynamicFramesAreErrors() {
        let recursive = Self.listing([("main", 0x100, ["call\t0x200\t; 0x200 <f>"]), ("f", 0x200, ["rcall\t.-4      \t; 0x200 <f>"])])
        #expect(throws: StackAnalysis.Failure.recursion(["main", "f", "f"])) {
            try StackAnalysis(graph: ObjdumpListing(recursive).avrCallGraph(returnAddressBytes: 2), stackUsage: []).worstCase()
        }
        let indirect = Self.listing([("main", 0x100, ["icall", "ret"])])
        #expect(throws: StackAnalysis.Failure.indirectCall(function: "main")) {
            try StackAnalysis(graph: ObjdumpListing(indirect).avrCallGraph(returnAddressBytes: 2), stackUsage: []).worstCase()
        }
        let dynamic = Self.listing([("main", 0x100, ["ret"])])
        #expect(throws: StackAnalysis.Failure.unknownFrame(function: "main")) {
            try StackAnalysis(graph: ObjdumpListing(dynamic).avrCallGraph(returnAddressBytes: 2), stackUsage: ["m.c:1:1:main\t8\tdynamic\n"]).worstCase()
        }
    }

    @Test func simavrDecodingHazardsAreFound() {
        let hazard = Self.listing([("f", 0x100, ["sbrc\tr25, 7", "adiw\tr24, 0x3f\t; 63", "ret"])])
        #expect(SimAVR.decodingHazards(in: hazard).count == 1)
        let safe = Self.listing([("f", 0x100, ["sbrc\tr25, 7", "adiw\tr24, 0x0b\t; 11", "sbiw\tr24, 0x3f\t; 63", "ret"])])
        #expect(SimAVR.decodingHazards(in: safe).isEmpty)
    }

    @Test func avrSizeSectionsAddUp() {
        let sizes = FirmwareSizes.parse("firmware.elf  :\nsection   size      addr\n.data        6   8388864\n.text     3456         0\n.bss       112   8388870\n.comment    17         0\nTotal     3591\n")
        #expect(sizes == .init(text: 3456, data: 6, bss: 112, noinit: 0))
        #expect(sizes.flash == 3462 && sizes.staticRAM == 118)
    }
}
