extension ObjdumpListing {
    /// Calls, tail jumps, pushes and stack-pointer writes of each function. A routine without a
    /// `-fstack-usage` entry (libgcc's multiply and divide) takes its return address plus one byte
    /// per `push`, unless it writes the stack pointer (then its frame is unknown).
    public func avrCallGraph(returnAddressBytes: Int) -> CallGraph {
        let starts = Dictionary(functions.map { ($0.address, $0.name) }, uniquingKeysWith: { first, _ in first })
        var graph: [String: CallGraph.Function] = [:]
        for listed in functions {
            var function = CallGraph.Function(name: listed.name)
            var pushes = 0, setsStackPointer = false
            for instruction in listed.instructions {
                switch instruction.mnemonic {
                case "push": pushes += 1
                case "out" where instruction.operands.hasPrefix("0x3d") || instruction.operands.hasPrefix("0x3e"):
                    setsStackPointer = true
                case "icall", "eicall", "ijmp", "eijmp": function.indirect = true
                case "call", "rcall", "jmp", "rjmp":
                    // Only branches to the start of a function are calls; the rest stay inside one
                    // (loops, `rcall .+0`, which reserves two bytes of frame).
                    guard let target = instruction.target, let callee = starts[target] else { continue }
                    if instruction.mnemonic.hasSuffix("call") {
                        function.calls.insert(callee)
                    } else if callee != listed.name {
                        function.tailJumps.insert(callee)
                    }
                default: break
                }
            }
            function.codeFrame = setsStackPointer ? nil : returnAddressBytes + pushes
            graph[listed.name] = function
        }
        return CallGraph(functions: graph, interruptHandlers: graph.keys.filter { $0.hasPrefix("__vector_") }.sorted())
    }
}
