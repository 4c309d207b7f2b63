/// Worst-case stack of an AVR program, from the compiler's per-function frames (`-fstack-usage`)
/// and the call graph read from the disassembly.
///
/// The depth of a function is its frame (pushed registers, locals and, in avr-gcc's `.su` figures,
/// its own return address) plus the deepest function it calls; a tail jump (`jmp`/`rjmp` to another
/// function) reuses the caller's return address after its frame is gone, so it adds the callee's
/// depth alone. Library routines compiled without `.su` (libgcc's multiply and divide) get their
/// return address plus one byte per `push`. Interrupt handlers (`__vector_N`) may fire at the
/// deepest point, so the deepest of them is added. Recursion and indirect calls make the stack
/// unbounded here, and are reported as errors rather than guessed.
public struct StackAnalysis: Sendable {
    public struct Result: Sendable, Equatable {
        /// Bytes below the initial stack pointer at the deepest point, counting `main`'s return address.
        public var bytes: Int
        /// The deepest call chain from `main`, with each function's own frame.
        public var path: [String]
        public var interruptBytes: Int
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noFunction(String)
        case recursion([String])
        case indirectCall(function: String)
        case unknownFrame(function: String)

        public var description: String {
            switch self {
            case let .noFunction(name): "the disassembly has no function '\(name)'"
            case let .recursion(cycle): "recursion (\(cycle.joined(separator: " -> "))): the stack cannot be bounded statically"
            case let .indirectCall(function): "'\(function)' calls through a pointer: the stack cannot be bounded statically"
            case let .unknownFrame(function): "'\(function)' has a dynamic frame, or moves the stack pointer without a -fstack-usage entry"
            }
        }
    }

    struct Function {
        var name: String
        var pushes = 0
        var setsStackPointer = false
        var calls: Set<String> = []
        var tailJumps: Set<String> = []
        var indirect = false
    }

    let functions: [String: Function]
    /// Frame bytes per function name as written in the `.su` files (without `.N` clone suffixes).
    let frames: [String: Int]
    let returnAddressBytes: Int

    public init(disassembly: String, stackUsage: [String], returnAddressBytes: Int) {
        self.functions = Self.parseDisassembly(disassembly)
        self.frames = Self.parseStackUsage(stackUsage)
        self.returnAddressBytes = returnAddressBytes
    }

    public func worstCase(from entry: String = "main") throws(Failure) -> Result {
        var memo: [String: (Int, [String])] = [:]
        let main = try depth(of: entry, memo: &memo, active: [])
        var interrupt = 0
        for name in functions.keys.sorted() where name.hasPrefix("__vector_") {
            interrupt = max(interrupt, try depth(of: name, memo: &memo, active: []).0)
        }
        return Result(bytes: main.0 + interrupt, path: main.1, interruptBytes: interrupt)
    }

    private func frame(of function: Function) throws(Failure) -> Int {
        // gcc names clones `f.constprop.0` in the ELF and `f.constprop` in the .su file.
        var key = function.name
        while frames[key] == nil, let dot = key.lastIndex(of: "."), key[key.index(after: dot)...].allSatisfy(\.isNumber) {
            key = String(key[..<dot])
        }
        if let frame = frames[key] {
            if frame < 0 { throw .unknownFrame(function: function.name) }
            return frame
        }
        if function.setsStackPointer { throw .unknownFrame(function: function.name) }
        return returnAddressBytes + function.pushes
    }

    private func depth(of name: String, memo: inout [String: (Int, [String])], active: [String]) throws(Failure) -> (Int, [String]) {
        if let known = memo[name] { return known }
        guard let function = functions[name] else { throw .noFunction(name) }
        if active.contains(name) { throw .recursion(active + [name]) }
        if function.indirect { throw .indirectCall(function: name) }
        let own = try frame(of: function)
        var best = (own, ["\(name) (\(own) B)"])
        for callee in function.calls.sorted() {
            let inner = try depth(of: callee, memo: &memo, active: active + [name])
            if own + inner.0 > best.0 { best = (own + inner.0, ["\(name) (\(own) B)"] + inner.1) }
        }
        for callee in function.tailJumps.sorted() {
            let inner = try depth(of: callee, memo: &memo, active: active + [name])
            if inner.0 > best.0 { best = inner }
        }
        memo[name] = best
        return best
    }

    /// Pushes, stack-pointer writes and calls of each function of the disassembly.
    static func parseDisassembly(_ text: String) -> [String: Function] {
        let disassembly = AVRDisassembly(text)
        let starts = Dictionary(disassembly.functions.map { ($0.address, $0.name) }, uniquingKeysWith: { first, _ in first })
        var functions: [String: Function] = [:]
        for listed in disassembly.functions {
            var function = Function(name: listed.name)
            for instruction in listed.instructions {
                switch instruction.mnemonic {
                case "push": function.pushes += 1
                case "out" where instruction.operands.hasPrefix("0x3d") || instruction.operands.hasPrefix("0x3e"):
                    function.setsStackPointer = true
                case "icall", "eicall": function.indirect = true
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
            functions[listed.name] = function
        }
        return functions
    }

    /// `model.c:308:6:model_step\t20\tstatic` rows; `dynamic,bounded` frames count with their
    /// bound, and unbounded `dynamic` ones (alloca, variable-length arrays) as unknown (-1).
    static func parseStackUsage(_ files: [String]) -> [String: Int] {
        var frames: [String: Int] = [:]
        for text in files {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: "\t")
                guard fields.count >= 3, let bytes = Int(fields[1]) else { continue }
                let name = String(fields[0].split(separator: ":").last ?? "")
                let bounded = fields[2] == "static" || fields[2].contains("bounded")
                frames[name] = bounded && frames[name] != -1 ? max(frames[name] ?? 0, bytes) : -1
            }
        }
        return frames
    }
}
