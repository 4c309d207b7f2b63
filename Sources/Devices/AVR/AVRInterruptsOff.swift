/// Calls an AVR function makes only while interrupts are off, read from the test the code makes of
/// the global interrupt flag (SREG bit 7, I/O address 0x3f) just before them, as the Arduino core's
/// `HardwareSerial::write` and `flush` do (`if (bit_is_clear(SREG, SREG_I)) _tx_udr_empty_irq();`):
///
///     in r0, 0x3f ; sbrc r0, 7 ; rjmp AWAY ; ... ; call f
///
/// After `sbrc` skips the `rjmp`, the flag is clear; the call runs with it still clear when nothing
/// between sets it (`sei`, a write of SREG) and no branch from elsewhere lands between the test and
/// the call. Anything else counts as interrupts possibly on: the rule can only leave calls out of
/// this set, never put one in wrongly.
enum AVRInterruptsOff {
    /// Indices of the call instructions of `instructions` made with interrupts off.
    static func calls(in instructions: [ObjdumpListing.Instruction]) -> Set<Int> {
        // Addresses some branch of the function goes to.
        let targets = Set(instructions.filter { $0.mnemonic.hasPrefix("br") || $0.mnemonic == "rjmp" || $0.mnemonic == "jmp" }
            .compactMap(\.target))
        var result: Set<Int> = []
        for (index, instruction) in instructions.enumerated() where instruction.mnemonic == "call" || instruction.mnemonic == "rcall" {
            guard let start = testOfClearFlag(before: index, in: instructions) else { continue }
            // From the instruction after the `rjmp` up to the call: no entry from elsewhere, no sei.
            let region = instructions[(start + 1)...index]
            let entered = region.contains { targets.contains($0.address) }
            let setsFlag = region.contains { $0.mnemonic == "sei" || ($0.mnemonic == "out" && $0.operands.hasPrefix("0x3f")) }
            if !entered && !setsFlag { result.insert(index) }
        }
        return result
    }

    /// The index of the `rjmp` of an `in rX, 0x3f ; sbrc rX, 7 ; rjmp` test within a few
    /// instructions before `index`, with no other call or return between.
    static func testOfClearFlag(before index: Int, in instructions: [ObjdumpListing.Instruction]) -> Int? {
        var at = index - 1
        while at >= 2, index - at <= 12 {
            let mnemonic = instructions[at].mnemonic
            if ["call", "rcall", "icall", "ret", "reti"].contains(mnemonic) { return nil }
            if mnemonic == "rjmp", instructions[at - 1].mnemonic == "sbrc", instructions[at - 2].mnemonic == "in" {
                let register = instructions[at - 2].operands.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
                let tested = instructions[at - 1].operands.replacingOccurrences(of: " ", with: "")
                let read = instructions[at - 2].operands.replacingOccurrences(of: " ", with: "")
                if let register, read == "\(register),0x3f", tested == "\(register),7" { return at }
                return nil
            }
            at -= 1
        }
        return nil
    }
}
