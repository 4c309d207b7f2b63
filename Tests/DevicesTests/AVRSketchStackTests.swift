import Testing
@testable import Devices

/// What the stack analysis of an LTO-built Arduino sketch needs beyond the bare firmware's, on small
/// listings in avr-objdump's format (the real sketch is checked against simavr in `ArduinoSketchTests`):
/// frames read from the code, virtual calls followed through the vtables, and calls made with
/// interrupts off, under which no handler can come.
@Suite struct AVRSketchStackTests {
    static let listing = StackAnalysisTests.listing

    @Test func framesAreReadFromThePrologue() {
        func frame(_ body: [String]) -> Int? {
            AVRCodeFrame.bytes(of: ObjdumpListing(Self.listing([("f", 0x100, body)])).functions[0].instructions, returnAddressBytes: 2)
        }
        let prologue = ["in\tr0, 0x3f\t; 63", "cli", "out\t0x3e, r29\t; 62", "out\t0x3f, r0\t; 63", "out\t0x3d, r28\t; 61"]
        let epilogue = ["adiw\tr28, 0x21\t; 33", "in\tr0, 0x3f\t; 63", "cli", "out\t0x3e, r29\t; 62", "out\t0x3d, r28\t; 61", "ret"]
        // return address 2 + two pushes + 33 bytes of locals; the epilogue's write is no new frame
        #expect(frame(["push\tr28", "push\tr29", "in\tr28, 0x3d\t; 61", "in\tr29, 0x3e\t; 62", "sbiw\tr28, 0x21\t; 33"] + prologue + epilogue) == 37)
        #expect(frame(["in\tr28, 0x3d\t; 61", "in\tr29, 0x3e\t; 62", "subi\tr28, 0x2C\t; 44", "sbci\tr29, 0x01\t; 1"] + prologue + ["ret"]) == 2 + 300)
        #expect(frame(["rcall\t.+0      \t; 0x102", "push\tr1", "ret"]) == 2 + 2 + 1)
        // Six bytes reserved by rcall .+0, the frame pointer loaded after them, given back by the
        // epilogue's adiw (avr-gcc -Os, as a sketch is built).
        let reserved = Array(repeating: "rcall\t.+0      \t; 0x102", count: 3) + ["in\tr28, 0x3d\t; 61", "in\tr29, 0x3e\t; 62", "std\tY+1, r30\t; 0x01"]
        #expect(frame(["push\tr28", "push\tr29"] + reserved + ["adiw\tr28, 0x06\t; 6", "in\tr0, 0x3f\t; 63", "cli", "out\t0x3e, r29\t; 62",
                                                                 "out\t0x3f, r0\t; 63", "out\t0x3d, r28\t; 61", "ret"]) == 2 + 2 + 6)
        // The stack pointer written with no prologue before it: unknown, not a guess.
        #expect(frame(["in\tr28, 0x3d\t; 61", "out\t0x3d, r28\t; 61", "ret"]) == nil)
    }

    @Test func virtualCallsReachEveryFunctionOfTheirSlot() throws {
        // _ZTV at 0x800100: offset to top, type info, then slot 0 = 0x0100 (byte 0x200), slot 1 = 0x0180 (byte 0x300).
        let dump = "\nfirmware.elf:     file format elf32-avr\n\nContents of section .data:\n 800100 00000000 00018001 0d0a0000           ........\n"
        let tables = AVRVirtualTables(symbols: ["_ZTV6Stream": (0x800100, 8)], dataDump: dump)
        #expect(tables.tables["_ZTV6Stream"] == [0x200, 0x300])
        let call = ["ld\tr30, X+", "ld\tr31, X", "ld\tr0, Z+", "ld\tr31, Z", "mov\tr30, r0", "icall", "ret"]
        let slot1 = ["ld\tr30, X+", "ld\tr31, X", "ldd\tr0, Z+2\t; 0x02", "ldd\tr31, Z+3\t; 0x03", "mov\tr30, r0", "icall", "ret"]
        for (body, callee, depth) in [(call, "write", 2 + 2 + 3), (slot1, "flush", 2 + 2 + 1)] {
            let text = Self.listing([("main", 0x100, body), ("write", 0x200, ["push\tr16", "push\tr17", "push\tr28", "ret"]),
                                     ("flush", 0x300, ["push\tr16", "ret"])])
            let graph = ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2, vtables: tables)
            #expect(graph.functions["main"]?.calls == [callee])
            #expect(try StackAnalysis(graph: graph, stackUsage: []).worstCase().bytes == depth)
        }
        // A pointer the code does not load from a table stays unbounded.
        let unknown = Self.listing([("main", 0x100, ["movw\tr30, r24", "icall", "ret"])])
        #expect(throws: StackAnalysis.Failure.indirectCall(function: "main")) {
            try StackAnalysis(graph: ObjdumpListing(unknown).avrCallGraph(returnAddressBytes: 2, vtables: tables), stackUsage: []).worstCase()
        }
    }

    @Test func noHandlerComesOnTopOfACallMadeWithInterruptsOff() throws {
        // write waits while interrupts are on, and drains the buffer itself when they are off (as
        // HardwareSerial::write does); drain pushes 8 bytes, the handler 6.
        let text = Self.listing([
            ("main", 0x100, ["call\t0x200\t; 0x200 <write>", "ret"]),
            ("write", 0x200, ["push\tr28", "in\tr0, 0x3f\t; 63", "sbrc\tr0, 7", "rjmp\t.-6      \t; 0x200 <write>",
                              "movw\tr24, r28", "call\t0x300\t; 0x300 <drain>", "pop\tr28", "ret"]),
            ("drain", 0x300, Array(repeating: "push\tr16", count: 8) + ["ret"]),
            ("__vector_19", 0x400, Array(repeating: "push\tr0", count: 4) + ["reti"]),
        ])
        let graph = ObjdumpListing(text).avrCallGraph(returnAddressBytes: 2)
        #expect(graph.functions["write"]?.callsWithInterruptsOff == ["drain"])
        // With interrupts off: main 2 + write 3 + drain 10 = 15; with them on: 2 + 3 + handler 6 = 11.
        #expect(try StackAnalysis(graph: graph, stackUsage: []).worstCase() == .init(bytes: 15, path: ["main (2 B)", "write (3 B)", "drain (10 B)"], interruptBytes: 0))
        // A branch into the stretch between the test and the call: interrupts may be on there.
        let entered = text.replacingOccurrences(of: "ret\n\n00000300", with: "rjmp\t.-10     \t; 0x208 <write+0x8>\n\n00000300")
        let graph2 = ObjdumpListing(entered).avrCallGraph(returnAddressBytes: 2)
        #expect(graph2.functions["write"]?.callsWithInterruptsOff.isEmpty == true)
        #expect(try StackAnalysis(graph: graph2, stackUsage: []).worstCase().bytes == 15 + 6)
    }
}
