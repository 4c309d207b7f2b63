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

    /// Functions of `avr-objdump -d`: `000005f2 <main>:` headers, then `  5f6:\t81 e0 \tldi\tr24, 0x01` rows.
    static func parseDisassembly(_ text: String) -> [String: Function] {
        var functions: [String: Function] = [:]
        var starts: [Int: String] = [:]
        var current: String?
        var branches: [(from: String, mnemonic: String, target: Int)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<"), let address = Int(line[..<open].trimmingCharacters(in: .whitespaces), radix: 16) {
                let name = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                current = name
                starts[address] = name
                functions[name] = Function(name: name)
                continue
            }
            guard let name = current else { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3 else { continue }
            let mnemonic = fields[2], operands = fields.count > 3 ? fields[3] : ""
            switch mnemonic {
            case "push": functions[name]?.pushes += 1
            case "out" where operands.hasPrefix("0x3d") || operands.hasPrefix("0x3e"): functions[name]?.setsStackPointer = true
            case "icall", "eicall": functions[name]?.indirect = true
            case "call", "rcall", "jmp", "rjmp":
                // The absolute target is in the comment (`; 0x756 <model_reset>`) or the operand (`0x756`).
                let text = fields.count > 4 ? fields[4] : operands
                let token = text.split(whereSeparator: { $0 == " " || $0 == ";" }).first { $0.hasPrefix("0x") }
                if let token, let target = Int(token.dropFirst(2), radix: 16) { branches.append((name, mnemonic, target)) }
            default: break
            }
        }
        // Only branches to the start of a function are calls; the rest stay inside one (loops,
        // `rcall .+0`, which reserves two bytes of frame).
        for branch in branches {
            guard let callee = starts[branch.target] else { continue }
            if branch.mnemonic.hasSuffix("call") {
                functions[branch.from]?.calls.insert(callee)
            } else if callee != branch.from {
                functions[branch.from]?.tailJumps.insert(callee)
            }
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
