/// The functions of a firmware and who calls whom, read from its disassembly by the core's reader
/// (`AVRDisassembly`, `ARMDisassembly`): what the stack analysis needs and nothing else.
public struct CallGraph: Sendable {
    public struct Function: Sendable {
        public var name: String
        /// Functions it calls (with a return address on the stack, or in a link register).
        public var calls: Set<String> = []
        /// Functions it jumps to at its end, after its own frame is gone.
        public var tailJumps: Set<String> = []
        /// The calls of `calls` made only where interrupts are known to be off (`AVRInterruptsOff`):
        /// no interrupt handler can come on top of what they push.
        public var callsWithInterruptsOff: Set<String> = []
        /// It calls or jumps through a pointer.
        public var indirect = false
        /// Its frame as read from the code, for routines the compiler gave no `-fstack-usage` entry
        /// (libgcc, libc); nil when the code moves the stack pointer in a way that cannot be bounded.
        public var codeFrame: Int?

        public init(name: String) { self.name = name }
    }

    public var functions: [String: Function]
    /// Handlers that may interrupt at the deepest point (their depth comes on top).
    public var interruptHandlers: [String]

    public init(functions: [String: Function], interruptHandlers: [String]) {
        self.functions = functions
        self.interruptHandlers = interruptHandlers
    }

    /// Every function `start` reaches by calls and tail jumps, itself aside, not going through
    /// `boundaries` (nor listing them): the routines a function shares with the rest of its program.
    public func reachable(from start: String, boundaries: Set<String> = []) -> Set<String> {
        var seen: Set<String> = [], pending = [start]
        while let name = pending.popLast() {
            guard let function = functions[name] else { continue }
            for callee in function.calls.union(function.tailJumps)
            where callee != start && !boundaries.contains(callee) && seen.insert(callee).inserted {
                pending.append(callee)
            }
        }
        return seen
    }
}

/// Worst-case stack of a firmware, from the compiler's per-function frames (`-fstack-usage`) and
/// the call graph read from the disassembly.
///
/// The depth of a function is its frame (pushed registers, locals and, on AVR, its own return
/// address, as the `.su` figures count them) plus the deepest function it calls; a tail jump reuses
/// the caller's return address after its frame is gone, so it adds the callee's depth alone.
/// Library routines compiled without `.su` get the frame their code shows (`CallGraph.Function.codeFrame`).
/// Interrupt handlers may fire at any point where interrupts are on, so the deepest of them is added
/// to the deepest chain that can run with interrupts on; a chain through a call made with interrupts
/// off (`CallGraph.Function.callsWithInterruptsOff`) counts alone. Recursion and
/// indirect calls make the stack unbounded here, and are reported as errors rather than guessed.
public struct StackAnalysis: Sendable {
    public struct Result: Sendable, Equatable {
        /// Bytes below the initial stack pointer at the deepest point, counting `main`'s own frame.
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

    let graph: CallGraph
    /// Frame bytes per function name as written in the `.su` files (without `.N` clone suffixes).
    let frames: [String: Int]

    public init(graph: CallGraph, stackUsage: [String]) {
        self.graph = graph
        self.frames = Self.parseStackUsage(stackUsage)
    }

    public func worstCase(from entry: String = "main") throws(Failure) -> Result {
        var memo: [String: (Int, [String])] = [:]
        let main = try depth(of: entry, memo: &memo, active: [])
        var interrupt = 0
        for name in graph.interruptHandlers.sorted() {
            interrupt = max(interrupt, try depth(of: name, memo: &memo, active: []).0)
        }
        guard interrupt > 0 else { return Result(bytes: main.0, path: main.1, interruptBytes: 0) }
        // A handler comes on top only where interrupts may be on.
        var interruptibleMemo: [String: (Int, [String])] = [:]
        let interruptible = try depth(of: entry, memo: &interruptibleMemo, active: [], interruptible: true)
        if main.0 > interruptible.0 + interrupt { return Result(bytes: main.0, path: main.1, interruptBytes: 0) }
        return Result(bytes: interruptible.0 + interrupt, path: interruptible.1, interruptBytes: interrupt)
    }

    private func frame(of function: CallGraph.Function) throws(Failure) -> Int {
        // gcc names clones `f.constprop.0` in the ELF and `f.constprop` in the .su file.
        var key = function.name
        while frames[key] == nil, let dot = key.lastIndex(of: "."), key[key.index(after: dot)...].allSatisfy(\.isNumber) {
            key = String(key[..<dot])
        }
        if let frame = frames[key] {
            if frame < 0 { throw .unknownFrame(function: function.name) }
            return frame
        }
        guard let frame = function.codeFrame else { throw .unknownFrame(function: function.name) }
        return frame
    }

    /// The deepest chain from `name`; `interruptible` leaves out the calls made with interrupts off.
    private func depth(of name: String, memo: inout [String: (Int, [String])], active: [String],
                       interruptible: Bool = false) throws(Failure) -> (Int, [String]) {
        if let known = memo[name] { return known }
        guard let function = graph.functions[name] else { throw .noFunction(name) }
        if active.contains(name) { throw .recursion(active + [name]) }
        if function.indirect { throw .indirectCall(function: name) }
        let own = try frame(of: function)
        var best = (own, ["\(name) (\(own) B)"])
        for callee in function.calls.sorted() where !(interruptible && function.callsWithInterruptsOff.contains(callee)) {
            let inner = try depth(of: callee, memo: &memo, active: active + [name], interruptible: interruptible)
            if own + inner.0 > best.0 { best = (own + inner.0, ["\(name) (\(own) B)"] + inner.1) }
        }
        for callee in function.tailJumps.sorted() {
            let inner = try depth(of: callee, memo: &memo, active: active + [name], interruptible: interruptible)
            if inner.0 > best.0 { best = inner }
        }
        memo[name] = best
        return best
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
