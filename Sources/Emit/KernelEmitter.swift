import FixedPoint
import ModelIR

/// One C function per node. Every kernel states its shapes, formats, accumulator and shift in a
/// comment, and computes exactly the integer semantics of `Kernel` (docs/fixed-point.md).
extension CEmitter {
    mutating func emitNode(_ step: FixedStep, into c: inout CWriter) {
        let node = step.node
        let shapes = program.graph.shapes
        if let group = ElementwiseFusion.group(of: node.name, in: groups) {
            if group.head == node.name {
                emitFused(group, into: &c)
            } else {
                c.line("/* \(node.name): computed in the loop of \(group.head). */")
                c.line("static void \(functionName(node))(void) { }")
                c.line()
            }
            return
        }
        let table = specialised ? emitTable(step, into: &c) : nil
        if let table {
            let count = shapes[node.output]?.elementCount ?? 0
            let (x, y) = (pointer(node.inputs[0]), pointer(node.output))
            c.block("MCU_SCALAR MCU_NODE \(functionName(node))(void)") { c in
                c.line("for (mcu_index_t i = 0; i < \(count); i++) \(y)[i] = \(lookup(table, step, x: "\(x)[i]"));")
            }
        } else {
            if specialised, SquaredDistanceExpansion.applies(to: step, program: program, far: far) { emitNorms(step, into: &c) }
            c.line(comment(step))
            if specialised, ClampFusion.isAbsorbed(step, in: program, far: far), sharesBuffer(step.node.output, node.inputs[0]) {
                c.line("static void \(functionName(node))(void) { /* applied by the layer before, as it stores */ }")
            } else {
                c.block("MCU_NODE \(functionName(node))(void)") { c in
                    body(step, into: &c)
                }
            }
        }
        c.line()
    }

    /// The comment above a node's code: its shapes, formats and the constants of its arithmetic.
    private func comment(_ step: FixedStep, table: Bool = false, shared: String? = nil) -> String {
        let node = step.node
        let shapes = program.graph.shapes
        let inputs = node.inputs.map { "\($0) \(shapes[$0] ?? Shape([])) \(program.format($0))" }.joined(separator: ", ")
        let weights = node.weights.keys.sorted().compactMap { role in
            node.weights[role].flatMap { program.constants[$0] }.map { "\(role) \($0.format)" }
        }.joined(separator: ", ")
        return "/* \(node.name): \(node.op.name)(\(inputs)\(weights.isEmpty ? "" : "; " + weights)) -> \(shapes[node.output] ?? Shape([])) \(step.output)"
            + (table ? "; every int8 input's output in a table" + (shared.map { " (shares \($0): the same function of the same formats)" } ?? "")
               : detail(step.kernel)) + ". */"
    }

    /// A `DirectLookup` node's comment and table, written before its code (or the name of an
    /// identical table written before, `DirectLookup.key`); nil for other nodes.
    private mutating func emitTable(_ step: FixedStep, into c: inout CWriter) -> String? {
        guard DirectLookup.applies(to: step) else { return nil }
        if let shared = lookupTables[DirectLookup.key(step)] {
            c.line(comment(step, table: true, shared: shared))
            return shared
        }
        guard let table = DirectLookup.table(for: step) else { return nil }
        c.line(comment(step, table: true))
        let name = "\(functionName(step.node))_lut", bits = step.output.bits
        lookupTables[DirectLookup.key(step)] = name
        c.line("static const int\(bits)_t \(name)[256] MCU_FLASH = {")
        for chunk in stride(from: 0, to: 256, by: 16) {
            c.line("    " + table[chunk..<chunk + 16].map { CType.literal($0, bits: bits) }.joined(separator: ", ") + ",")
        }
        c.line("};")
        lookupTableBytes += DirectLookup.bytes(step)
        return name
    }

    /// The table of b²·Σ p² per prototype of a `SquaredDistanceExpansion` node, before its code.
    private mutating func emitNorms(_ step: FixedStep, into c: inout CWriter) {
        let norms = SquaredDistanceExpansion.norms(step, program: program)
        runtime.read32 = true
        c.line("/* \(step.node.name): each prototype's sum of squares, times 2^(2 * its shift). */")
        c.line("static const uint32_t \(functionName(step.node))_norms[\(norms.count)] MCU_FLASH = {")
        for chunk in stride(from: 0, to: norms.count, by: 8) {
            c.line("    " + norms[chunk..<min(chunk + 8, norms.count)].map { "UINT32_C(\($0))" }.joined(separator: ", ") + ",")
        }
        c.line("};")
        lookupTableBytes += 4 * norms.count
    }

    private func lookup(_ table: String, _ step: FixedStep, x: String) -> String {
        "MCU_R\(step.output.bits)(&\(table)[(uint8_t)\(x)])"
    }

    /// A run of elementwise nodes as one loop (`ElementwiseFusion`): each element's inputs read
    /// where first used, every node's value in a local, and the values read after the run stored
    /// last (so a stored value may take the buffer of an input).
    private mutating func emitFused(_ group: ElementwiseFusion.Group, into c: inout CWriter) {
        var tables: [String: String] = [:]
        for step in group.steps {
            if let table = emitTable(step, into: &c) { tables[step.node.name] = table } else { c.line(comment(step)) }
        }
        let names = group.steps.map(\.node.name).joined(separator: ", ")
        c.line("/* \(names): one loop; \(group.stored.isEmpty ? "nothing" : group.stored.joined(separator: ", ")) stored, the rest in registers. */")
        var value: [String: String] = [:]
        for (k, input) in group.inputs.enumerated() { value[input] = "e\(k)" }
        for (k, step) in group.steps.enumerated() { value[step.node.output] = "r\(k)" }
        c.block("MCU_ONE_INDEX MCU_NODE \(functionName(group.steps[0].node))(void)") { c in
            c.block("for (mcu_index_t i = 0; i < \(group.elements); i++)") { c in
                var read = Set<String>()
                for (k, step) in group.steps.enumerated() {
                    // Each input read just before its first use: a value loaded early stays live across
                    // the products and table reads before it (on AVR, across libgcc's multiply calls,
                    // in a callee-saved register). Every read still comes before the stores.
                    for (j, input) in group.inputs.enumerated() where step.node.inputs.contains(input) && !read.contains(input) {
                        read.insert(input)
                        c.line("const \(elementType(input)) e\(j) = \(pointer(input))[i];  /* \(input) */")
                    }
                    let operands = step.node.inputs.filter { program.constants[$0] == nil }.map { value[$0] ?? "0" }
                    let type = elementType(step.node.output)
                    if let table = tables[step.node.name] {
                        c.line("const \(type) r\(k) = \(lookup(table, step, x: operands.first ?? "0"));  /* \(step.node.output) */")
                        continue
                    }
                    var statements = CWriter()
                    let result = elementValue(step, operands: operands, into: &statements)
                    if statements.text.isEmpty {
                        c.line("const \(type) r\(k) = \(result);  /* \(step.node.output) */")
                    } else {
                        c.line("\(type) r\(k);  /* \(step.node.output) */")
                        c.scope { c in
                            c.lines(of: statements)
                            c.line("r\(k) = \(result);")
                        }
                    }
                }
                for output in group.stored { c.line("\(pointer(output))[i] = \(value[output] ?? "0");") }
            }
        }
        c.line()
    }

    private func detail(_ kernel: Kernel) -> String {
        switch kernel {
        case let .linear(p): return "; int\(p.accBits) accumulator (|acc| <= \(Int64(p.bound))), bias << \(p.biasShift), shift \(p.shift)"
        case let .add(p): return "; int\(p.accBits), operands << \(p.shiftA), \(p.shiftB), shift \(p.shift)"
        case let .mul(p): return "; int\(p.accBits), shift \(p.shift)"
        case let .scale(m, s, a): return "; times \(m), int\(a), shift \(s)"
        case let .avgPool(_, _, m, s, a): return "; sum times \(m), int\(a), shift \(s)"
        case let .squaredDistance(_, sx, sp, s, a): return "; int\(a), operands << \(sx), \(sp), shift \(s)"
        case .zero: return "; every value shifts out: zero"
        case .alias: return "; a view of its input, no code"
        default: return ""
        }
    }

    private func elementType(_ tensor: String) -> String { "int\(program.format(tensor).bits)_t" }
    private mutating func read(_ constant: String, _ index: String) -> String {
        let bits = program.constants[constant]?.format.bits ?? 16
        if far.contains(constant) { return "MCU_FAR_R\(bits)(MCU_FAR(\(ids.name(constant))), \(index))" }
        return "MCU_R\(bits)(&\(ids.name(constant))[\(index)])"
    }

    /// The second operand of Add, Sub or Mul at element `i`, cast to the accumulator type: the second
    /// input tensor, a scalar constant inlined as a literal, or a constant array in flash.
    private mutating func secondOperand(_ node: Node, operand: String?, constant: String?, accBits: Int) -> String {
        let t = CType.int(accBits)
        if node.inputs.count == 2 { return "(\(t))\(operand ?? "0")" }
        if let q = program.constants[constant ?? ""], q.values.count == 1 {
            return "(\(t))\(CType.literal(q.values[0], bits: accBits))"
        }
        return "(\(t))\(read(constant ?? "", "i"))"
    }

    /// Adds `term` (already of the accumulator type) to `acc`.
    /// The int8 second operand of an elementwise node as an expression: the other input, a scalar
    /// constant as a literal, or element i of a constant array in flash.
    private mutating func int8Operand(_ node: Node, operands: [String], constant: String?) -> String {
        if node.inputs.count == 2 { return operands.dropFirst().first ?? "0" }
        if let q = program.constants[constant ?? ""], q.values.count == 1 { return CType.literal(q.values[0], bits: 8) }
        return read(constant ?? "", "i")
    }

    private func accumulate(_ term: String, bits: Int) -> String {
        bits == 16 ? "acc = (int16_t)(acc + \(term));" : "acc += \(term);"
    }

    /// The accumulator `v` (a variable of `accBits`) requantized by `shift` to `outBits`, when
    /// |v| <= `bound`.
    mutating func requant(_ v: String, accBits: Int, shift: Int, outBits: Int, bound: Double) -> String {
        let out = "int\(outBits)_t"
        if shift > 0 {
            if shift >= 63 || bound < Double(sign: .plus, exponent: shift - 1, significand: 1) { return "(\(out))0" }
            if specialised, Self.requantizesIn16Bits(accBits: accBits, outBits: outBits, shift: shift) {
                runtime.requant8 = true
                return "mcu_rq8_32(\(v), \(shift))"
            }
            runtime.roundingShifts.insert(accBits)
            let shifted = "mcu_rshr\(accBits)(\(v), \(shift))"
            if outBits >= accBits { return "(\(out))\(shifted)" }
            runtime.saturations.insert([outBits, accBits])
            return "mcu_sat\(outBits)_\(accBits)(\(shifted))"
        }
        let hi = (Int64(1) << (outBits - 1)) - 1, lo = -hi - 1
        if shift == 0 {
            if outBits >= accBits { return "(\(out))\(v)" }
            runtime.saturations.insert([outBits, accBits])
            return "mcu_sat\(outBits)_\(accBits)(\(v))"
        }
        let k = -shift
        let acc = CType.int(accBits)
        if k >= outBits { return "(\(out))(\(v) > 0 ? \(hi) : \(v) < 0 ? \(CType.literal(lo, bits: outBits)) : 0)" }
        let upper = hi >> k, lower = -((-lo) >> k)
        return "(\(out))(\(v) > \(CType.literal(upper, bits: accBits)) ? \(hi) : \(v) < \(CType.literal(lower, bits: accBits)) ? \(CType.literal(lo, bits: outBits)) : \(v) * (\(acc))\(CType.literal(Int64(1) << k, bits: accBits)))"
    }

    /// Whether every difference `x << shiftX - P << shiftP` of a squared distance fits 16 bits: the
    /// input's type range and the prototypes' actual largest magnitude, each shifted.
    public static func squaredDistanceFits16(_ program: FixedProgram, prototypes: String, xBits: Int, shiftX: Int, shiftP: Int) -> Bool {
        guard let p = program.constants[prototypes], shiftX < 16, shiftP < 16 else { return false }
        let largestP = p.values.map { $0.magnitude }.max() ?? 0
        return (Int64(1) << (xBits - 1)) << shiftX + Int64(largestP) << shiftP <= 32_767
    }

    /// `v` times 2^shift as an int16 (`SaturatingAdd16` has proven that it fits).
    private func term16(_ v: String, shift: Int) -> String {
        shift == 0 ? "(int16_t)\(v)" : "(int16_t)((int16_t)\(v) * \(CType.literal(Int64(1) << shift, bits: 16)))"
    }

    private func times(_ v: String, _ shift: Int, bits: Int) -> String {
        shift == 0 ? v : "\(v) * \(CType.literal(Int64(1) << shift, bits: bits))"
    }

    private mutating func body(_ step: FixedStep, into c: inout CWriter) {
        let node = step.node
        let y = pointer(node.output)
        let x = node.inputs.first.map { pointer($0) } ?? "mcu_in"
        let count = program.graph.shapes[node.output]?.elementCount ?? 0
        let outBits = step.output.bits
        let magnitude = Double(step.inputs.first?.magnitude ?? 32768)
        switch step.kernel {
        case let .linear(plan):
            linear(plan, step: step, x: x, y: y, into: &c)
        case .add, .mul, .scale, .clamp, .sigmoid, .tanh, .exp:
            let operands = [x, node.inputs.count == 2 ? pointer(node.inputs[1]) : nil].compactMap { $0 }.map { "\($0)[i]" }
            var statements = CWriter()
            let result = elementValue(step, operands: operands, into: &statements)
            if statements.text.isEmpty {
                c.line("for (mcu_index_t i = 0; i < \(count); i++) \(y)[i] = \(result);")
            } else {
                c.block("for (mcu_index_t i = 0; i < \(count); i++)") { c in
                    c.lines(of: statements)
                    c.line("\(y)[i] = \(result);")
                }
            }
        case let .maxPool(window, input, shift):
            // The maximum of 8-bit values is kept in 16 bits (32-bit compares cost an AVR twice as much).
            let narrow = specialised && step.inputs.first?.bits == 8
            let rq = requant("m", accBits: narrow ? 16 : 32, shift: shift, outBits: outBits, bound: magnitude)
            let words = specialised && Self.maxPoolsByWords(step)
            if words {
                runtime.max8x4 = true
                c.line("#if defined(__ARM_FEATURE_DSP)")
                maxPoolByWords(window: window, input: input, x: x, y: y, into: &c)
                c.line("#else")
            }
            pool(window: window, input: input, x: x, inputType: elementType(node.inputs[0]), y: y, into: &c, start: "\(narrow ? "int16_t" : "int32_t") m = \(x)[FIRST];",
                 update: "if (\(x)[AT] > m) m = \(x)[AT];", finish: ["OUT = \(rq);"])
            if words { c.line("#endif") }
        case let .avgPool(window, input, _, _, _) where specialised && Self.narrowAvgPoolShift(step) != nil:
            // The sum of at most 64 int8 values in 16 bits, the power-of-two multiplier folded into
            // the shift (the same value: the product's low bits are zero).
            let rq = requant("acc", accBits: 16, shift: Self.narrowAvgPoolShift(step) ?? 0, outBits: outBits,
                             bound: Double(128 * window.kernelHeight * window.kernelWidth))
            pool(window: window, input: input, x: x, inputType: elementType(node.inputs[0]), y: y, into: &c, start: "int16_t acc = 0;",
                 update: "acc = (int16_t)(acc + \(x)[AT]);", finish: ["OUT = \(rq);"])
        case let .avgPool(window, input, multiplier, shift, accBits):
            let t = CType.int(accBits)
            let rq = requant("acc", accBits: accBits, shift: shift, outBits: outBits, bound: .greatestFiniteMagnitude)
            pool(window: window, input: input, x: x, inputType: elementType(node.inputs[0]), y: y, into: &c, start: "\(t) acc = 0;",
                 update: accumulate("(\(t))\(x)[AT]", bits: accBits),
                 finish: ["acc = (\(t))(acc * \(CType.literal(multiplier, bits: accBits)));", "OUT = \(rq);"])
        case .alias:
            c.line("/* \(node.output) shares the buffer of \(node.inputs.first ?? ""). */")
        case .argMax:
            let n = program.graph.shapes[node.inputs.first ?? ""]?.elementCount ?? 1
            c.line("mcu_index_t best = 0;")
            c.line("for (mcu_index_t i = 1; i < \(n); i++) if (\(x)[i] > \(x)[best]) best = i;")
            c.line("\(y)[0] = (\(elementType(node.output)))best;")
        case let .squaredDistance(name, shiftX, shiftP, shift, accBits) where specialised && SquaredDistanceExpansion.applies(to: step, program: program, far: far):
            let t = CType.int(accBits)
            let dims = program.constants[name]?.shape.dims ?? [0, 0]
            let rq = requant("acc", accBits: accBits, shift: shift, outBits: outBits, bound: .greatestFiniteMagnitude)
            runtime.dots.insert(24)
            let scaled = { (v: String, k: Int) in k == 0 ? v : "\(v) * UINT32_C(\(Int64(1) << k))" }
            c.line("/* (a x - b p)^2 summed = a^2 sum x^2 + b^2 sum p^2 - 2ab sum x p (a = 2^\(shiftX), b = 2^\(shiftP)), in uint32_t modulo")
            c.line("   2^32: the sum is proven below 2^\(accBits - 1), so its residue is the sum. */")
            c.line("uint32_t xx = 0;")
            c.line("for (mcu_index_t i = 0; i < \(dims[1]); i++) xx += (uint16_t)((int16_t)\(x)[i] * \(x)[i]);")
            if shiftX > 0 { c.line("xx = \(scaled("xx", 2 * shiftX));") }
            c.block("for (mcu_index_t j = 0; j < \(dims[0]); j++)") { c in
                c.line("const uint32_t xp = (uint32_t)mcu_dot8_a24(0, &\(ids.name(name))[(mcu_index_t)(j * \(dims[1])u)], \(x), \(dims[1]));")
                c.line("const \(t) acc = (\(t))(xx + MCU_R32(&\(functionName(node))_norms[j]) - \(scaled("xp", shiftX + shiftP + 1)));")
                c.line("\(y)[j] = \(rq);")
            }
        case let .squaredDistance(name, shiftX, shiftP, shift, accBits):
            let t = CType.int(accBits)
            let dims = program.constants[name]?.shape.dims ?? [0, 0]
            let rq = requant("acc", accBits: accBits, shift: shift, outBits: outBits, bound: .greatestFiniteMagnitude)
            let narrow = Self.squaredDistanceFits16(program, prototypes: name, xBits: step.inputs.first?.bits ?? 16, shiftX: shiftX, shiftP: shiftP)
            c.block("for (mcu_index_t j = 0; j < \(dims[0]); j++)") { c in
                c.line("\(t) acc = 0;")
                c.block("for (mcu_index_t i = 0; i < \(dims[1]); i++)") { c in
                    if narrow {
                        // The difference fits 16 bits: its square is one 16 x 16 -> 32-bit multiply.
                        c.line("int16_t d = (int16_t)(\(times("(int16_t)\(x)[i]", shiftX, bits: 16)) - \(times("(int16_t)\(read(name, "j * \(dims[1]) + i"))", shiftP, bits: 16)));")
                        c.line(accumulate("(\(t))((int32_t)d * (int32_t)d)", bits: accBits))
                    } else {
                        c.line("\(t) d = (\(t))(\(times("(\(t))\(x)[i]", shiftX, bits: accBits)) - \(times("(\(t))\(read(name, "j * \(dims[1]) + i"))", shiftP, bits: accBits)));")
                        c.line(accumulate("(\(t))(d * d)", bits: accBits))
                    }
                }
                c.line("\(y)[j] = \(rq);")
            }
        case .zero:
            c.line("for (mcu_index_t i = 0; i < \(count); i++) \(y)[i] = 0;")
        case .loop:
            break
        }
    }

    /// One element of an elementwise node: statements into `c` (a scope of their own), and the
    /// expression of its value, of the output's type. `operands` are the node's tensor inputs as
    /// C expressions of their own types (`X[i]`, or a local of a fused loop).
    mutating func elementValue(_ step: FixedStep, operands: [String], into c: inout CWriter) -> String {
        let node = step.node
        let x = operands.first ?? "0"
        let outBits = step.output.bits
        let magnitude = Double(step.inputs.first?.magnitude ?? 32768)
        if case let .mul(plan) = step.kernel, let mixed = mixedProducts[node.name] {
            // An int16 and an int8 value multiplied and requantized in 16 bits (`MixedProduct`).
            runtime.mixedProducts.insert(mixed.shift)
            runtime.requant8 = true
            let b = node.inputs.count == 2 ? (operands.dropFirst().first ?? "0") : read(plan.constant ?? "", "i")
            let (wide, narrow) = mixed.wideFirst ? (x, b) : (b, x)
            return "mcu_mul16x8_rq8_\(mixed.shift)(\(wide), \(narrow))"
        }
        switch step.kernel {
        case let .add(plan) where specialised && SaturatingAdd.applies(to: step, program: program):
            // Two int8 values summed and saturated in 8 bits (`SaturatingAdd`).
            runtime.addSat8 = true
            if RoundedAddend.applies(to: step, program: program) {
                let rounded = RoundedAddend.values(step, program: program) ?? [0]
                let b = rounded.count == 1 ? CType.literal(rounded[0], bits: 8) : read(plan.constant ?? "", "i")
                return "mcu_add_sat8(\(x), \(b))"
            }
            return "mcu_add_sat8(\(x), \(int8Operand(node, operands: operands, constant: plan.constant)))"
        case let .add(plan) where specialised && RoundedAddend.applies(to: step, program: program):
            // a·2^s ± B·2^sB rounded by s is a + rshr(±B·2^sB, s): B is stored so rounded (`RoundedAddend`).
            let t = CType.int(plan.accBits)
            let constant = plan.constant ?? ""
            let rounded = RoundedAddend.values(step, program: program) ?? [0]
            let addend = rounded.count == 1 ? CType.literal(rounded[0], bits: plan.accBits) : read(constant, "i")
            c.line("\(t) acc = (\(t))((\(t))\(x) + (\(t))\(addend));  /* \(plan.subtract ? "-" : "+")\(constant) << \(plan.shiftB), rounded by \(plan.shift) */")
            return requant("acc", accBits: plan.accBits, shift: 0, outBits: outBits, bound: .greatestFiniteMagnitude)
        case let .add(plan) where specialised && SaturatingAdd16.applies(to: step, program: program):
            // Two int16 terms summed and saturated in 16 bits (`SaturatingAdd16`).
            if plan.subtract { runtime.subSat16 = true } else { runtime.addSat16 = true }
            runtime.saturations.insert([16, 32])
            let a = term16(x, shift: plan.shiftA)
            let b: String
            if node.inputs.count == 2 {
                b = term16(operands.dropFirst().first ?? "0", shift: plan.shiftB)
            } else if let q = program.constants[plan.constant ?? ""], q.values.count == 1 {
                b = CType.literal(q.values[0] << plan.shiftB, bits: 16)
            } else {
                b = term16(read(plan.constant ?? "", "i"), shift: plan.shiftB)
            }
            return "mcu_\(plan.subtract ? "sub" : "add")_sat16(\(a), \(b))"
        case let .add(plan):
            let t = CType.int(plan.accBits)
            let b = secondOperand(node, operand: operands.dropFirst().first, constant: plan.constant, accBits: plan.accBits)
            c.line("\(t) acc = (\(t))(\(times("(\(t))\(x)", plan.shiftA, bits: plan.accBits)) \(plan.subtract ? "-" : "+") \(times(b, plan.shiftB, bits: plan.accBits)));")
            return requant("acc", accBits: plan.accBits, shift: plan.shift, outBits: outBits, bound: .greatestFiniteMagnitude)
        case let .mul(plan) where specialised && NarrowProduct.shift(step, program: program) != nil:
            // Two int8 values multiplied and requantized in 16 bits, the shift done leftwards (`NarrowProduct`).
            runtime.narrowProducts.insert(plan.shift)
            return "mcu_mul_rq8_\(plan.shift)(\(x), \(int8Operand(node, operands: operands, constant: plan.constant)))"
        case let .mul(plan):
            let t = CType.int(plan.accBits)
            let b = secondOperand(node, operand: operands.dropFirst().first, constant: plan.constant, accBits: plan.accBits)
            c.line("\(t) acc = (\(t))((\(t))\(x) * \(b));")
            return requant("acc", accBits: plan.accBits, shift: plan.shift, outBits: outBits, bound: .greatestFiniteMagnitude)
        case let .scale(multiplier, shift, accBits):
            let t = CType.int(accBits)
            c.line("\(t) acc = (\(t))((\(t))\(x) * \(CType.literal(multiplier, bits: accBits)));")
            return requant("acc", accBits: accBits, shift: shift, outBits: outBits, bound: .greatestFiniteMagnitude)
        case let .clamp(lo, hi, shift):
            // An 8-bit input is clamped in 16 bits, to the bounds within its range (the same result).
            let narrow = specialised && step.inputs.first?.bits == 8 && max(lo, -128) <= min(hi, 127)
            let (a, l, h) = narrow ? (16, max(lo, -128), min(hi, 127)) : (32, lo, hi)
            c.line("\(CType.int(a)) v = \(x);")
            if !narrow || l > -128 { c.line("if (v < \(CType.literal(l, bits: a))) v = \(CType.literal(l, bits: a));") }
            if !narrow || h < 127 { c.line("if (v > \(CType.literal(h, bits: a))) v = \(CType.literal(h, bits: a));") }
            return requant("v", accBits: a, shift: shift, outBits: outBits, bound: magnitude)
        case let .sigmoid(fracBits, shift), let .tanh(fracBits, shift):
            let isSigmoid: Bool
            if case .sigmoid = step.kernel { isSigmoid = true; runtime.sigmoid = true } else { isSigmoid = false; runtime.tanh = true }
            let table = isSigmoid ? "mcu_sigmoid_q15" : "mcu_tanh_q15"
            let g = fracBits - (isSigmoid ? ActivationTables.sigmoidStepLog2 : ActivationTables.tanhStepLog2)
            c.line("int16_t v = \(x);")
            c.line("uint16_t p = v < 0 ? (uint16_t)(0u - (uint16_t)v) : (uint16_t)v;")
            lookup(table: table, values: isSigmoid ? ActivationTables.sigmoid : ActivationTables.tanh, g: g, into: &c)
            c.line(isSigmoid ? "if (v < 0) t = 32768 - t;" : "if (v < 0) t = -t;")
            return requant("t", accBits: 32, shift: shift, outBits: outBits, bound: 32768)
        case let .exp(fracBits):
            runtime.exp = true
            return "(\(elementType(node.output)))mcu_exp(\(x), \(fracBits), \(step.output.fracBits), \(outBits))"
        default:
            return "0"
        }
    }

    private mutating func linear(_ plan: Kernel.Linear, step: FixedStep, x: String, y: String, into c: inout CWriter) {
        let t = CType.int(plan.accBits)
        let w = plan.weights
        // The accumulator's initial value for output `index`: the bias, shifted. An 8-bit bias
        // shifted by at most 7 fits 16 bits: shifted there, then widened (a 32-bit shift costs an
        // AVR four instructions per bit).
        let in16 = specialised && Self.shiftsBiasIn16Bits(plan, step: step, program: program, far: far)
        var initials: [String: String] = [:]
        if let b = plan.bias {
            for index in Self.blockIndices {
                let value = read(b, index)
                initials[index] = in16 ? "(int32_t)(int16_t)(\(value) * \(1 << plan.biasShift))"
                                       : "(\(t))(\(times("(\(t))\(value)", plan.biasShift, bits: plan.accBits)))"
            }
        }
        let initialAt: (String) -> String = { initials[$0] ?? "0" }
        let initial = initialAt("o")
        var rq = requant("acc", accBits: plan.accBits, shift: plan.shift, outBits: step.output.bits, bound: plan.bound)
        var y = y
        var outputType = elementType(step.node.output)
        if specialised, let clamp = ClampFusion.clamp(after: step, in: program, far: far), sharesBuffer(clamp.node.output, step.node.output),
           case let .clamp(lo, hi, shift) = clamp.kernel {
            // The ReLU that follows, applied here: stored through its own output (the same buffer).
            if Self.requantizesToReLU(plan, step: step, clamp: clamp) {
                runtime.requant8 = true
                runtime.requant8ReLU = true
                rq = "mcu_rq8_relu_32(acc, \(plan.shift))"
            } else {
                let (l, h) = (max(lo, -128), min(hi, 127))
                let clamped = "mcu_clamp16(\(rq), \(CType.literal(l, bits: 16)), \(CType.literal(h, bits: 16)))"
                runtime.clamp16 = true
                rq = requant(clamped, accBits: 16, shift: shift, outBits: clamp.output.bits, bound: 128)
            }
            y = pointer(clamp.node.output)
            outputType = elementType(clamp.node.output)
        }
        let wDims = program.constants[w]?.shape.dims ?? []
        switch plan.shape {
        case .dense:
            let (n, k) = (wDims[0], wDims[1])
            let bits = program.constants[w]?.format.bits ?? 16
            if specialised, Self.shortRowLength(plan, step: step, program: program, far: far) != nil {
                // Rows of a few 8-bit weights: the inputs in locals, each row's products written out
                // (a dot product's call and loop would cost more than its multiplies).
                let inputs = (0..<k).map { "x\($0)" }
                c.line("const int8_t " + inputs.enumerated().map { "\($1) = \(x)[\($0)]" }.joined(separator: ", ") + ";")
                c.line("const int8_t *w = \(ids.name(w));")
                c.block("for (mcu_index_t o = 0; o < \(n); o++, w += \(k))") { c in
                    c.line("\(t) acc = \(initial);")
                    for (j, input) in inputs.enumerated() {
                        c.line(accumulate("(int16_t)(MCU_R8(&w[\(j)]) * \(input))", bits: plan.accBits))
                    }
                    c.line("\(y)[o] = \(rq);")
                }
                return
            }
            if let dot = dot8(plan, step: step) {
                // Rows of W are contiguous in flash, the input is contiguous in RAM: one dot product
                // each; with the DSP extension, four rows at a time (each input word loaded once), as
                // a stream of blocks where it applies (`FourRowStream`). On AVR, short rows are each
                // one straight block of assembly instead.
                let stream = streams[w]
                if let stream {
                    runtime.fourRowStreams = true
                    c.line("#if defined(MCU_DSP_STREAM)")
                    stream.emitNode(weights: ids.name(w), x: x, y: y, outputType: outputType, accType: t, rq: rq, into: &c)
                    c.line("#else")
                }
                defer { if stream != nil { c.line("#endif") } }
                let inAssembly = Self.rowsInAssembly(plan, step: step, program: program, far: far) != nil
                if inAssembly {
                    c.line("#if defined(__AVR__)")
                    rowsInAssembly(rows: n, length: k, accBits: dot, initial: initial, rq: rq, shift: plan.shift, weights: ids.name(w), x: x, y: y, into: &c)
                    c.line("#else")
                }
                defer { if inAssembly { c.line("#endif") } }
                let weights = ids.name(w)
                let isInterleaved = interleaved[w] == RowInterleaving.Layout(rowLength: k, segment: k)
                if stream == nil {
                    // (A stream's node has no blocks here: without `MCU_DSP_STREAM` its weights are plain rows.)
                    noteBlocks(outputs: n, interleaved: isInterleaved)
                    blockedFilters(outputs: n, accType: t, initial: initialAt, rq: rq, store: { "\(y)[\($0)]" }, carried: isInterleaved ? weights : nil, into: &c) { c in
                        if isInterleaved {
                            c.line("wb = mcu_dot8x4i(s, wb, \(x), \(k));")
                        } else {
                            c.line("mcu_dot8x4(s, &\(weights)[(mcu_index_t)(o * \(k)u)], \(k), \(x), \(k));")
                        }
                    }
                }
                c.block("for (\(n >= 4 && stream == nil ? "" : "mcu_index_t o = 0"); o < \(n); o++)") { c in
                    c.line("\(t) acc = mcu_dot8_a\(dot)(\(initial), &\(ids.name(w))[(mcu_index_t)(o * \(k)u)], \(x), \(k));")
                    c.line("\(y)[o] = \(rq);")
                }
                return
            }
            let wide = specialised ? WideDotProduct.of(plan, step: step, program: program, far: far) : nil
            if let wide {
                // AVR: each row's products at their own width, in assembly; other cores the loop below.
                c.line("#if defined(__AVR__)")
                let store32 = wide.requantizesFrom32Bits
                    ? "\(y)[o] = \(requant("acc", accBits: 32, shift: plan.shift - 8, outBits: step.output.bits, bound: plan.bound / 256 + 1));" : ""
                wide.emitRows(rows: n, length: k, weights: ids.name(w), x: x, initial: initial, store: "\(y)[o] = \(rq);", store32: store32,
                              shift: plan.shift, into: &c)
                c.line("#else")
            }
            defer { if wide != nil { c.line("#endif") } }
            if far.contains(w) { c.line("const mcu_far_t wb = MCU_FAR(\(ids.name(w)));") }
            c.block("for (mcu_index_t o = 0; o < \(n); o++)") { c in
                c.line("\(t) acc = \(initial);")
                if far.contains(w) {
                    c.line("mcu_index_t wi = (mcu_index_t)(o * \(k)u);")
                    c.line("for (mcu_index_t k = 0; k < \(k); k++) \(accumulate("(\(t))MCU_FAR_R\(bits)(wb, wi + k) * \(x)[k]", bits: plan.accBits))")
                } else {
                    c.line("const int\(bits)_t *w = &\(ids.name(w))[o * \(k)];")
                    c.line("for (mcu_index_t k = 0; k < \(k); k++) \(accumulate("(\(t))MCU_R\(bits)(&w[k]) * \(x)[k]", bits: plan.accBits))")
                }
                c.line("\(y)[o] = \(rq);")
            }
        case let .conv2D(window, input), let .depthwiseConv2D(window, input):
            let depthwise: Bool
            if case .depthwiseConv2D = plan.shape { depthwise = true } else { depthwise = false }
            let (h, wd, ch) = (input.dims[0], input.dims[1], input.dims[2])
            let out = window.outputSize(height: h, width: wd) ?? (0, 0)
            let outputs = depthwise ? ch : wDims[0]
            let padded = window.padTop + window.padLeft + window.padBottom + window.padRight > 0
            let bits = program.constants[w]?.format.bits ?? 16
            let (kh, kw) = (window.kernelHeight, window.kernelWidth)
            let weights = ids.name(w)
            if depthwise, specialised, let a = Self.depthwiseWidth(plan, step: step, program: program, far: far) {
                depthwiseByChannel(accBits: a, initial: initial, rq: rq, shift: plan.shift, window: window, input: input, weights: weights,
                                   x: x, y: y, outputType: elementType(step.node.output), into: &c)
                return
            }
            if !depthwise, let dot = dot8(plan, step: step) {
                let unrolled = Self.unrolledBands(window: window, input: input, depthwise: false)
                if let bands = unrolled {
                    c.line("#if defined(__AVR__)")
                    unrolledFilters(bands: bands, depthwise: false, outputs: outputs, accBits: dot, initial: initial, rq: rq, shift: plan.shift, window: window,
                                    input: input, weights: weights, x: x, y: y, into: &c)
                    c.line("#else")
                }
                defer { if unrolled != nil { c.line("#endif") } }
                convolutionByRows(dot: dot, patch: patchPointer(step.node), bias: plan.bias.flatMap { far.contains($0) ? nil : (ids.name($0), "int\(program.constants[$0]?.format.bits ?? 16)_t") }, accType: t, outputType: elementType(step.node.output), initial: initialAt, rq: rq, window: window, input: input,
                                  outputs: outputs, weights: weights, interleaved: interleaved[w], x: x, y: y, into: &c)
                return
            }
            let isFar = far.contains(w)
            // A far array is walked by element index from its base instead of by pointer.
            let pointerType = isFar ? "mcu_index_t" : "const int\(bits)_t *"
            let tapRead = isFar ? "MCU_FAR_R\(bits)(wb, wp)" : "MCU_R\(bits)(wp)"
            let channelRead = isFar ? "MCU_FAR_R\(bits)(wb, wp + c)" : "MCU_R\(bits)(&wp[c])"
            if isFar { c.line("const mcu_far_t wb = MCU_FAR(\(weights));") }
            // Weights and inputs are walked with running offsets: one multiply per kernel row, an
            // addition per tap (no index arithmetic by the shape's constants in the inner loops).
            c.block("for (mcu_index_t oy = 0; oy < \(out.height); oy++)") { c in
                c.line("int16_t iy0 = (int16_t)(oy * \(window.strideHeight)) - \(window.padTop);")
                c.block("for (mcu_index_t ox = 0; ox < \(out.width); ox++)") { c in
                    c.line("int16_t ix0 = (int16_t)(ox * \(window.strideWidth)) - \(window.padLeft);")
                    c.line("\(elementType(step.node.output)) *yp = &\(y)[(oy * \(out.width) + ox) * \(outputs)];")
                    if !depthwise { c.line("\(pointerType) wp = \(isFar ? "0" : weights);") }
                    c.block("for (mcu_index_t o = 0; o < \(outputs); o++)") { c in
                        c.line("\(t) acc = \(initial);")
                        if depthwise { c.line("\(pointerType) wp = \(isFar ? "o" : "&\(weights)[o]");") }
                        c.block("for (mcu_index_t ky = 0; ky < \(kh); ky++)") { c in
                            c.line("int16_t iy = (int16_t)(iy0 + (int16_t)ky);")
                            if padded { c.line("if (iy < 0 || iy >= \(h)) { wp += \(kw * ch); continue; }") }
                            c.line("mcu_offset_t xi = (mcu_offset_t)((mcu_offset_t)iy * \(wd * ch) + (mcu_offset_t)ix0 * \(ch)\(depthwise ? " + (mcu_offset_t)o" : ""));")
                            c.block("for (mcu_index_t kx = 0; kx < \(kw); kx++)") { c in
                                let tap = depthwise
                                    ? accumulate("(\(t))\(tapRead) * \(x)[xi]", bits: plan.accBits)
                                    : "const \(elementType(step.node.inputs[0])) *xp = &\(x)[xi]; for (mcu_index_t c = 0; c < \(ch); c++) "
                                        + accumulate("(\(t))\(channelRead) * xp[c]", bits: plan.accBits)
                                if padded {
                                    c.line("int16_t ix = (int16_t)(ix0 + (int16_t)kx);")
                                    c.line("if (ix >= 0 && ix < \(wd)) { \(tap) }")
                                } else {
                                    c.line(tap)
                                }
                                c.line("wp += \(ch);")
                                c.line("xi += \(ch);")
                            }
                        }
                        c.line("*yp++ = \(rq);")
                    }
                }
            }
        }
    }

    /// The longest row of 8-bit weights an AVR dense node computes as one block of assembly.
    public static let assemblyRowLimit = 16
    /// The longest such row whose inputs are held in registers across the rows (`mov`, not `ld`).
    public static let registerRowLimit = 8

    /// AVR: the row length k of a dense node whose rows go through `mcu_dot8_aN` (`dot8Width`) and
    /// are at most `assemblyRowLimit` long: each row is then one straight block of assembly, with no
    /// loop inside and no call (`rowsInAssembly`). Nil otherwise; other cores keep the dot products.
    public static func rowsInAssembly(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Int? {
        guard case .dense = plan.shape, dot8Width(plan, step: step, program: program, far: far) != nil,
              let k = program.constants[plan.weights]?.shape.dims.last, k <= assemblyRowLimit else { return nil }
        return k
    }

    /// AVR: a dense node's rows, each `sum += w_j * x[j]` written out in assembly: `lpm` of the
    /// weight (the pointer walks the whole matrix, rows being contiguous), `ld` of the input (the
    /// pointer set back to the input each row), `muls`, the int16 product added into the sum's low
    /// two bytes (`productRun`). A 24-bit sum is requantized to 8 bits in 24 bits (`mcu_rq8_24`)
    /// where the shift allows. The same products as the dot product, in the same order.
    private mutating func rowsInAssembly(rows n: Int, length k: Int, accBits: Int, initial: String, rq: String, shift: Int,
                                         weights: String, x: String, y: String, into c: inout CWriter) {
        let t = accBits == 24 ? "mcu_acc24_t" : "int16_t"
        if accBits == 24 { runtime.accumulator24 = true }
        var rq = rq
        if accBits == 24, (1...15).contains(shift), rq.contains("mcu_rq8_32(acc, \(shift))") {
            runtime.requant8x24 = true
            rq = rq.replacingOccurrences(of: "mcu_rq8_32(acc, \(shift))", with: "mcu_rq8_24(sum, \(shift))")
        }
        // Rows of up to `registerRowLimit` read their inputs from locals (loaded once), others by `ld X+`.
        let inRegisters = k <= Self.registerRowLimit
        // A 24-bit sum rounded by 8 bits into an int8 is requantized inside the block: t = sum + 128
        // fits 24 bits (the bound counts the rounding term); its bytes C:B are t >> 8, an int8 when C
        // is B's sign extension, else saturated by C's sign.
        let requantInBlock = accBits == 24 && rq == "mcu_rq8_24(sum, 8)"
        var lines = Self.productRun((0..<k).map { j in
            let load = inRegisters ? "\"mov %[u], %[x\(j)]\\n\\t\"" : #""ld %[u], X+\n\t""#
            return (lead: nil, leadWords: 0, mac: #""lpm %[t], Z+\n\t" "# + load + #" "muls %[t], %[u]\n\t" "add %A[s], r0\n\t" "adc %B[s], r1\n\t""#)
        }, accBits: accBits)
        if requantInBlock {
            lines.append(#""subi %A[s], 0x80\n\t" "sbci %B[s], 0xff\n\t" "sbci %C[s], 0xff\n\t""#)
            lines.append(#""mov %[t], %B[s]\n\t" "lsl %[t]\n\t" "sbc %[t], %[t]\n\t" "cp %[t], %C[s]\n\t" "mov %[t], %B[s]\n\t" "breq 1f\n\t""#)
            lines.append(#""mov %[t], %C[s]\n\t" "lsl %[t]\n\t" "ldi %[t], 0x7f\n\t" "adc %[t], __zero_reg__\n\t" "1:\n\t""#)
        }
        c.line("const int8_t *w = \(weights);")
        if inRegisters {
            c.line("const int8_t " + (0..<k).map { "x\($0) = \(x)[\($0)]" }.joined(separator: ", ") + ";")
        }
        c.block("for (mcu_index_t o = 0; o < \(n); o++)") { c in
            c.line("\(t) sum = (\(t))\(initial);")
            if !inRegisters { c.line("const int8_t *r = \(x);") }
            c.line("int8_t t, u;")
            c.line("__asm__ volatile (")
            for line in lines { c.line("    " + line) }
            let pointer = inRegisters ? "" : ", [r] \"+x\" (r)"
            c.line("    : [s] \"+r\" (sum), [w] \"+z\" (w)\(pointer), [t] \"=&d\" (t), [u] \"=&d\" (u)")
            c.line("    : " + (inRegisters ? (0..<k).map { "[x\($0)] \"r\" (x\($0))" }.joined(separator: ", ") : ""))
            c.line("    : \"memory\");")
            if requantInBlock {
                // t is the requantized value (`mcu_rq8_24(sum, 8)`).
                c.line("\(y)[o] = t;")
                return
            }
            if rq.contains("acc") { c.line("const \(CType.int(accBits == 16 ? 16 : 32)) acc = sum;") }
            c.line("\(y)[o] = \(rq);")
        }
    }

    /// Whether a 32-bit accumulator is requantized to 8 bits by `mcu_rq8_32` (saturation tested
    /// first, then the shift in 16 bits): shifts of 1 to 16 bits.
    public static func requantizesIn16Bits(accBits: Int, outBits: Int, shift: Int) -> Bool {
        accBits == 32 && outBits == 8 && (1...16).contains(shift)
    }

    /// Whether a node's requantization and the ReLU fused after it (`ClampFusion`, clamped to
    /// 0...127 with no shift of its own) are one `mcu_rq8_relu_32`: the node requantizes a 32-bit
    /// accumulator to int8 with `mcu_rq8_32`.
    public static func requantizesToReLU(_ plan: Kernel.Linear, step: FixedStep, clamp: FixedStep) -> Bool {
        guard case let .clamp(lo, hi, shift) = clamp.kernel, shift == 0, max(lo, -128) == 0, min(hi, 127) == 127,
              clamp.output.bits == 8, step.output.bits == 8,
              requantizesIn16Bits(accBits: plan.accBits, outBits: 8, shift: plan.shift),
              plan.bound >= Double(sign: .plus, exponent: plan.shift - 1, significand: 1) else { return false }
        return true
    }

    /// The shift of an average pool of int8 values emitted with a 16-bit sum: its multiplier a
    /// power of two 2^m (folded in: requantizing sum * 2^m by s is requantizing sum by s - m), its
    /// window at most 64 (|sum| <= 8192) and s - m at most 14 (the rounding term fits too).
    public static func narrowAvgPoolShift(_ step: FixedStep) -> Int? {
        guard case let .avgPool(window, _, multiplier, shift, _) = step.kernel, step.inputs.first?.bits == 8,
              window.kernelHeight * window.kernelWidth <= 64, multiplier > 0, multiplier & (multiplier - 1) == 0 else { return nil }
        let s = shift - multiplier.trailingZeroBitCount
        return s <= 14 ? s : nil
    }

    /// The accumulator width of a depthwise convolution of int8 weights (near) and input emitted by
    /// channel (`depthwiseByChannel`): 16, 24 where the proven bound is below 2^23 (an AVR adds
    /// three bytes instead of four), or 32; nil for other depthwise convolutions.
    public static func depthwiseWidth(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Int? {
        guard case .depthwiseConv2D = plan.shape, program.constants[plan.weights]?.format.bits == 8,
              step.inputs.first?.bits == 8, !far.contains(plan.weights) else { return nil }
        switch plan.accBits {
        case 16: return 16
        case 32: return plan.bound < 8_388_608 ? 24 : 32
        default: return nil
        }
    }

    /// A depthwise convolution of 8-bit values, one channel at a time: the window clipped to the
    /// image once per output row and pixel (no test per tap), each product an 8 x 8 -> 16-bit
    /// multiply, summed at the accumulator's width. Offsets are integers (a pointer stepped past
    /// its array would be undefined even unread).
    private mutating func depthwiseByChannel(accBits: Int, initial: String, rq: String, shift: Int, window: Window, input: Shape, weights: String,
                                             x: String, y: String, outputType: String, into c: inout CWriter) {
        let (h, wd, ch) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        let (kh, kw) = (window.kernelHeight, window.kernelWidth)
        let t = accBits == 24 ? "mcu_acc24_t" : CType.int(accBits)
        if accBits == 24 { runtime.accumulator24 = true }
        // Offsets in the fast type of their width (no truncation after each step on a 32-bit core).
        let i = indexType == "uint16_t" ? "uint_fast16_t" : "uint32_t"
        let add = accBits == 16 ? "sum = (int16_t)(sum + (int16_t)(MCU_R8(&\(weights)[wi]) * \(x)[xi]));"
                                : "sum += (\(t))(int16_t)(MCU_R8(&\(weights)[wi]) * \(x)[xi]);"
        let unrolled = accBits < 32 ? Self.unrolledBands(window: window, input: input, depthwise: true) : nil
        if let bands = unrolled {
            c.line("#if defined(__AVR__)")
            unrolledFilters(bands: bands, depthwise: true, outputs: input.dims[2], accBits: accBits, initial: initial, rq: rq, shift: shift, window: window,
                            input: input, weights: weights, x: x, y: y, into: &c)
            c.line("#else")
        }
        c.block("for (mcu_index_t oy = 0; oy < \(out.height); oy++)") { c in
            c.line("int16_t iy0 = (int16_t)(oy * \(window.strideHeight)) - \(window.padTop);")
            c.line("int16_t ky0 = iy0 < 0 ? (int16_t)-iy0 : 0, ky1 = iy0 + \(kh) > \(h) ? (int16_t)(\(h) - iy0) : \(kh);")
            c.block("for (mcu_index_t ox = 0; ox < \(out.width); ox++)") { c in
                c.line("int16_t ix0 = (int16_t)(ox * \(window.strideWidth)) - \(window.padLeft);")
                c.line("int16_t kx0 = ix0 < 0 ? (int16_t)-ix0 : 0, kx1 = ix0 + \(kw) > \(wd) ? (int16_t)(\(wd) - ix0) : \(kw);")
                c.line("\(outputType) *yp = &\(y)[(oy * \(out.width) + ox) * \(ch)];")
                c.line("\(i) x0 = (\(i))((\(i))(iy0 + ky0) * \(wd * ch)u + (\(i))(ix0 + kx0) * \(ch)u);")
                c.line("\(i) w0 = (\(i))((\(i))(ky0 * \(kw) + kx0) * \(ch)u);")
                c.block("for (mcu_index_t o = 0; o < \(ch); o++)") { c in
                    c.line("\(t) sum = (\(t))\(initial);")
                    c.line("\(i) xr = x0 + o, wr = w0 + o;")
                    c.block("for (int_fast16_t ky = ky0; ky < ky1; ky++, xr += \(wd * ch)u, wr += \(kw * ch)u)") { c in
                        c.line("\(i) xi = xr, wi = wr;")
                        c.line("for (int_fast16_t kx = kx0; kx < kx1; kx++, xi += \(ch)u, wi += \(ch)u) \(add)")
                    }
                    c.line("const \(CType.int(accBits == 16 ? 16 : 32)) acc = sum;")
                    c.line("*yp++ = \(rq);")
                }
            }
        }
        if unrolled != nil { c.line("#endif") }
    }

    /// A band of output rows (or columns) `outputs` whose windows keep the same kernel rows (or
    /// columns) `kernel` inside the image.
    public struct WindowBand: Equatable, Sendable {
        public var outputs: Range<Int>
        public var kernel: Range<Int>
    }

    /// The most weights per filter (or channel) `unrolledFilters` holds in locals, and the most
    /// products it writes out over all its bands (code size).
    public static let unrolledWeightLimit = 9, unrolledProductLimit = 96

    /// The bands and accumulator width (16 or 24) of a convolution that AVR emits filter by filter
    /// with its products in assembly (`unrolledFilters`): 8-bit weights (near) and input, the width
    /// of its dot product (`dot8Width`) or of its depthwise form (`depthwiseWidth`) below 32, and
    /// filters small enough (`unrolledBands`). Nil otherwise.
    public static func unrolledConvolution(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>)
        -> (rows: [WindowBand], columns: [WindowBand], width: Int)? {
        switch plan.shape {
        case let .depthwiseConv2D(window, input):
            guard let width = depthwiseWidth(plan, step: step, program: program, far: far), width < 32,
                  let bands = unrolledBands(window: window, input: input, depthwise: true) else { return nil }
            return (bands.rows, bands.columns, width)
        case let .conv2D(window, input):
            guard let width = dot8Width(plan, step: step, program: program, far: far),
                  let bands = unrolledBands(window: window, input: input, depthwise: false) else { return nil }
            return (bands.rows, bands.columns, width)
        case .dense:
            return nil
        }
    }

    /// The row and column bands of a convolution (`depthwise` or not) of 8-bit weights and input
    /// that AVR emits filter by filter with its products written out (`unrolledFilters`), or nil
    /// when a filter has more than `unrolledWeightLimit` weights or the code would be too large.
    public static func unrolledBands(window: Window, input: Shape, depthwise: Bool) -> (rows: [WindowBand], columns: [WindowBand])? {
        let (h, wd) = (input.dims[0], input.dims[1])
        let perTap = depthwise ? 1 : input.dims[2]
        guard window.kernelHeight * window.kernelWidth * perTap <= unrolledWeightLimit,
              let out = window.outputSize(height: h, width: wd) else { return nil }
        func bands(_ count: Int, stride: Int, pad: Int, kernel: Int, extent: Int) -> [WindowBand] {
            var result: [WindowBand] = []
            for o in 0..<count {
                let i0 = o * stride - pad
                let k0 = max(0, -i0), k1 = max(k0, min(kernel, extent - i0))
                if let last = result.last, last.kernel == k0..<k1 {
                    result[result.count - 1].outputs = last.outputs.lowerBound..<(o + 1)
                } else {
                    result.append(WindowBand(outputs: o..<(o + 1), kernel: k0..<k1))
                }
            }
            return result
        }
        let rows = bands(out.height, stride: window.strideHeight, pad: window.padTop, kernel: window.kernelHeight, extent: h)
        let columns = bands(out.width, stride: window.strideWidth, pad: window.padLeft, kernel: window.kernelWidth, extent: wd)
        let products = rows.reduce(0) { $0 + $1.kernel.count } * columns.reduce(0) { $0 + $1.kernel.count } * perTap
        return products <= unrolledProductLimit ? (rows, columns) : nil
    }

    /// AVR: a convolution of 8-bit values filter by filter (channel by channel if depthwise), the
    /// filter's weights read once into locals, and the output split into bands of rows and columns
    /// whose windows keep the same taps inside the image; each band's products are written out with
    /// constant offsets (no loop per tap or channel, no clipping per pixel, no call per dot
    /// product). Sums of the same products in another order, within the proven bound. Integer
    /// offsets, not pointers stepped past the arrays.
    private mutating func unrolledFilters(bands: (rows: [WindowBand], columns: [WindowBand]), depthwise: Bool, outputs: Int, accBits: Int,
                                          initial: String, rq: String, shift: Int, window: Window, input: Shape, weights: String, x: String, y: String,
                                          into c: inout CWriter) {
        let (wd, ch) = (input.dims[1], input.dims[2])
        let cin = depthwise ? 1 : ch
        let out = window.outputSize(height: input.dims[0], width: wd) ?? (0, 0)
        let (kh, kw) = (window.kernelHeight, window.kernelWidth)
        let t = accBits == 24 ? "mcu_acc24_t" : CType.int(accBits)
        if accBits == 24 { runtime.accumulator24 = true }
        // Weight j of the filter: tap j / cin, input channel j % cin ([O][kh][kw][C], or [kh][kw][C] by channel).
        let weight = { (j: Int) in depthwise ? "(mcu_index_t)(\(j * ch)u + o)" : "(mcu_index_t)(o * \(kh * kw * cin)u + \(j)u)" }
        // A 24-bit sum requantized to 8 bits is shifted in 24 bits (`mcu_rq8_24`), not widened to 32.
        var rq = rq
        if accBits == 24, (1...15).contains(shift), rq.contains("mcu_rq8_32(acc, \(shift))") {
            runtime.requant8x24 = true
            rq = rq.replacingOccurrences(of: "mcu_rq8_32(acc, \(shift))", with: "mcu_rq8_24(sum, \(shift))")
        }
        c.block("for (mcu_index_t o = 0; o < \(outputs); o++)") { c in
            // Only the weights some band reads (an unused local would be a warning).
            let used = (0..<(kh * kw * cin)).filter { j in
                bands.rows.contains { $0.kernel.contains(j / cin / kw) } && bands.columns.contains { $0.kernel.contains(j / cin % kw) }
            }
            if !used.isEmpty {
                c.line("const int8_t " + used.map { "w\($0) = MCU_R8(&\(weights)[\(weight($0))])" }.joined(separator: ", ") + ";")
            }
            c.line("const \(t) b = (\(t))\(initial);")
            for rows in bands.rows {
                for columns in bands.columns {
                    c.line("/* output rows \(rows.outputs.lowerBound)..<\(rows.outputs.upperBound), columns \(columns.outputs.lowerBound)..<\(columns.outputs.upperBound): kernel rows \(rows.kernel.lowerBound)..<\(rows.kernel.upperBound), columns \(columns.kernel.lowerBound)..<\(columns.kernel.upperBound) */")
                    c.block("for (mcu_index_t oy = \(rows.outputs.lowerBound); oy < \(rows.outputs.upperBound); oy++)") { c in
                        // The band's first output in this row, and its window's first tap inside the image.
                        let ix = columns.outputs.lowerBound * window.strideWidth - window.padLeft + columns.kernel.lowerBound
                        let reads = !rows.kernel.isEmpty && !columns.kernel.isEmpty
                        c.line("mcu_offset_t yi = (mcu_offset_t)((mcu_offset_t)(oy * \(out.width) + \(columns.outputs.lowerBound)) * \(outputs) + (mcu_offset_t)o);")
                        if reads {
                            c.line("mcu_offset_t xi = (mcu_offset_t)(((mcu_offset_t)oy * \(window.strideHeight) + \(rows.kernel.lowerBound - window.padTop)) * \(wd * ch) + \(ix * ch)\(depthwise ? " + (mcu_offset_t)o" : ""));")
                        }
                        let step = reads ? ", xi += \(window.strideWidth * ch)" : ""
                        c.block("for (mcu_index_t ox = \(columns.outputs.lowerBound); ox < \(columns.outputs.upperBound); ox++, yi += \(outputs)\(step))") { c in
                            c.line("\(t) sum = b;")
                            let products = Self.unrolledProducts(rows: rows.kernel, columns: columns.kernel, window: window, input: input, depthwise: depthwise)
                            if !products.isEmpty {
                                c.line("const int8_t *r = &\(x)[xi];")
                                c.line("int8_t t, u;")
                                multiplyAccumulate(products, accBits: accBits, into: &c)
                            }
                            if rq.contains("acc") { c.line("const \(CType.int(accBits == 16 ? 16 : 32)) acc = sum;") }
                            c.line("\(y)[yi] = \(rq);")
                        }
                    }
                }
            }
        }
    }

    /// The products of a window whose taps inside the image are `rows` x `columns`: the weight's index
    /// in the filter and the input's offset from the window's first tap inside the image.
    public static func unrolledProducts(rows: Range<Int>, columns: Range<Int>, window: Window, input: Shape, depthwise: Bool) -> [(weight: Int, offset: Int)] {
        let (wd, ch) = (input.dims[1], input.dims[2])
        let cin = depthwise ? 1 : ch
        var products: [(weight: Int, offset: Int)] = []
        for ky in rows {
            for kx in columns {
                for ci in 0..<cin {
                    products.append(((ky * window.kernelWidth + kx) * cin + ci, (ky - rows.lowerBound) * wd * ch + (kx - columns.lowerBound) * ch + ci))
                }
            }
        }
        return products
    }

    /// How often `multiplyAccumulate` moves its pointer over these products (an `ldd` displacement
    /// reaches 63 bytes).
    public static func pointerSteps(_ products: [(weight: Int, offset: Int)]) -> Int {
        var base = 0, steps = 0
        for product in products where product.offset - base > 63 {
            base = product.offset
            steps += 1
        }
        return steps
    }

    /// AVR: the assembly of a straight run of int16 products added into the sum `s`, each product's
    /// `mac` after its `lead` (`leadWords` words, a pointer move), and `clr r1` after them. A 24-bit
    /// sum is held as C * 2^16 + s during the run, as `mcu_dot8_a24` holds it: a product changes C
    /// only when the 16-bit add overflows (V set; the branch out is not taken otherwise), in a stub
    /// out of the straight line that moves C by one toward the sign the 16-bit result lost. The
    /// stubs lie at the run's end or, where a `brvs` would not reach its stub (64 words), jumped
    /// over after the products so far.
    private static func productRun(_ products: [(lead: String?, leadWords: Int, mac: String)], accBits: Int) -> [String] {
        var lines: [String] = []
        if accBits == 24 { lines.append(#""sbrc %B[s], 7\n\t" "inc %C[s]\n\t""#) }
        var pending: [Int] = [], words = 0
        func flush() {
            let label = 400 + (pending.last ?? 0)
            lines.append("\"rjmp \(label)f\\n\\t\"")
            for j in pending {
                lines.append("\"\(100 + j): brmi \(300 + j)f\\n\\t\" \"dec %C[s]\\n\\t\" \"rjmp \(200 + j)b\\n\\t\" \"\(300 + j): inc %C[s]\\n\\t\" \"rjmp \(200 + j)b\\n\\t\"")
            }
            lines.append("\"\(label):\\n\\t\"")
            pending = []
            words = 0
        }
        for (j, product) in products.enumerated() {
            // The first pending brvs is the farthest from its stub: the words after it, and the jump
            // (a later one is at least 6 words nearer and only 5 words of stubs farther).
            if accBits == 24, !pending.isEmpty, words + product.leadWords + 6 + 1 > 60 { flush() }
            if let lead = product.lead { lines.append(lead) }
            var mac = product.mac
            if accBits == 24 {
                mac += " \"brvs \(100 + j)f\\n\\t\" \"\(200 + j):\\n\\t\""
                if !pending.isEmpty { words += product.leadWords + 6 }
                pending.append(j)
            }
            lines.append(mac)
        }
        if accBits == 24, !pending.isEmpty { flush() }
        if accBits == 24 { lines.append(#""sbrc %B[s], 7\n\t" "dec %C[s]\n\t""#) }
        lines.append(#""clr r1\n\t""#)
        return lines
    }

    /// AVR assembly for `sum += w_j * r[offset_j]` over a window's products: each input loaded at a
    /// displacement from the pointer `r` (moved on where a displacement would pass 63), the weight
    /// (a local) moved into an upper register for `muls`, the int16 product added into `sum`
    /// (`productRun`).
    private func multiplyAccumulate(_ products: [(weight: Int, offset: Int)], accBits: Int, into c: inout CWriter) {
        // The pointer moved on where a displacement would pass 63 (2 words), then the product.
        var base = 0
        let run = products.map { product -> (lead: String?, leadWords: Int, mac: String) in
            var lead: String?
            if product.offset - base > 63 {
                let step = product.offset - base
                lead = step <= 63 ? "\"adiw %[r], \(step)\\n\\t\"" : "\"subi %A[r], lo8(\(-step))\\n\\t\" \"sbci %B[r], hi8(\(-step))\\n\\t\""
                base = product.offset
            }
            let mac = "\"ldd %[t], %a[r]+\(product.offset - base)\\n\\t\" \"mov %[u], %[w\(product.weight)]\\n\\t\" \"muls %[t], %[u]\\n\\t\" \"add %A[s], r0\\n\\t\" \"adc %B[s], r1\\n\\t\""
            return (lead, lead == nil ? 0 : 2, mac)
        }
        let lines = Self.productRun(run, accBits: accBits)
        let weights = Set(products.map(\.weight)).sorted().map { "[w\($0)] \"r\" (w\($0))" }
        c.line("__asm__ volatile (")
        for line in lines { c.line("    " + line) }
        c.line("    : [s] \"+r\" (sum), [r] \"+b\" (r), [t] \"=&d\" (t), [u] \"=&d\" (u)")
        c.line("    : " + weights.joined(separator: ", "))
        c.line("    : \"memory\");")
    }

    /// A convolution whose every kernel row is one dot product: in channels-last layout the taps of a
    /// row and their channels are contiguous in the input and in the filter ([O][kh][kw][C]), and
    /// padding only narrows the row to its columns inside the image (`kx0..<kx1`, the same for every
    /// row and filter of an output pixel).
    private mutating func convolutionByRows(dot: Int, patch: String, bias: (name: String, type: String)?, accType t: String, outputType: String, initial initialAt: (String) -> String, rq: String,
                                            window: Window, input: Shape, outputs: Int, weights: String, interleaved layout: RowInterleaving.Layout?, x: String, y: String,
                                            into c: inout CWriter) {
        let initial = initialAt("o")
        let (h, wd, ch) = (input.dims[0], input.dims[1], input.dims[2])
        let interleaved = layout != nil
        let out = window.outputSize(height: h, width: wd) ?? (0, 0)
        let (kh, kw) = (window.kernelHeight, window.kernelWidth)
        let rowsPadded = window.padTop + window.padBottom > 0, columnsPadded = window.padLeft + window.padRight > 0
        let gathers = Self.gathersPatches(window: window, input: input)
        // Per output pixel: its window's first row and column, and the columns inside the image
        // (`kx0..<kx1`, the same for every row and filter). Each pixel stores its outputs in turn.
        c.line("\(outputType) *yp = \(y);")
        c.block("for (mcu_index_t oy = 0; oy < \(out.height); oy++)") { c in
            c.line("int16_t iy0 = (int16_t)(oy * \(window.strideHeight)) - \(window.padTop);")
            c.block("for (mcu_index_t ox = 0; ox < \(out.width); ox++)") { c in
                c.line("int16_t ix0 = (int16_t)(ox * \(window.strideWidth)) - \(window.padLeft);")
                if columnsPadded {
                    c.line("int16_t kx0 = ix0 < 0 ? (int16_t)-ix0 : 0, kx1 = ix0 + \(kw) > \(wd) ? (int16_t)(\(wd) - ix0) : \(kw);")
                    c.line("if (kx1 < kx0) kx1 = kx0;")
                } else if !gathers {
                    c.line("const int16_t kx0 = 0, kx1 = \(kw);")
                } else if rowsPadded {
                    c.line("const int16_t kx0 = 0;")  // a gathered row is copied whole
                }
                if gathers {
                    // Rows of a few bytes would be a dot product each: the window is copied (zeros
                    // outside the image) into one contiguous patch (an arena buffer, `ArenaPlan.patchName`),
                    // and each filter is one dot product.
                    let size = kh * kw * ch, row = kw * ch
                    // A kernel row is under 8 bytes: whole rows (no column outside the image) are
                    // copied byte by byte written out, zero rows likewise.
                    let copy = (0..<row).map { "p[\($0)] = xr[\($0)];" }.joined(separator: " ")
                    let zero = (0..<row).map { "p[\($0)] = 0;" }.joined(separator: " ")
                    c.line("int8_t *p = \(patch);")
                    // A window inside the image: its rows copied written out, from one pointer.
                    let whole = (0..<kh).map { ky in
                        (0..<row).map { "p[\(ky * row + $0)] = xr[\(ky * wd * ch + $0)];" }.joined(separator: " ")
                    }
                    var inside: [String] = []
                    if rowsPadded { inside.append("iy0 >= 0 && iy0 <= \(h - kh)") }
                    if columnsPadded { inside.append("kx0 == 0 && kx1 == \(kw)") }
                    c.line((inside.isEmpty ? "" : "if (\(inside.joined(separator: " && "))) ") + "{")
                    c.line("    const int8_t *xr = &\(x)[(mcu_offset_t)((iy0 * \(wd) + ix0) * \(ch))];")
                    for line in whole { c.line("    " + line) }
                    c.line("}")
                    if !inside.isEmpty { c.line("else") }
                    if !inside.isEmpty { c.block("for (mcu_index_t ky = 0; ky < \(kh); ky++, p += \(row))") { c in
                        c.line("int16_t iy = (int16_t)(iy0 + (int16_t)ky);")
                        if rowsPadded {
                            c.line("if (iy < 0 || iy >= \(h)) { \(zero) continue; }")
                        }
                        c.line("const int8_t *xr = &\(x)[(mcu_offset_t)((iy * \(wd) + ix0 + kx0) * \(ch))];")
                        if columnsPadded {
                            c.line("if (kx0 == 0 && kx1 == \(kw)) { \(copy) continue; }")
                            c.line(zero)
                            c.line("for (uint8_t i = (uint8_t)(kx0 * \(ch)); i < (uint8_t)(kx1 * \(ch)); i++) p[i] = *xr++;")
                        } else {
                            c.line(copy)
                        }
                    } }
                    if interleaved, outputs >= 4 {
                        // With the DSP extension each block of four filters is written out group by
                        // group over the patch (constant offsets, the sums in registers): `mcu_x4i_group`.
                        runtime.patchBlocks = true
                        let groups = size / 4, r = size % 4, base = groups * 16
                        blockedFilters(outputs: outputs, accType: t, initial: initialAt, rq: rq, walked: (weights, bias, size), into: &c) { c in
                            if groups > 0 { c.line("uint32_t xv;") }
                            for g in 0..<groups {
                                c.line("memcpy(&xv, &\(patch)[\(4 * g)], 4); mcu_x4i_group(s, &wb[\(16 * g)], __sxtb16(xv), mcu_sxtb16_ror8(xv));")
                            }
                            for i in 0..<r {
                                c.line("{ const int16_t v = \(patch)[\(groups * 4 + i)]; "
                                       + (0..<4).map { "s[\($0)] += (int16_t)(wb[\(base + $0 * r + i)] * v);" }.joined(separator: " ") + " }")
                            }
                        }
                    } else {
                        noteBlocks(outputs: outputs, interleaved: interleaved)
                        blockedFilters(outputs: outputs, accType: t, initial: initialAt, rq: rq, carried: interleaved ? weights : nil, into: &c) { c in
                            if interleaved {
                                c.line("wb = mcu_dot8x4i(s, wb, \(patch), \(size));")
                            } else {
                                c.line("mcu_dot8x4(s, &\(weights)[(mcu_index_t)(o * \(size)u)], \(size), \(patch), \(size));")
                            }
                        }
                    }
                    c.block("for (\(outputs >= 4 ? "" : "mcu_index_t o = 0"); o < \(outputs); o++)") { c in
                        c.line("\(t) acc = mcu_dot8_a\(dot)(\(initial), &\(weights)[(mcu_index_t)(o * \(size)u)], \(patch), \(size));")
                        c.line("*yp++ = \(rq);")
                    }
                } else {
                    c.line("uint16_t n = (uint16_t)((kx1 - kx0) * \(ch));")
                    let rowRead = "&\(x)[(mcu_offset_t)((iy * \(wd) + ix0 + kx0) * \(ch))]"
                    if layout?.widened == true, outputs >= 4 { runtime.widenedBlocks = true } else { noteBlocks(outputs: outputs, interleaved: interleaved) }
                    blockedFilters(outputs: outputs, accType: t, initial: initialAt, rq: rq, into: &c) { c in
                        c.block("for (mcu_index_t ky = 0; ky < \(kh); ky++)") { c in
                            c.line("int16_t iy = (int16_t)(iy0 + (int16_t)ky);")
                            if rowsPadded { c.line("if (iy < 0 || iy >= \(h)) continue;") }
                            if layout?.widened == true {
                                // The same segment, widened to int16 (`mcu_dot16x4i`).
                                c.line("mcu_dot16x4i(s, &\(weights)[(mcu_index_t)(o * \(kh * kw * ch)u + ky * \(4 * kw * ch)u + kx0 * \(4 * ch))], \(rowRead), n);")
                            } else if interleaved {
                                // Each block's kernel row ky is one interleaved segment (RowInterleaving).
                                c.line("mcu_dot8x4i(s, &\(weights)[(mcu_index_t)(o * \(kh * kw * ch)u + ky * \(4 * kw * ch)u + kx0 * \(4 * ch))], \(rowRead), n);")
                            } else {
                                c.line("mcu_dot8x4(s, &\(weights)[(mcu_index_t)(o * \(kh * kw * ch)u + ky * \(kw * ch)u + kx0 * \(ch))], \(kh * kw * ch), \(rowRead), n);")
                            }
                        }
                    }
                    // Widened weights are int16 under the DSP extension, where every filter is in a block.
                    if layout?.widened == true { c.line("#if !defined(__ARM_FEATURE_DSP)") }
                    defer { if layout?.widened == true { c.line("#endif") } }
                    c.block("for (\(outputs >= 4 ? "" : "mcu_index_t o = 0"); o < \(outputs); o++)") { c in
                        c.line("\(t) acc = \(initial);")
                        c.block("for (mcu_index_t ky = 0; ky < \(kh); ky++)") { c in
                            c.line("int16_t iy = (int16_t)(iy0 + (int16_t)ky);")
                            if rowsPadded { c.line("if (iy < 0 || iy >= \(h)) continue;") }
                            c.line("acc = mcu_dot8_a\(dot)(acc, &\(weights)[(mcu_index_t)(o * \(kh * kw * ch)u + ky * \(kw * ch)u + kx0 * \(ch))], \(rowRead), n);")
                        }
                        c.line("*yp++ = \(rq);")
                    }
                }
            }
        }
    }

    /// The most blocks of four filters over a gathered patch that are written out one after another
    /// rather than looped over (`blockedFilters`).
    public static let writtenOutBlocks = 4

    /// The indices of the four outputs of a block (`blockedFilters`), as the bias is read with them.
    static let blockIndices = ["o", "(mcu_index_t)(o + 1u)", "(mcu_index_t)(o + 2u)", "(mcu_index_t)(o + 3u)"]

    /// With the DSP extension, filters (or rows of W) four at a time (`mcu_dot8x4i` or `mcu_dot8x4`,
    /// which `sums` writes to add into `s` for the filters `o`..`o + 3`), each sum starting from its
    /// bias (`initial`, by output index) and stored through `store` (by output index; `*yp++` by
    /// default), written out for the four. The loop that follows takes the rest from `o`. Nothing
    /// for fewer than four. `carried`: int8 weights that `sums` walks as `wb`, block after block,
    /// with the pointer `mcu_dot8x4i` returns (one register for the weights across the blocks).
    private mutating func blockedFilters(outputs: Int, accType t: String, initial: (String) -> String, rq: String,
                                         store: (String) -> String = { _ in "*yp++" }, walked: (weights: String, bias: (name: String, type: String)?, size: Int)? = nil,
                                         carried: String? = nil, into c: inout CWriter, sums: (inout CWriter) -> Void) {
        guard outputs >= 4 else { return }
        c.line("mcu_index_t o = 0;")
        c.line("#if defined(__ARM_FEATURE_DSP)")
        if let weights = carried { c.line("const int8_t *wb = \(weights);") }
        var initials = Self.blockIndices.map { initial($0).hasPrefix("(int32_t)") ? initial($0) : "(int32_t)\(initial($0))" }
        var heads = ["for (; o < \(outputs / 4 * 4)u; o = (mcu_index_t)(o + 4u))"]
        if walked != nil, outputs / 4 <= Self.writtenOutBlocks {
            // Up to four blocks written out, each with its filter index a constant (its weights'
            // and bias's addresses too): measured 14 cycles a block less than the loop.
            heads = (0..<outputs / 4).map { "for (o = \($0 * 4)u; o < \($0 * 4 + 1)u; o = \(($0 + 1) * 4)u)" }
        } else if let walk = walked {
            // Weights and bias walked by pointers (`wb`, `bp`) a block at a time: no index arithmetic per block.
            if let b = walk.bias { c.line("const \(b.type) *bp = \(b.name);") }
            heads = ["for (const int8_t *wb = \(walk.weights); o < \(outputs / 4 * 4)u; o = (mcu_index_t)(o + 4u), wb += \(4 * walk.size)\(walk.bias == nil ? "" : ", bp += 4"))"]
            if let b = walk.bias {
                for (j, index) in Self.blockIndices.enumerated() { initials[j] = initials[j].replacingOccurrences(of: "&\(b.name)[\(index)]", with: "&bp[\(j)]") }
            }
        }
        let written = heads.count > 1 || (walked != nil && outputs / 4 == 1)
        for head in heads {
            c.block(head) { c in
                c.line("int32_t s[4] = {" + initials.joined(separator: ", ") + "};")
                if let walk = walked, written { c.line("const int8_t *wb = &\(walk.weights)[(mcu_index_t)(o * \(walk.size)u)];") }
                sums(&c)
                for (j, index) in Self.blockIndices.enumerated() {
                    c.line("{ const \(t) acc = (\(t))s[\(j)]; \(store(index)) = \(rq); }")
                }
            }
        }
        c.line("#endif")
    }

    /// Notes for the runtime which kernel the blocks of `blockedFilters` call.
    private mutating func noteBlocks(outputs: Int, interleaved: Bool) {
        guard outputs >= 4 else { return }
        if interleaved { runtime.interleavedBlocks = true } else { runtime.rowBlocks = true }
    }

    /// The accumulator width of `mcu_dot8_aN` for this linear node, noted for the runtime.
    private mutating func dot8(_ plan: Kernel.Linear, step: FixedStep) -> Int? {
        guard specialised, let bits = Self.dot8Width(plan, step: step, program: program, far: far) else { return nil }
        runtime.dots.insert(bits)
        return bits
    }

    /// Whether two tensors live in one arena buffer (an in-place elementwise output and its input).
    private func sharesBuffer(_ a: String, _ b: String) -> Bool {
        arena.buffers.contains { $0.tensors.contains(a) && $0.tensors.contains(b) }
    }

    /// Whether a convolution emitted with dot products copies each window into a patch first: when
    /// its kernel rows are under 8 bytes and the window at most 64.
    public static func gathersPatches(window: Window, input: Shape) -> Bool {
        let ch = input.dims[2]
        return window.kernelWidth * ch < 8 && window.kernelHeight * window.kernelWidth * ch <= 64
    }

    /// Whether a convolution emitted with dot products over kernel rows (not `gathersPatches`) has
    /// its weights interleaved by kernel row (`RowInterleaving`): when a row narrowed by padding
    /// still starts and ends on whole groups of four columns (C a multiple of 4, or no padding of
    /// the columns).
    public static func interleavesKernelRows(window: Window, input: Shape) -> Bool {
        !gathersPatches(window: window, input: input) && (input.dims[2] % 4 == 0 || window.padLeft + window.padRight == 0)
    }

    /// Whether the interleaved kernel rows of a convolution (`interleavesKernelRows`) of `filters`
    /// filters are stored widened to int16 (`RowInterleaving.Layout.widened`, `mcu_dot16x4i`).
    public static func widensKernelRows(filters: Int) -> Bool {
        filters % 4 == 0
    }

    /// The weight and bias arrays that gcc folds into the code under the DSP extension: those of a
    /// convolution over gathered patches whose blocks of four filters are all written out
    /// (`blockedFilters`: at most `writtenOutBlocks`, no filter left to the loop after them), every
    /// read at a constant offset, so gcc loads the values as literals and drops the arrays. Their
    /// bytes are in the node's code, not among the constants (measured: DSCNN's first convolution,
    /// 72 B of weights and 8 of bias absent from the firmware's symbols, priced twice before).
    public static func foldedConstants(of program: FixedProgram) -> Set<String> {
        let far = farConstants(of: program)
        return foldedConstants(of: program, interleaved: RowInterleaving.weights(of: program, far: far, streams: FourRowStream.streams(of: program, far: far)))
    }

    private static func foldedConstants(of program: FixedProgram, interleaved: [String: RowInterleaving.Layout]) -> Set<String> {
        var folded = Set<String>()
        for step in program.allSteps {
            guard case let .linear(plan) = step.kernel, case let .conv2D(window, input) = plan.shape,
                  gathersPatches(window: window, input: input), interleaved[plan.weights] != nil,
                  let filters = program.constants[plan.weights]?.shape.dims.first,
                  filters >= 4, filters % 4 == 0, filters / 4 <= writtenOutBlocks else { continue }
            folded.insert(plan.weights)
            if let b = plan.bias { folded.insert(b) }
        }
        return folded
    }

    /// The bytes the DSP extension's layouts add to a program's constant arrays at their own
    /// widths, found in one pass (the cost model prices each candidate's flash): interleaved weights
    /// widened to int16 (`RowInterleaving`), dense layers as streams (`FourRowStream`), less the
    /// arrays gcc folds into code (`foldedConstants`).
    public static func dspConstantBytes(of program: FixedProgram) -> Int {
        let far = farConstants(of: program)
        let streams = FourRowStream.streams(of: program, far: far)
        let interleaved = RowInterleaving.weights(of: program, far: far, streams: streams)
        let widened = interleaved.filter(\.value.widened).keys.reduce(0) { $0 + (program.constants[$1]?.values.count ?? 0) }
        let folded = foldedConstants(of: program, interleaved: interleaved).reduce(0) { total, name in
            total + (program.constants[name].map { $0.values.count * $0.format.bits / 8 } ?? 0)
        }
        return widened + FourRowStream.extraBytes(of: program, streams: streams) - folded
    }

    /// Whether a dot-product node's 8-bit bias is shifted as an int16 before it is widened to the
    /// 32-bit accumulator (a shift of 1 to 7 bits keeps it within 16).
    public static func shiftsBiasIn16Bits(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Bool {
        guard let b = plan.bias, plan.accBits == 32, (1...7).contains(plan.biasShift), program.constants[b]?.format.bits == 8 else { return false }
        return dot8Width(plan, step: step, program: program, far: far) != nil || depthwiseWidth(plan, step: step, program: program, far: far) != nil
            || shortRowLength(plan, step: step, program: program, far: far) != nil
    }

    /// The longest row of 8-bit weights a dense node writes out product by product.
    public static let shortRowLimit = 8

    /// The row length k of a dense node of 8-bit near weights and 8-bit input whose rows are at most
    /// `shortRowLimit` long and whose accumulator is int16: its products (each an int16, |w·x| <=
    /// 2^14) are written out in C, the inputs held in locals. Nil otherwise. (With a 32-bit
    /// accumulator the AVR assembly of `mcu_dot8_a24` was faster even on rows of 4 to 8, measured.)
    public static func shortRowLength(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Int? {
        guard case .dense = plan.shape, let w = program.constants[plan.weights], w.format.bits == 8, step.inputs.first?.bits == 8,
              !far.contains(plan.weights), plan.accBits == 16, let k = w.shape.dims.last, k <= shortRowLimit else { return nil }
        return k
    }

    /// The accumulator width (16 or 24) of the 8-bit dot product a dense or convolution node is
    /// emitted with (`mcu_dot8_aN`), or nil when its weights or input are not 8-bit, its weights are
    /// far, or its proven bound needs all 32 bits (then the loop is plain C).
    public static func dot8Width(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Int? {
        if case .depthwiseConv2D = plan.shape { return nil }
        if shortRowLength(plan, step: step, program: program, far: far) != nil { return nil }
        guard program.constants[plan.weights]?.format.bits == 8, step.inputs.first?.bits == 8, !far.contains(plan.weights) else { return nil }
        switch plan.accBits {
        case 16: return 16
        case 32 where plan.bound < 8_388_608: return 24
        default: return nil
        }
    }

    /// `int32_t t` = the table at position `p` (non-negative, below 2^16) with `g` fractional bits
    /// below the grid, as `ActivationTables.lookup` defines it, with every shift and mask a constant
    /// of this node (no shift by a variable, which an AVR would loop over bit by bit).
    private func lookup(table: String, values: [Int64], g: Int, into c: inout CWriter) {
        let last = ActivationTables.gridEntries - 1
        let read = { (index: String) in "(int32_t)MCU_R16(&\(table)[\(index)])" }
        if g <= 0 {
            let k = -g
            if k >= 8 {
                c.line("int32_t t = p == 0 ? \(read("0")) : \(read("\(last)"));")
            } else {
                // p << k reaches the last entry once p >= ceil(last / 2^k).
                c.line("int32_t t = p >= \((last + (1 << k) - 1) >> k)u ? \(read("\(last)")) : \(read("(uint16_t)(p << \(k))"));")
            }
            return
        }
        if g >= 16 {
            // Every position lies in the first grid step.
            c.line("uint16_t fraction = p;")
        } else {
            c.line("uint16_t index = (uint16_t)(p >> \(g));")
            c.line("if (index >= \(last)u) index = \(last);")
            c.line("uint16_t fraction = (uint16_t)(p & \((1 << g) - 1)u);")
        }
        let used = min(g, ActivationTables.interpolationBits)
        if g > ActivationTables.interpolationBits {
            let narrow = g - ActivationTables.interpolationBits
            c.line(narrow >= 16 ? "fraction = 0;" : "fraction = (uint16_t)(fraction >> \(narrow));")
        }
        let index = g >= 16 ? "0" : "index"
        let byteProducts = specialised && Self.risesByAtMost16Bits(values)
        if byteProducts {
            // The step to the next entry d = hi - lo is 0..2^16-1 (the table rises) and the fraction
            // f is below 2^used <= 256. With d = 256 dh + dl and r = 2^(used-1),
            // d f + r = 2^used (2^(8-used) dh f) + (dl f + r), so (d f + r) >> used is
            // (dh f << (8 - used)) + ((dl f + r) >> used) exactly: two 8 x 8-bit products in 16 bits
            // (one MUL each on AVR) for the 32-bit multiply whose library call and callee-saved
            // registers grew a fused loop's stack. The sum is at most d: no part overflows. A
            // Cortex-M multiplies 32 bits in one instruction: it keeps the one product
            // (`MCU_BYTE_PRODUCTS`, which a host test may define).
            c.line("#if defined(MCU_BYTE_PRODUCTS)")
            c.line("const int16_t lo = MCU_R16(&\(table)[\(index)]);")
            let next = g >= 16 ? "(uint16_t)(MCU_R16(&\(table)[1]) - lo)" : "index == \(last)u ? 0u : (uint16_t)(MCU_R16(&\(table)[index + 1]) - lo)"
            c.line("const uint16_t d = \(next);")
            c.line("const uint8_t f = (uint8_t)fraction;")
            c.line("const uint16_t high = (uint16_t)((uint16_t)(uint8_t)(d >> 8) * f), low = (uint16_t)((uint16_t)(uint8_t)d * f);")
            c.line("int32_t t = (int32_t)lo + (int32_t)(uint16_t)((uint16_t)(high << \(8 - used)) + (uint16_t)((uint16_t)(low + \(1 << (used - 1))u) >> \(used)));")
            c.line("#else")
        }
        defer { if byteProducts { c.line("#endif") } }
        c.line("int32_t lo = \(read(index));")
        if g < 16 {
            c.line("int32_t t = index == \(last)u ? lo : lo + (((\(read("\(index) + 1")) - lo) * (int32_t)fraction + INT32_C(\(1 << (used - 1)))) >> \(used));")
        } else {
            c.line("int32_t t = lo + (((\(read("1")) - lo) * (int32_t)fraction + INT32_C(\(1 << (used - 1)))) >> \(used));")
        }
    }

    /// Whether a table never falls from one entry to the next and rises by less than 2^16, its
    /// entries within int16: the interpolation's step then fits 16 unsigned bits (`lookup`).
    static func risesByAtMost16Bits(_ values: [Int64]) -> Bool {
        guard values.allSatisfy({ (0...32767).contains($0) }) else { return false }
        return zip(values, values.dropFirst()).allSatisfy { $1 - $0 >= 0 && $1 - $0 < 65536 }
    }

    /// A pooling loop nest: `FIRST` in `start` is the window's first input index, `AT` in `update`
    /// the current one, and `OUT` in the `finish` lines the output element.
    /// Whether a max pool is emitted four channels a word with the DSP extension (`mcu_max8x4`):
    /// int8 in and out, no shift, a channel count a multiple of 4, no padding.
    public static func maxPoolsByWords(_ step: FixedStep) -> Bool {
        guard case let .maxPool(window, input, shift) = step.kernel, shift == 0, step.inputs.first?.bits == 8, step.output.bits == 8,
              input.dims.count == 3, input.dims[2] % 4 == 0,
              window.padTop + window.padLeft + window.padBottom + window.padRight == 0 else { return false }
        return true
    }

    /// A max pool four channels at a time: per output pixel and word of channels, the window's
    /// words (constant offsets from the pixel's first) folded by `mcu_max8x4`, the result stored as a
    /// word. Every value read and written is the one the per-channel loop reads and writes.
    private func maxPoolByWords(window: Window, input: Shape, x: String, y: String, into c: inout CWriter) {
        let (wd, ch) = (input.dims[1], input.dims[2])
        let out = window.outputSize(height: input.dims[0], width: wd) ?? (0, 0)
        c.block("for (mcu_index_t oy = 0; oy < \(out.height); oy++)") { c in
            c.block("for (mcu_index_t ox = 0; ox < \(out.width); ox++)") { c in
                c.line("const int8_t *xw = &\(x)[((oy * \(window.strideHeight)) * \(wd) + ox * \(window.strideWidth)) * \(ch)];")
                c.line("int8_t *yw = &\(y)[(oy * \(out.width) + ox) * \(ch)];")
                c.block("for (mcu_index_t ch = 0; ch < \(ch); ch = (mcu_index_t)(ch + 4u))") { c in
                    c.line("uint32_t m, v;")
                    c.line("memcpy(&m, &xw[ch], 4);")
                    for ky in 0..<window.kernelHeight {
                        for kx in 0..<window.kernelWidth where ky + kx > 0 {
                            c.line("memcpy(&v, &xw[\((ky * wd + kx) * ch) + ch], 4); m = mcu_max8x4(m, v);")
                        }
                    }
                    c.line("memcpy(&yw[ch], &m, 4);")
                }
            }
        }
    }

    private func pool(window: Window, input: Shape, x input0: String, inputType: String, y: String, into c: inout CWriter,
                      start: String, update: String, finish: [String]) {
        let (wd, ch) = (input.dims[1], input.dims[2])
        let out = window.outputSize(height: input.dims[0], width: wd) ?? (0, 0)
        // Specialised: the window's first element is found once per output pixel, and every tap is a
        // constant offset from it (the window loops have constant bounds, so the compiler unrolls them).
        let base = "((oy * \(window.strideHeight)) * \(wd) + ox * \(window.strideWidth)) * \(ch)"
        let at = specialised ? "(ky * \(wd) + kx) * \(ch) + ch" : "((oy * \(window.strideHeight) + ky) * \(wd) + ox * \(window.strideWidth) + kx) * \(ch) + ch"
        let first = specialised ? "ch" : "((oy * \(window.strideHeight)) * \(wd) + ox * \(window.strideWidth)) * \(ch) + ch"
        // The kernel's reads of the input go through the pixel's base pointer.
        let start = specialised ? start.replacingOccurrences(of: "\(input0)[", with: "xw[") : start
        let update = specialised ? update.replacingOccurrences(of: "\(input0)[", with: "xw[") : update
        let target = "\(y)[(oy * \(out.width) + ox) * \(ch) + ch]"
        c.block("for (mcu_index_t oy = 0; oy < \(out.height); oy++)") { c in
            c.block("for (mcu_index_t ox = 0; ox < \(out.width); ox++)") { c in
                if specialised { c.line("const \(inputType) *xw = &\(input0)[\(base)];") }
                c.block("for (mcu_index_t ch = 0; ch < \(ch); ch++)") { c in
                    c.line(start.replacingOccurrences(of: "FIRST", with: first))
                    c.line("for (mcu_index_t ky = 0; ky < \(window.kernelHeight); ky++)")
                    c.line("    for (mcu_index_t kx = 0; kx < \(window.kernelWidth); kx++) \(update.replacingOccurrences(of: "AT", with: at))")
                    for line in finish { c.line(line.replacingOccurrences(of: "OUT", with: target)) }
                }
            }
        }
    }
}
import Foundation
