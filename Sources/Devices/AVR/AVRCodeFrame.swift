/// The stack frame of an AVR function read from its code, for functions the compiler gave no
/// `-fstack-usage` entry: its return address, one byte per `push`, the bytes an `rcall .+0`
/// reserves (a return address that is never returned to), and the frame avr-gcc's prologue carves
/// out of the stack pointer:
///
///     in r28, 0x3d ; in r29, 0x3e ; sbiw r28, N        (or subi r28, lo(N) ; sbci r29, hi(N))
///     in r0, 0x3f ; cli ; out 0x3e, r29 ; out 0x3f, r0 ; out 0x3d, r28
///
/// The epilogue gives the frame back and writes the stack pointer again; that write is not a new
/// frame. A small frame may be reserved by `rcall .+0` alone and the frame pointer loaded after it:
/// the epilogue then writes back the frame pointer raised by `adiw r28, N`, which only gives stack
/// back. A stack-pointer write that does not follow such a prologue (a variable-length array, a
/// hand-written routine) makes the frame unknown (nil), never a guess.
public enum AVRCodeFrame {
    public static func bytes(of instructions: [ObjdumpListing.Instruction], returnAddressBytes: Int) -> Int? {
        var bytes = returnAddressBytes
        var framePointerLoaded = false, allocated: Int?, stackPointerWritten = false, released = false
        var subtractLow: Int?
        for instruction in instructions {
            let operands = instruction.operands.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            switch instruction.mnemonic {
            case "push": bytes += 1
            case "rcall" where operands.first == ".+0": bytes += returnAddressBytes
            case "in" where operands == ["r28", "0x3d"]: framePointerLoaded = true
            case "sbiw" where framePointerLoaded && allocated == nil && operands.first == "r28":
                allocated = operands.count == 2 ? integer(operands[1]) : nil
                if allocated == nil { return nil }
            case "adiw" where framePointerLoaded && operands.first == "r28":
                released = true
            case "subi" where framePointerLoaded && allocated == nil && operands.first == "r28":
                subtractLow = operands.count == 2 ? integer(operands[1]) : nil
            case "sbci" where framePointerLoaded && allocated == nil && operands.first == "r29":
                guard let low = subtractLow, operands.count == 2, let high = integer(operands[1]) else { return nil }
                allocated = (high & 0xff) << 8 | (low & 0xff)
            case "out" where operands.first == "0x3d" || operands.first == "0x3e":
                // The first write sets the prologue's frame; later ones are the epilogue's.
                if !stackPointerWritten {
                    guard allocated != nil || released else { return nil }
                    stackPointerWritten = true
                }
            default: break
            }
        }
        return bytes + (stackPointerWritten ? allocated ?? 0 : 0)
    }

    /// `0x1A` or `26` (objdump prints both forms).
    static func integer(_ text: String) -> Int? {
        text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }
}
