extension ObjdumpListing {
    /// Calls, tail jumps, pushes and stack-pointer writes of each function. A routine without a
    /// `-fstack-usage` entry (libgcc's multiply and divide, and every function of an LTO-built
    /// Arduino sketch) takes the frame its code shows (`AVRCodeFrame`), or none when it moves the
    /// stack pointer in a way that cannot be read.
    ///
    /// Calls made only with interrupts off (`AVRInterruptsOff`) are marked, so that no interrupt
    /// handler is counted on top of them.
    ///
    /// An `icall` is a call through a pointer. With `vtables` (the C++ virtual tables of the ELF, as
    /// the Arduino core's `Print` and `HardwareSerial` have), a virtual call whose slot the code
    /// shows calls every function in that slot of every table; without them, or when the slot cannot
    /// be read, the function is marked `indirect` and its stack stays unbounded.
    ///
    /// A library routine may run on into the code after it (`fallsThrough`): libgcc's
    /// `__mulshisi3` is `sbrs r27, 7 ; jmp __muluhisi3`, and with the bit set it goes on into
    /// `__mulohisi3`, which calls two routines deeper; read as a tail jump alone, it put a FastGRNN's
    /// worst-case stack on the Uno 2 B below what simavr measured.
    public func avrCallGraph(returnAddressBytes: Int, vtables: AVRVirtualTables? = nil) -> CallGraph {
        let starts = Dictionary(functions.map { ($0.address, $0.name) }, uniquingKeysWith: { first, _ in first })
        var graph: [String: CallGraph.Function] = [:]
        for listed in functions {
            var function = CallGraph.Function(name: listed.name)
            let interruptsOff = AVRInterruptsOff.calls(in: listed.instructions)
            var callsWithInterruptsOn: Set<String> = []
            for (index, instruction) in listed.instructions.enumerated() {
                switch instruction.mnemonic {
                case "icall", "eicall":
                    let targets = vtables.flatMap { tables in
                        AVRVirtualTables.slot(before: index, in: listed.instructions).map { tables.functions(inSlot: $0) }
                    }
                    guard let targets, !targets.isEmpty else { function.indirect = true; continue }
                    for address in targets {
                        guard let callee = starts[address] else { function.indirect = true; continue }
                        function.calls.insert(callee)
                        callsWithInterruptsOn.insert(callee)
                    }
                case "ijmp", "eijmp": function.indirect = true
                case "call", "rcall", "jmp", "rjmp":
                    // Only branches to the start of a function are calls; the rest stay inside one
                    // (loops, `rcall .+0`, which reserves frame bytes: `AVRCodeFrame`). A call to
                    // address 0 is to an undefined weak function (the core's `serialEvent`), which
                    // the code tests for null first: it never runs.
                    guard let target = instruction.target, target != 0, let callee = starts[target] else { continue }
                    if instruction.mnemonic.hasSuffix("call") {
                        function.calls.insert(callee)
                        if interruptsOff.contains(index) { function.callsWithInterruptsOff.insert(callee) } else { callsWithInterruptsOn.insert(callee) }
                    } else if callee != listed.name {
                        function.tailJumps.insert(callee)
                    }
                default: break
                }
            }
            // A callee also called where interrupts may be on is not one of them.
            function.callsWithInterruptsOff.subtract(callsWithInterruptsOn)
            function.codeFrame = AVRCodeFrame.bytes(of: listed.instructions, returnAddressBytes: returnAddressBytes)
            graph[listed.name] = function
        }
        for (listed, next) in zip(functions, functions.dropFirst()) {
            guard Self.fallsThrough(listed, into: next), var function = graph[listed.name] else { continue }
            // What the routine pushed stays below the code it runs into: with nothing pushed that
            // code returns for it (a tail jump); else it counts on top, as a call does (its return
            // address counted though none is pushed: a bound, 2-3 B above).
            if function.codeFrame == returnAddressBytes { function.tailJumps.insert(next.name) } else { function.calls.insert(next.name) }
            graph[listed.name] = function
        }
        return CallGraph(functions: graph, interruptHandlers: graph.keys.filter { $0.hasPrefix("__vector_") }.sorted())
    }

    /// Whether `function`, a library routine (a name reserved to the implementation, `__...`:
    /// compiled functions end in a return, a jump or a call that does not return), can run on into
    /// `next`, which starts where it ends: its last instruction is not a return or jump, or a skip
    /// instruction may step over it.
    static func fallsThrough(_ function: Function, into next: Function) -> Bool {
        guard function.name.hasPrefix("__"), let last = function.instructions.last, last.address + last.size == next.address else { return false }
        let ends: Set<String> = ["ret", "reti", "jmp", "rjmp", "ijmp", "eijmp"]
        let skips: Set<String> = ["sbrs", "sbrc", "sbis", "sbic", "cpse"]
        let before = function.instructions.dropLast().last
        return !ends.contains(last.mnemonic) || before.map { skips.contains($0.mnemonic) } == true
    }
}
