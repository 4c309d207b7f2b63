/// The functions of `avr-objdump -d` output: `000005f2 <main>:` headers, each followed by rows such
/// as `  60a:\t0e 94 ab 03 \tcall\t0x756\t; 0x756 <model_reset>`.
struct AVRDisassembly {
    struct Instruction {
        var mnemonic: String
        var operands: String
        /// What follows `;`, e.g. the absolute target of a relative call.
        var comment: String
        var line: String

        /// The absolute address a branch goes to, from the comment (`; 0x756 <...>`) or the operand.
        var target: Int? {
            let token = (comment.isEmpty ? operands : comment).split(whereSeparator: { $0 == " " || $0 == ";" })
                .first { $0.hasPrefix("0x") }
            return token.flatMap { Int($0.dropFirst(2), radix: 16) }
        }
    }

    struct Function {
        var name: String
        var address: Int
        var instructions: [Instruction] = []
    }

    let functions: [Function]

    init(_ text: String) {
        var functions: [Function] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<"),
               let address = Int(line[..<open].trimmingCharacters(in: .whitespaces), radix: 16) {
                functions.append(Function(name: String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)]),
                                          address: address))
                continue
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !functions.isEmpty, fields.count >= 3, fields[0].hasSuffix(":") else { continue }
            let comment = fields.count > 4 ? fields[4].drop { $0 == ";" || $0 == " " } : ""
            functions[functions.count - 1].instructions.append(Instruction(
                mnemonic: fields[2], operands: fields.count > 3 ? fields[3] : "", comment: String(comment),
                line: line.trimmingCharacters(in: .whitespaces)))
        }
        self.functions = functions
    }
}
