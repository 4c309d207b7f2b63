import FixedPoint
import Foundation
import ModelIR

/// Emits a fixed-point program as self-contained C99: `model.h` with the API and `model.c` with
/// the weights in flash, one static arena, and one function per node with its shapes, formats and
/// shifts as constants. No dynamic allocation, no interpretation at run time, no floating point.
public struct CEmitter {
    public static let toolVersion = "0.1.0"

    let program: FixedProgram
    /// Calibration builds mark every node and every piece of API glue for the simulator (and one
    /// empty pair first in each API call, which measures the marks themselves).
    let marksPieces: Bool
    let arena: ArenaPlan
    var ids = CIdentifiers(prefix: "mcu")
    var runtime = CRuntime()
    /// Whether kernels are specialised (`mcu_dot8_aN`, `DirectLookup` tables); without, every node
    /// is the plain C loop of its semantics: the baseline `tune bench --kernels` measures against.
    let specialised: Bool
    /// Flash of the nodes' own tables (`DirectLookup`), counted as their nodes are emitted.
    var lookupTableBytes = 0
    /// The `DirectLookup` tables emitted so far, by `DirectLookup.key`: a node whose table is one of
    /// them reads that one.
    var lookupTables: [String: String] = [:]
    let indexType: String
    let functionNames: [String: String]
    /// View outputs -> the tensor whose buffer they share.
    let views: [String: String]
    /// Constant arrays read through `MCU_FAR_R*` (see `farConstants(of:)`).
    let far: Set<String>
    /// Runs of elementwise nodes emitted as one loop (specialised only).
    let groups: [ElementwiseFusion.Group]
    /// Weight arrays stored by blocks of four interleaved rows under the DSP extension, with their
    /// row length (`RowInterleaving`; specialised only).
    let interleaved: [String: RowInterleaving.Layout]
    /// Dense layers emitted as streams of blocks of four rows under the DSP extension, by weight
    /// array (`FourRowStream`; specialised only).
    let streams: [String: FourRowStream]
    /// The biases the streams read: no array of their own under `MCU_DSP_STREAM`.
    let streamedBiases: Set<String>
    /// Muls of an int16 and an int8 value emitted as `mcu_mul16x8_rq8_S` (`MixedProduct`; specialised only).
    let mixedProducts: [String: (shift: Int, wideFirst: Bool)]

    public init(program: FixedProgram, marksPieces: Bool = false, specialised: Bool = true) {
        self.program = program
        self.marksPieces = marksPieces
        self.specialised = specialised
        self.functionNames = Self.nodeFunctionNames(of: program)
        self.views = Dictionary(uniqueKeysWithValues: program.allSteps.compactMap { step in
            if case .alias = step.kernel, let input = step.node.inputs.first { return (step.node.output, input) }
            return nil
        })
        self.far = Self.farConstants(of: program)
        self.groups = specialised ? ElementwiseFusion.groups(program, far: far) : []
        self.streams = specialised ? FourRowStream.streams(of: program, far: far) : [:]
        self.interleaved = specialised ? RowInterleaving.weights(of: program, far: far, streams: streams) : [:]
        self.streamedBiases = Set(streams.values.compactMap(\.bias))
        self.mixedProducts = specialised ? MixedProduct.products(of: program, groups: groups) : [:]
        self.arena = ArenaPlan(program: program, fusing: specialised)
        let largest = max(program.constants.values.map(\.values.count).max() ?? 0,
                          program.graph.shapes.values.map(\.elementCount).max() ?? 0, arena.bytes)
        self.indexType = largest < 32_768 ? "uint16_t" : "uint32_t"
    }

    /// The C function of each node (`MCU_NODE`), by node name: its symbol in the firmware.
    public static func nodeFunctionNames(of program: FixedProgram) -> [String: String] {
        var functions = CIdentifiers(prefix: "mcu_node")
        return Dictionary(uniqueKeysWithValues: program.allSteps.map { ($0.node.name, functions.name($0.node.name)) })
    }

    /// avr-gcc refuses any object over 32,767 bytes, and `pgm_read_*` reaches only the first 64 KB
    /// of flash, where the vectors, tables and the firmware's samples must also lie. So, largest
    /// first, an array over 32,767 bytes, or any while the near ones would exceed 32 KB, is "far":
    /// on AVR it is written in assembly into a `.text.*` section (no size limit, placed after the
    /// code, beyond the near data) and read at a 24-bit address with `pgm_read_*_far` where the
    /// chip has more than 64 KB of flash (`RAMPZ`), at a 16-bit one where it has not. Elsewhere a
    /// far array is an ordinary one. Most programs have none, and their C does not change.
    public static func farConstants(of program: FixedProgram) -> Set<String> {
        let arrays = flashConstants(of: program).compactMap { name in
            program.constants[name].map { (name: name, bytes: $0.values.count * $0.format.bits / 8) }
        }.sorted { ($0.bytes, $1.name) > ($1.bytes, $0.name) }
        var near = arrays.reduce(0) { $0 + $1.bytes }
        var far = Set<String>()
        for array in arrays where array.bytes > 32_767 || near > 32_768 {
            far.insert(array.name)
            near -= array.bytes
        }
        return far
    }

    var isRecurrent: Bool { program.graph.input.isSequence }

    public mutating func emit() -> EmittedProgram {
        var nodes = CWriter()
        for step in program.steps {
            if case let .loop(plan) = step.kernel {
                for inner in plan.body { emitNode(inner, into: &nodes) }
            } else {
                emitNode(step, into: &nodes)
            }
        }
        var api = CWriter()
        emitAPI(into: &api)

        var c = CWriter()
        c.line("/* model.c: generated by mcutune \(Self.toolVersion) from model '\(program.graph.name)', config \(program.config.fingerprint). */")
        c.line("/* Fixed point throughout: a tensor of format Qf holds round(value * 2^f). See docs/fixed-point.md. */")
        c.line("#include <stdint.h>")
        c.line("#include \"model.h\"")
        c.line()
        c.line("#if defined(__AVR__)")
        c.line("#include <avr/pgmspace.h>")
        c.line("#define MCU_FLASH PROGMEM")
        c.line("#define MCU_R8(p) ((int8_t)pgm_read_byte(p))")
        c.line("#define MCU_R16(p) ((int16_t)pgm_read_word(p))")
        c.line("#else")
        c.line("#define MCU_FLASH")
        c.line("#define MCU_R8(p) (*(p))")
        c.line("#define MCU_R16(p) (*(p))")
        c.line("#endif")
        c.line("/* A node is a function of its own, never inlined into model_predict: its code then does not depend on")
        c.line("   the nodes around it (registers, scheduling), so it costs what the cost model measured it to cost alone. */")
        c.line("#if defined(__GNUC__)")
        c.line("#define MCU_NODE static __attribute__((noinline)) void")
        c.line("#else")
        c.line("#define MCU_NODE static void")
        c.line("#endif")
        c.line("/* gcc makes a state's reset loop a call to memset for some state sizes and not others (newlib's")
        c.line("   is 162 B on a Cortex-M4, the loop 12-20 B): the loop stays a loop, whatever the sizes. */")
        c.line("#if defined(__GNUC__) && !defined(__clang__)")
        c.line("#define MCU_NO_LIBCALLS __attribute__((optimize(\"no-tree-loop-distribute-patterns\")))")
        c.line("#else")
        c.line("#define MCU_NO_LIBCALLS")
        c.line("#endif")
        c.line("/* Loops over several arrays (a fused elementwise run, the copies of states): avr-gcc's induction")
        c.line("   variables give each array a pointer of its own, two registers apiece, so the loop's values spill")
        c.line("   to the stack, and the frame depends on where the arena put the arrays. One index instead keeps")
        c.line("   such a frame no larger than a plain node's, whatever the layout. */")
        c.line("#if defined(__GNUC__) && !defined(__clang__) && defined(__AVR__)")
        c.line("#define MCU_ONE_INDEX __attribute__((optimize(\"no-ivopts\")))")
        c.line("#else")
        c.line("#define MCU_ONE_INDEX")
        c.line("#endif")
        c.line("/* A table lookup by element stays a loop of one element a turn: on the Cortex-M4/M7, gcc's vectorizer took eight")
        c.line("   a turn in general registers, twelve of them, and a 32-byte frame where plain C's is 20 bytes. */")
        c.line("#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_FEATURE_DSP)")
        c.line("#define MCU_SCALAR __attribute__((optimize(\"no-tree-vectorize\")))")
        c.line("#else")
        c.line("#define MCU_SCALAR")
        c.line("#endif")
        c.line("/* Sigmoid and tanh interpolate by two 8 x 8-bit products where a 32-bit multiply is a library call. */")
        c.line("#if defined(__AVR__) && !defined(MCU_BYTE_PRODUCTS)")
        c.line("#define MCU_BYTE_PRODUCTS")
        c.line("#endif")
        c.line()
        if !far.isEmpty {
            c.line("/* Far arrays (too large for one avr-gcc object, or beyond the first 64 KB of flash): a base and an element index. */")
            c.line("#if defined(__AVR__) && defined(RAMPZ)")
            c.line("typedef uint32_t mcu_far_t;")
            c.line("#define MCU_FAR(a) pgm_get_far_address(a)")
            c.line("#define MCU_FAR_R8(p, i) ((int8_t)pgm_read_byte_far((p) + (uint32_t)(i)))")
            c.line("#define MCU_FAR_R16(p, i) ((int16_t)pgm_read_word_far((p) + 2u * (uint32_t)(i)))")
            c.line("#elif defined(__AVR__)")
            c.line("typedef uint16_t mcu_far_t;")
            c.line("#define MCU_FAR(a) ((uint16_t)(a))")
            c.line("#define MCU_FAR_R8(p, i) ((int8_t)pgm_read_byte((uint16_t)((p) + (uint16_t)(i))))")
            c.line("#define MCU_FAR_R16(p, i) ((int16_t)pgm_read_word((uint16_t)((p) + 2u * (uint16_t)(i))))")
            c.line("#else")
            c.line("typedef const void *mcu_far_t;")
            c.line("#define MCU_FAR(a) ((const void *)(a))")
            c.line("#define MCU_FAR_R8(p, i) (((const int8_t *)(p))[i])")
            c.line("#define MCU_FAR_R16(p, i) (((const int16_t *)(p))[i])")
            c.line("#endif")
            c.line()
        }
        c.line("typedef \(indexType) mcu_index_t;")
        c.line("typedef \(indexType == "uint16_t" ? "int16_t" : "int32_t") mcu_offset_t;")
        c.line()
        if marksPieces {
            c.line("/* Calibration build: every node and piece of glue is marked for the simulator. */")
            c.line("#if defined(__AVR__)")
            c.line("#include <avr/io.h>")
            c.line("/* The memory clobbers keep the compiler from moving a node's loads and stores across a mark. */")
            c.line("#define MCU_PIECE_BEGIN() do { __asm__ __volatile__(\"\" ::: \"memory\"); GPIOR1 = 3; __asm__ __volatile__(\"\" ::: \"memory\"); } while (0)")
            c.line("#define MCU_PIECE_END() do { __asm__ __volatile__(\"\" ::: \"memory\"); GPIOR1 = 4; __asm__ __volatile__(\"\" ::: \"memory\"); } while (0)")
            c.line("#else")
            c.line("void mcu_node_begin(void);")
            c.line("void mcu_node_end(void);")
            c.line("#define MCU_PIECE_BEGIN() mcu_node_begin()")
            c.line("#define MCU_PIECE_END() mcu_node_end()")
            c.line("#endif")
            c.line()
        }
        runtime.emit(into: &c)
        c.line()
        let constantBytes = emitConstants(into: &c)
        c.line()
        emitArena(into: &c)
        c.line()
        c.raw(nodes.text)
        c.raw(api.text)
        return EmittedProgram(header: header(), source: c.text, arena: arena,
                              constantBytes: constantBytes + tableBytes + lookupTableBytes, isRecurrent: isRecurrent)
    }

    private var tableBytes: Int {
        (runtime.sigmoid ? 2 * ActivationTables.gridEntries : 0) + (runtime.tanh ? 2 * ActivationTables.gridEntries : 0)
            + (runtime.exp ? 2 * ActivationTables.exp2.count : 0)
    }

    // MARK: Header

    private func header() -> String {
        let input = program.inputFormat, output = program.outputFormat
        let inputSize = program.graph.input.shape.elementCount
        let outputSize = program.graph.outputShape.elementCount
        var h = CWriter()
        h.line("/* model.h: generated by mcutune \(Self.toolVersion) from model '\(program.graph.name)', config \(program.config.fingerprint). */")
        h.line("#ifndef MODEL_H")
        h.line("#define MODEL_H")
        h.line()
        h.line("#include <stdint.h>")
        h.line()
        h.line("/* Input: \(inputSize) values\(isRecurrent ? " per timestep" : ""), \(input): pass round(x * 2^\(input.fracBits)) saturated. */")
        h.line("#define MODEL_INPUT_SIZE \(inputSize)")
        h.line("#define MODEL_INPUT_FRAC_BITS \(input.fracBits)")
        h.line("typedef int\(input.bits)_t model_input_t;")
        h.line("/* Output: \(outputSize) values, \(output)\(program.graph.outputsClassIndex ? " (the class index)" : ""). */")
        h.line("#define MODEL_OUTPUT_SIZE \(max(outputSize, 1))")
        h.line("#define MODEL_OUTPUT_FRAC_BITS \(output.fracBits)")
        h.line("typedef int\(output.bits)_t model_output_t;")
        h.line("/* Bytes of the static arena that holds every activation. */")
        h.line("#define MODEL_ARENA_BYTES \(arena.bytes)")
        h.line()
        h.modelAPI(recurrent: isRecurrent)
        h.line()
        h.line("#endif")
        return h.text
    }

    // MARK: Constants and arena

    private mutating func emitConstants(into c: inout CWriter) -> Int {
        var bytes = 0
        let arrays = Self.flashConstants(of: program)
        let rounded = specialised ? RoundedAddend.constants(of: program) : [:]
        for name in program.constants.keys.sorted() where arrays.contains(name) {
            guard var q = program.constants[name] else { continue }
            let id = ids.name(name)
            bytes += q.values.count * q.format.bits / 8
            let note = rounded[name] == nil ? "" : ", stored as its rounded addends (RoundedAddend)"
            if let values = rounded[name] { q.values = values }
            c.line("/* \(name): \(q.shape), \(q.format)\(far.contains(name) ? ", far" : "")\(note). */")
            if far.contains(name) {
                c.line("#if defined(__AVR__)")
                c.line("__asm__(\".pushsection .text.\(id),\\\"a\\\",@progbits\\n\"")
                c.line("        \".p2align 1\\n\"")
                c.line("        \"\(id):\\n\"")
                for chunk in stride(from: 0, to: q.values.count, by: 16) {
                    c.line("        \"\(q.format.bits == 8 ? ".byte" : ".word") " + q.values[chunk..<min(chunk + 16, q.values.count)].map(String.init).joined(separator: ", ") + "\\n\"")
                }
                c.line("        \".popsection\\n\");")
                c.line("extern const int\(q.format.bits)_t \(id)[];")
                c.line("#else")
            }
            if let stream = streams[name] {
                c.line("#if defined(MCU_DSP_STREAM)")
                c.line("/* Blocks of four rows, each its four initial sums and its weights widened to int16 pairs (FourRowStream). */")
                let words = stream.words(weights: q.values, bias: stream.bias.flatMap { program.constants[$0]?.values })
                c.line("static const uint32_t \(id)[\(words.count)] = {")
                for chunk in stride(from: 0, to: words.count, by: 8) {
                    c.line("    " + words[chunk..<min(chunk + 8, words.count)].map { String(format: "0x%08xu", $0) }.joined(separator: ", ") + ",")
                }
                c.line("};")
                c.line("#else")
            } else if streamedBiases.contains(name) {
                // Read into the stream's initial sums.
                c.line("#if !defined(MCU_DSP_STREAM)")
            }
            if let layout = interleaved[name] {
                c.line("#if defined(__ARM_FEATURE_DSP)")
                c.line("/* Blocks of four rows interleaved by groups of four columns (RowInterleaving)\(layout.widened ? ", widened to int16" : ""). */")
                emitArray(id: id, bits: layout.widened ? 16 : q.format.bits, values: RowInterleaving.interleaved(q.values, layout: layout), into: &c)
                c.line("#else")
            }
            emitArray(id: id, bits: q.format.bits, values: q.values, into: &c)
            if far.contains(name) || interleaved[name] != nil || streams[name] != nil || streamedBiases.contains(name) { c.line("#endif") }
        }
        return bytes
    }

    private func emitArray(id: String, bits: Int, values: [Int64], into c: inout CWriter) {
        c.line("static const int\(bits)_t \(id)[\(values.count)] MCU_FLASH = {")
        for chunk in stride(from: 0, to: values.count, by: 16) {
            c.line("    " + values[chunk..<min(chunk + 16, values.count)].map { CType.literal($0, bits: bits) }.joined(separator: ", ") + ",")
        }
        c.line("};")
    }

    /// Constants the kernels read as arrays, i.e. what goes to flash. The others are not emitted (an unused array is a
    /// warning under -Wall -Werror): those of `.zero` kernels, and the scalar `B` of Add, Sub and
    /// Mul, which is inlined as a literal. A one-element weight of a linear kernel is still an array.
    public static func flashConstants(of program: FixedProgram) -> Set<String> {
        var names = Set<String>()
        for step in program.allSteps {
            let scalarOperand: Bool
            switch step.kernel {
            case .add, .mul: scalarOperand = true
            default: scalarOperand = false
            }
            for name in constantsRead(by: step) where !scalarOperand || (program.constants[name]?.values.count ?? 0) > 1 {
                names.insert(name)
            }
        }
        return names
    }

    /// The constants a step reads: a linear kernel's weights and bias, the second operand of an
    /// Add, Sub or Mul, a squared distance's prototypes.
    static func constantsRead(by step: FixedStep) -> [String] {
        switch step.kernel {
        case let .linear(plan): [plan.weights] + (plan.bias.map { [$0] } ?? [])
        case let .add(plan): plan.constant.map { [$0] } ?? []
        case let .mul(plan): plan.constant.map { [$0] } ?? []
        case let .squaredDistance(name, _, _, _, _): [name]
        default: []
        }
    }

    private mutating func emitArena(into c: inout CWriter) {
        if arena.buffers.isEmpty {
            // Every node is a view of the input: an arena nothing uses would be a warning.
            c.line("/* No activation needs memory: the output is a view of the input. */")
        } else {
            c.line("/* Every activation lives in this arena; offsets from a liveness plan (\(arena.bytes) bytes, lower bound \(arena.lowerBound)). */")
            c.line("static union {")
            c.line("    int16_t i16[\(max(arena.bytes / 2, 1))];")
            c.line("    int8_t i8[\(max(arena.bytes, 2))];")
            c.line("} mcu_arena;")
        }
        c.line("static const model_input_t *mcu_in;")
        let patches = Dictionary(uniqueKeysWithValues: program.allSteps.map { (ArenaPlan.patchName($0.node.name), $0.node) })
        for buffer in arena.buffers {
            for tensor in buffer.tensors {
                if let node = patches[tensor] {
                    c.line("#define \(patchPointer(node)) (&mcu_arena.i8[\(buffer.offset)])  /* the window \(node.name) gathers, \(buffer.bytes) bytes */")
                    continue
                }
                let bits = program.format(tensor).bits
                let ref = bits == 16 ? "(&mcu_arena.i16[\(buffer.offset / 2)])" : "(&mcu_arena.i8[\(buffer.offset)])"
                c.line("#define \(ids.name(tensor).uppercased()) \(ref)  /* \(tensor): \(program.graph.shapes[tensor] ?? Shape([])), \(program.format(tensor)) */")
            }
        }
    }

    /// The arena place of the patch a convolution gathers its windows into (`ArenaPlan.patchName`).
    func patchPointer(_ node: Node) -> String { "\(functionName(node))_patch" }

    /// A pointer to a tensor: the caller's input, or its place in the arena.
    mutating func pointer(_ tensor: String) -> String {
        if let viewed = views[tensor] { return pointer(viewed) }
        if tensor == program.graph.input.name { return "mcu_in" }
        if case let .loop(plan)? = program.steps.first(where: { if case .loop = $0.kernel { true } else { false } })?.kernel,
           plan.stepInput == tensor { return "mcu_in" }
        return ids.name(tensor).uppercased()
    }

    mutating func constant(_ name: String) -> String { ids.name(name) }

    // MARK: API

    private mutating func emitAPI(into c: inout CWriter) {
        let output = program.graph.output
        let count = max(program.graph.outputShape.elementCount, 1)
        let classValue = program.graph.outputsClassIndex ? "(int16_t)y[0]" : "mcu_argmax(y)"
        if !program.graph.outputsClassIndex {
            c.line("/* The lowest index of the maximum output. */")
            c.block("static int16_t mcu_argmax(const model_output_t *y)") { c in
                c.line("mcu_index_t best = 0;")
                c.line("for (mcu_index_t i = 1; i < \(count); i++) if (y[i] > y[best]) best = i;")
                c.line("return (int16_t)best;")
            }
            c.line()
        }
        let outPointer = pointer(output)
        let marks = marksPieces
        /// `lines` as one piece: marked in calibration builds.
        func piece(_ lines: [String], into c: inout CWriter) {
            if marks { c.line("MCU_PIECE_BEGIN();") }
            for line in lines { c.line(line) }
            if marks { c.line("MCU_PIECE_END();") }
        }
        func measureMarks(into c: inout CWriter) { if marks { c.line("MCU_PIECE_BEGIN(); MCU_PIECE_END();") } }
        let copyOut = ["for (mcu_index_t i = 0; i < \(count); i++) y[i] = \(outPointer)[i];", "int16_t cls = \(classValue);"]
        if isRecurrent {
            guard let loopStep = program.steps.first(where: { if case .loop = $0.kernel { true } else { false } }),
                  case let .loop(plan) = loopStep.kernel else { return }
            c.block("MCU_NO_LIBCALLS void model_reset(void)") { c in
                measureMarks(into: &c)
                piece(plan.states.map { "for (mcu_index_t i = 0; i < \($0.shape.elementCount); i++) \(pointer($0.name))[i] = 0;" }, into: &c)
            }
            c.line()
            // Two or more state copies walk one index: gcc set up the second copy's pointer before
            // the first loop, which then took the frame pointer pair or not by where the arena put
            // the states. One copy keeps its pointers (one index costs it 7 cycles an element).
            c.block("\(plan.states.count > 1 ? "MCU_ONE_INDEX " : "")void model_step(const model_input_t *x)") { c in
                c.line("mcu_in = x;")
                measureMarks(into: &c)
                for inner in plan.body { piece(["\(functionName(inner.node))();"], into: &c) }
                c.line("/* The new state replaces the old. */")
                piece(plan.states.map { "for (mcu_index_t i = 0; i < \($0.shape.elementCount); i++) \(pointer($0.name))[i] = \(pointer($0.next))[i];" }, into: &c)
            }
            c.line()
            c.block("int16_t model_result(model_output_t *y)") { c in
                measureMarks(into: &c)
                for step in program.steps where step.node.name != loopStep.node.name { piece(["\(functionName(step.node))();"], into: &c) }
                piece(copyOut, into: &c)
                c.line("return cls;")
            }
        } else {
            c.block("int16_t model_predict(const model_input_t *x, model_output_t *y)") { c in
                c.line("mcu_in = x;")
                measureMarks(into: &c)
                for step in program.steps { piece(["\(functionName(step.node))();"], into: &c) }
                piece(copyOut, into: &c)
                c.line("return cls;")
            }
        }
    }

    func functionName(_ node: Node) -> String { functionNames[node.name] ?? "mcu_node" }
}
