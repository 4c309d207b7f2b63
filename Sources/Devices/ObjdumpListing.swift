/// The functions of an `objdump -d` listing (binutils-avr or binutils-arm-none-eabi): headers such
/// as `000005f2 <main>:`, each followed by rows such as
/// `  60a:\t0e 94 ab 03 \tcall\t0x756\t; 0x756 <model_reset>` (AVR) or
/// `  10c:\tf000 f802 \tbl\t114 <mcu_node_fc>` (Thumb).
public struct ObjdumpListing: Sendable {
    public struct Instruction: Sendable {
        public var address: Int
        /// Bytes of the encoding.
        public var size: Int
        public var mnemonic: String
        public var operands: String
        /// What follows `;`, e.g. the absolute target of a relative call.
        public var comment: String
        public var line: String

        /// The absolute address a branch goes to: from the comment (`; 0x756 <...>`), or an
        /// operand naming a symbol (`114 <mcu_node_fc>`, `0x756`).
        public var target: Int? {
            if let token = comment.split(whereSeparator: { $0 == " " || $0 == ";" }).first(where: { $0.hasPrefix("0x") }) {
                return Int(token.dropFirst(2), radix: 16)
            }
            let tokens = operands.split(whereSeparator: { $0 == " " || $0 == "," })
            if let token = tokens.first(where: { $0.hasPrefix("0x") }) { return Int(token.dropFirst(2), radix: 16) }
            if operands.contains("<"), let first = tokens.first { return Int(first, radix: 16) }
            return nil
        }
    }

    public struct Function: Sendable {
        public var name: String
        public var address: Int
        public var instructions: [Instruction] = []
    }

    public let functions: [Function]

    public init(_ text: String) {
        var functions: [Function] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<"),
               let address = Int(line[..<open].trimmingCharacters(in: .whitespaces), radix: 16) {
                functions.append(Function(name: String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)]),
                                          address: address))
                continue
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !functions.isEmpty, fields.count >= 3, fields[0].hasSuffix(":"),
                  let address = Int(fields[0].dropLast(), radix: 16) else { continue }
            // AVR prints bytes ("0e 94 ab 03"), Thumb halfwords ("f000 f802").
            let size = fields[1].split(separator: " ").reduce(0) { $0 + $1.count / 2 }
            let comment = fields.count > 4 ? fields[4].drop { $0 == ";" || $0 == " " } : ""
            functions[functions.count - 1].instructions.append(Instruction(
                address: address, size: size, mnemonic: fields[2], operands: fields.count > 3 ? fields[3] : "",
                comment: String(comment), line: line.trimmingCharacters(in: .whitespaces)))
        }
        self.functions = functions
    }
}
