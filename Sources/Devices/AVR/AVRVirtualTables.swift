/// The C++ virtual tables of an AVR firmware (`_ZTV...` symbols in `.data`), read so that the stack
/// analysis can follow virtual calls: the Arduino core prints through `Print::write`, which calls
/// the `write(uint8_t)` of whatever stream it is.
///
/// avr-g++ (with `-fno-rtti`, as the Arduino core builds) lays a table out as two 16-bit words
/// (offset to top, type info) followed by one word per virtual function, holding the function's
/// word address (byte address / 2); an object's vtable pointer points at the first function.
public struct AVRVirtualTables: Sendable, Equatable {
    /// The function byte addresses of each table, by slot.
    public var tables: [String: [Int]]

    public init(tables: [String: [Int]]) { self.tables = tables }

    /// Reads the tables from the symbols (`nm -S`) and the initial contents of `.data`
    /// (`objdump -s -j .data`: rows of an address and up to four groups of hex bytes).
    public init(symbols: [String: (address: Int, size: Int)], dataDump: String) {
        var bytes: [Int: UInt8] = [:]
        for line in dataDump.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0].count >= 6, let start = Int(fields[0], radix: 16) else { continue }
            var at = start
            for group in fields.dropFirst().prefix(4) {
                guard group.count % 2 == 0, group.allSatisfy(\.isHexDigit) else { break }
                var index = group.startIndex
                while index < group.endIndex {
                    let next = group.index(index, offsetBy: 2)
                    if let value = UInt8(group[index..<next], radix: 16) { bytes[at] = value }
                    at += 1
                    index = next
                }
            }
        }
        var tables: [String: [Int]] = [:]
        for (name, symbol) in symbols where name.hasPrefix("_ZTV") && symbol.size > 4 {
            var entries: [Int] = []
            for offset in stride(from: 4, to: symbol.size - 1, by: 2) {
                guard let low = bytes[symbol.address + offset], let high = bytes[symbol.address + offset + 1] else { break }
                entries.append((Int(high) << 8 | Int(low)) * 2)
            }
            tables[name] = entries
        }
        self.tables = tables
    }

    /// Every function in the slot at `offset` bytes of any table: what a virtual call through that
    /// slot may reach.
    public func functions(inSlot offset: Int) -> [Int] {
        guard offset >= 0, offset % 2 == 0 else { return [] }
        return Array(Set(tables.values.compactMap { $0.count > offset / 2 ? $0[offset / 2] : nil })).sorted()
    }

    /// The slot an `icall` at `index` goes through, when the code before it loads the target from
    /// the table as avr-gcc does: `ld r0, Z+ ; ld r31, Z ; mov r30, r0` (slot 0) or
    /// `ldd r0, Z+N ; ldd r31, Z+N+1 ; mov r30, r0` (the slot at N bytes); nil otherwise.
    static func slot(before index: Int, in instructions: [ObjdumpListing.Instruction]) -> Int? {
        let window = instructions[max(0, index - 6)..<index].reversed()
        var sawMove = false, high: Int?
        for instruction in window {
            let operands = instruction.operands.replacingOccurrences(of: " ", with: "")
            switch (instruction.mnemonic, operands) {
            case ("mov", "r30,r0"): sawMove = true
            case ("ld", "r31,Z") where sawMove: high = 1
            case ("ldd", _) where sawMove && operands.hasPrefix("r31,Z+"): high = Int(operands.dropFirst(6))
            case ("ld", "r0,Z+") where high == 1: return 0
            case ("ldd", _) where high != nil && operands.hasPrefix("r0,Z+"):
                guard let low = Int(operands.dropFirst(5)), high == low + 1 else { return nil }
                return low
            default: continue
            }
        }
        return nil
    }
}
