import Hardware

/// Cycles of each Thumb instruction on a Cortex-M core, from the core's technical reference manual
/// (zero wait states): the table the qemu plugin weights its exact instruction counts with.
///
/// - Cortex-M0+ (TRM r0p1, "Instruction set summary"): data processing 1, MULS 1 (the single-cycle
///   multiplier the SAMD21 has), loads and stores 2, LDM/STM/PUSH/POP 1+N, POP with PC 3+N,
///   B 2, B<cond> 1 or 2 when taken, BL 3, BX/BLX 2.
/// - Cortex-M3/M4 (TRM "Processor instructions" and "Load/store timings"): data processing 1,
///   MUL 1, MLA/MLS 2 on M3 and 1 on M4, long multiplies 4 on M3 (3-7) and 1 on M4, the DSP
///   instructions 1, divides 2-12 (taken as 7); LDR 2 but 1 when it follows a load (neighbouring
///   loads and stores pipeline), STR with an immediate offset 1, otherwise 2; LDRD/STRD, LDM/STM,
///   PUSH/POP 1+N; a branch costs 1 + P with a pipeline refill P of 1-3 (taken as 2); a load or
///   store whose address register the previous instruction wrote stalls one more cycle. FPU (M4F):
///   VADD/VMUL 1, VMLA/VFMA 3, VDIV/VSQRT 14, VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1+N.
/// - Cortex-M7 dual-issues and predicts branches, which a per-instruction table cannot express; it
///   is timed as a single-issue core with 1-cycle loads (TCM), 1-cycle multiplies, and 2 extra
///   cycles for a taken branch: an upper bound on busy code, and labelled instruction-timed like the rest.
/// Conditional instructions whose IT condition fails are charged as if executed (qemu counts them).
public struct CortexMTiming: Sendable {
    /// One row of the plugin's table (`tools/cortexm/insn-timer.c`).
    public struct Entry: Sendable, Equatable {
        public var address: Int
        public var size: Int
        public var base: Int
        public var takenExtra: Int
        /// Cycles instead of `base` right after a load (-1: no change).
        public var afterLoad: Int
        public var isLoad: Bool

        public var line: String {
            "\(String(address, radix: 16)) \(size) \(base) \(takenExtra) \(afterLoad) \(isLoad ? 1 : 0)"
        }
    }

    public let core: Target.Core
    /// Pipeline refill of a taken branch on M3/M4.
    static let refill = 2

    public init(core: Target.Core) { self.core = core }

    /// The table of every instruction of a listing, and the mnemonics it could not classify (each
    /// charged 1 cycle).
    public func table(for listing: ObjdumpListing) -> (entries: [Entry], unclassified: Set<String>) {
        var entries: [Entry] = [], unclassified = Set<String>()
        for function in listing.functions {
            var previousWrites: String?
            for instruction in function.instructions where instruction.size > 0 && !instruction.mnemonic.hasPrefix(".") {
                let mnemonic = ARMMnemonic(instruction.mnemonic)
                guard let kind = ARMTimingClass.of(mnemonic.base) else {
                    unclassified.insert(mnemonic.base)
                    entries.append(Entry(address: instruction.address, size: instruction.size, base: 1, takenExtra: 0, afterLoad: -1, isLoad: false))
                    previousWrites = nil
                    continue
                }
                var entry = timing(kind, mnemonic: mnemonic, operands: instruction.operands, address: instruction.address, size: instruction.size)
                // M3/M4: an address computed by the instruction just before stalls a cycle.
                if core == .cortexM3 || core == .cortexM4, kind.accessesMemory, let written = previousWrites,
                   Self.baseRegister(instruction.operands) == written {
                    entry.base += 1
                    if entry.afterLoad >= 0 { entry.afterLoad += 1 }
                }
                previousWrites = kind.writesRegister ? Self.destination(instruction.operands) : nil
                entries.append(entry)
            }
        }
        return (entries, unclassified)
    }

    func timing(_ kind: ARMTimingClass, mnemonic: ARMMnemonic, operands: String, address: Int, size: Int) -> Entry {
        let n = ARMMnemonic.registerListBytes(operands) / 4
        let writesPC = operands.contains("pc}") || operands.contains(", pc}") || operands.hasPrefix("pc,") || operands.hasPrefix("pc ")
        let m0 = core == .cortexM0Plus, m7 = core == .cortexM7, m4 = core == .cortexM4
        let p = m0 ? 1 : Self.refill
        var base = 1, taken = 0, afterLoad = -1, isLoad = false
        switch kind {
        case .alu:
            base = writesPC ? 1 + p : 1
        case .multiply: base = 1
        case .multiplyAccumulate: base = m0 || m4 || m7 ? 1 : 2
        case .longMultiply: base = m4 || m7 ? 1 : 4
        case .dsp, .saturate: base = 1
        case .divide: base = m7 ? 7 : 7
        case .load:
            isLoad = true
            base = m7 ? 1 : 2
            if writesPC { base += p }
            afterLoad = m0 || m7 || writesPC ? -1 : 1
        case .store:
            base = m0 ? 2 : m7 ? 1 : (operands.contains("#") || !operands.contains(", r") ? 1 : 2)
            afterLoad = m0 || m7 ? -1 : 1
        case .loadDouble:
            isLoad = true
            base = m7 ? 2 : 3
        case .storeDouble: base = m7 ? 2 : 3
        case .loadMultiple:
            isLoad = true
            base = (m7 ? max(1, (n + 1) / 2) : 1 + n) + (writesPC ? (m0 ? 2 : p) : 0)
        case .storeMultiple: base = m7 ? max(1, (n + 1) / 2) : 1 + n
        case .branch:
            if mnemonic.condition != nil { base = 1; taken = m0 ? 1 : p } else { base = m0 ? 2 : 1 + p }
        case .compareBranch: base = 1; taken = p
        case .call: base = m0 ? 3 : 1 + p
        case .branchExchange: base = m0 ? 2 : 1 + p
        case .tableBranch: base = 2 + 1 + p
        case .ifThen: base = m7 ? 0 : 1
        case .fpArithmetic: base = 1
        case .fpMultiplyAccumulate: base = 3
        case .fpDivide: base = 14
        case .fpLoad: isLoad = true; base = 2
        case .fpStore: base = 2
        case .fpMultiple: base = 1 + max(n, 1)
        case .fpMove: base = 1
        case .barrier: base = m0 ? 3 : 4
        case .system: base = 1
        }
        return Entry(address: address, size: size, base: base, takenExtra: taken, afterLoad: afterLoad, isLoad: isLoad)
    }

    /// The register an instruction writes first (`r3` of `ldr r3, [r2]`).
    static func destination(_ operands: String) -> String? {
        operands.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The base register of a memory operand (`r2` of `ldr r3, [r2, #4]`).
    static func baseRegister(_ operands: String) -> String? {
        guard let open = operands.firstIndex(of: "[") else { return nil }
        return operands[operands.index(after: open)...].split(whereSeparator: { $0 == "," || $0 == "]" }).first
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// What a Thumb instruction does, as far as its timing goes.
enum ARMTimingClass: Sendable {
    case alu, multiply, multiplyAccumulate, longMultiply, dsp, saturate, divide
    case load, store, loadDouble, storeDouble, loadMultiple, storeMultiple
    case branch, compareBranch, call, branchExchange, tableBranch, ifThen
    case fpArithmetic, fpMultiplyAccumulate, fpDivide, fpLoad, fpStore, fpMultiple, fpMove
    case barrier, system

    var accessesMemory: Bool {
        switch self {
        case .load, .store, .loadDouble, .storeDouble, .fpLoad, .fpStore: true
        default: false
        }
    }

    var writesRegister: Bool {
        switch self {
        case .alu, .multiply, .multiplyAccumulate, .dsp, .saturate, .divide, .load: true
        default: false
        }
    }

    static func of(_ base: String) -> ARMTimingClass? {
        if let kind = table[base] { return kind }
        if base.hasPrefix("it") && base.count <= 5 && base.dropFirst(2).allSatisfy({ $0 == "t" || $0 == "e" }) { return .ifThen }
        if base.hasPrefix("vcvt") || base.hasPrefix("vmov") { return base.hasPrefix("vcvt") ? .fpArithmetic : .fpMove }
        return nil
    }

    private static let table: [String: ARMTimingClass] = {
        var t: [String: ARMTimingClass] = [:]
        let alu = ["mov", "movs", "movw", "movt", "mvn", "mvns", "add", "adds", "addw", "adc", "adcs", "sub", "subs", "subw", "sbc", "sbcs",
                   "rsb", "rsbs", "neg", "negs", "cmp", "cmn", "tst", "teq", "and", "ands", "orr", "orrs", "orn", "orns", "eor", "eors",
                   "bic", "bics", "lsl", "lsls", "lsr", "lsrs", "asr", "asrs", "ror", "rors", "rrx", "rrxs", "sxtb", "sxth", "uxtb", "uxth",
                   "sxtab", "sxtah", "uxtab", "uxtah", "sxtb16", "uxtb16", "rev", "rev16", "revsh", "rbit", "clz", "ubfx", "sbfx", "bfi", "bfc",
                   "adr", "nop", "sel", "sadd16", "sadd8", "ssub16", "ssub8", "uadd16", "uadd8", "usub16", "usub8", "qadd", "qsub", "qadd16",
                   "qsub16", "qadd8", "qsub8", "qdadd", "qdsub", "shadd16", "shsub16", "uhadd16", "uhsub16", "pkhbt", "pkhtb", "usad8", "usada8"]
        for m in alu { t[m] = .alu }
        for m in ["mul", "muls"] { t[m] = .multiply }
        for m in ["mla", "mls"] { t[m] = .multiplyAccumulate }
        for m in ["smull", "umull", "smlal", "umlal", "umaal"] { t[m] = .longMultiply }
        for m in ["smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt", "smlabb", "smlabt", "smlatb", "smlatt", "smlawb", "smlawt",
                  "smlad", "smladx", "smlsd", "smlsdx", "smuad", "smuadx", "smusd", "smusdx", "smlald", "smlaldx", "smlsld", "smlsldx",
                  "smlalbb", "smlalbt", "smlaltb", "smlaltt", "smmul", "smmulr", "smmla", "smmlar", "smmls", "smmlsr"] { t[m] = .dsp }
        for m in ["ssat", "usat", "ssat16", "usat16"] { t[m] = .saturate }
        for m in ["sdiv", "udiv"] { t[m] = .divide }
        for m in ["ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht"] { t[m] = .load }
        for m in ["str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht"] { t[m] = .store }
        t["ldrd"] = .loadDouble
        t["strd"] = .storeDouble
        for m in ["ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"] { t[m] = .loadMultiple }
        for m in ["stm", "stmia", "stmea", "stmdb", "stmfd", "push"] { t[m] = .storeMultiple }
        t["b"] = .branch
        for m in ["cbz", "cbnz"] { t[m] = .compareBranch }
        for m in ["bl", "blx"] { t[m] = .call }
        t["bx"] = .branchExchange
        for m in ["tbb", "tbh"] { t[m] = .tableBranch }
        for m in ["vadd", "vsub", "vmul", "vnmul", "vneg", "vabs", "vcmp", "vcmpe", "vmrs", "vmsr", "vsel", "vmaxnm", "vminnm", "vrintz", "vrinta", "vrintn", "vrintp", "vrintm", "vrintr", "vrintx"] { t[m] = .fpArithmetic }
        for m in ["vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"] { t[m] = .fpMultiplyAccumulate }
        for m in ["vdiv", "vsqrt"] { t[m] = .fpDivide }
        t["vldr"] = .fpLoad
        t["vstr"] = .fpStore
        for m in ["vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"] { t[m] = .fpMultiple }
        for m in ["dmb", "dsb", "isb"] { t[m] = .barrier }
        for m in ["svc", "bkpt", "cpsid", "cpsie", "mrs", "msr", "wfi", "wfe", "sev", "yield", "udf"] { t[m] = .system }
        return t
    }()
}
