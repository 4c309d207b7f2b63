extension ObjdumpListing {
    /// Calls, tail jumps and stack adjustments of each function of a Thumb listing
    /// (`arm-none-eabi-objdump -d`). A routine without a `-fstack-usage` entry (libgcc, libc)
    /// takes what its code pushes (`push`, `stmdb sp!`, `vpush`) and reserves (`sub sp, #N`);
    /// any other write to SP makes its frame unknown. The return address stays in LR (it is pushed,
    /// and counted, only by functions that call others). No interrupt is enabled by the firmware.
    public func armCallGraph() -> CallGraph {
        let starts = Dictionary(functions.map { ($0.address, $0.name) }, uniquingKeysWith: { first, _ in first })
        var graph: [String: CallGraph.Function] = [:]
        for listed in functions {
            var function = CallGraph.Function(name: listed.name)
            var frame = 0, unknown = false
            for instruction in listed.instructions {
                let mnemonic = ARMMnemonic(instruction.mnemonic)
                let operands = instruction.operands
                let base = mnemonic.base
                let onSP = operands.hasPrefix("sp,") || operands.hasPrefix("sp!")
                if base == "push" || base == "vpush" || (base == "stmdb" || base == "stmfd") && onSP {
                    frame += ARMMnemonic.registerListBytes(operands)
                } else if (base == "sub" || base == "subw") && operands.hasPrefix("sp,") {
                    if let bytes = ARMMnemonic.stackAdjustment(operands) { frame += bytes } else { unknown = true }
                } else if (base == "mov" || base == "ldr") && operands.hasPrefix("sp,") {
                    unknown = true
                } else if (base == "blx" && !operands.contains("<")) || (base == "bx" && !operands.hasPrefix("lr"))
                            || (base == "ldr" && operands.hasPrefix("pc,") && !operands.contains("[sp]"))
                            || (base == "mov" && operands.hasPrefix("pc,")) {
                    // (`ldr pc, [sp], #4` is a return, like `pop {pc}`.)
                    function.indirect = true
                } else if base == "bl" || base == "blx" {
                    if let target = instruction.target, let callee = starts[target] { function.calls.insert(callee) }
                } else if base == "b" || base == "cbz" || base == "cbnz" {
                    // Branches to the start of another function are tail calls; the rest are local.
                    if let target = instruction.target, let callee = starts[target], callee != listed.name {
                        function.tailJumps.insert(callee)
                    }
                }
            }
            function.codeFrame = unknown ? nil : frame
            graph[listed.name] = function
        }
        return CallGraph(functions: graph, interruptHandlers: [])
    }
}

/// A Thumb mnemonic as objdump prints it (`ldrsh.w`, `addeq`, `bne.n`, `vmla.f32`), split into its
/// base operation and condition.
struct ARMMnemonic {
    static let conditions: Set<String> = ["eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"]

    /// Operation without width qualifier, data type or condition (`ldrsh`, `add`, `b`, `vmla`).
    let base: String
    /// A condition suffix (`eq`...), for conditional branches and instructions inside IT blocks.
    let condition: String?

    init(_ text: String) {
        let head = String(text.lowercased().split(separator: ".").first ?? "")
        if ARMTimingClass.of(head) != nil || head.count <= 2 {
            base = head
            condition = nil
            return
        }
        let suffix = String(head.suffix(2)), stem = String(head.dropLast(2))
        if Self.conditions.contains(suffix), ARMTimingClass.of(stem) != nil {
            base = stem
            condition = suffix
        } else {
            base = head
            condition = nil
        }
    }

    /// Bytes a register list (`{r4, r5, lr}`, `{r4-r7}`, `{d8-d9}`, `{s16}`) takes on the stack.
    static func registerListBytes(_ operands: String) -> Int {
        guard let open = operands.firstIndex(of: "{"), let close = operands.firstIndex(of: "}") else { return 0 }
        var bytes = 0
        for item in operands[operands.index(after: open)..<close].split(separator: ",") {
            let name = item.trimmingCharacters(in: .whitespaces)
            let size = name.hasPrefix("d") ? 8 : 4
            let parts = name.split(separator: "-")
            if parts.count == 2, let lo = Int(parts[0].dropFirst()), let hi = Int(parts[1].dropFirst()), hi >= lo {
                bytes += (hi - lo + 1) * size
            } else {
                bytes += size
            }
        }
        return bytes
    }

    /// `sp, #24` or `sp, sp, #24` -> 24; nil for a register amount.
    static func stackAdjustment(_ operands: String) -> Int? {
        guard let hash = operands.lastIndex(of: "#") else { return nil }
        let digits = operands[operands.index(after: hash)...].prefix { $0.isNumber || $0 == "x" || ("a"..."f").contains($0) }
        if digits.hasPrefix("0x") { return Int(digits.dropFirst(2), radix: 16) }
        return Int(digits)
    }
}
