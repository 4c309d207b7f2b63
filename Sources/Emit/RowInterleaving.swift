import FixedPoint

/// The weights of a patch-gathered convolution node emitted with `mcu_dot8x4i` (the Cortex-M4/M7
/// path, `__ARM_FEATURE_DSP`), or of a dense node that is not a `FourRowStream` (its weights or
/// bias read by another node too), are stored in a different order there: each block of
/// four rows holds, group by group of four columns, the four rows' words in turn (row 0's four
/// bytes, row 1's, row 2's, row 3's), then the last `k mod 4` columns row by row. One pointer then
/// walks a block, and each word it loads is used at once. A convolution that walks its filters kernel
/// row by kernel row interleaves each kernel row (a segment of kw·C bytes) the same way, segment
/// after segment, so that a row narrowed by padding to whole groups of columns is still one run.
/// A block keeps its 4k bytes where the plain layout has them, so rows past the last whole block
/// (read one by one by `mcu_dot8_aN`) are unchanged; so are the values, only their order differs.
/// Other cores keep the plain layout.
enum RowInterleaving {
    /// How a weight array is interleaved: rows of `rowLength`, each in segments of `segment`.
    struct Layout: Equatable {
        var rowLength: Int
        var segment: Int
        /// Stored as int16 (`widens`): each row's group of four columns as the halfwords
        /// w0, w2, w1, w3 (the pairs SXTB16 makes of an input word), the last columns one by one.
        var widened = false
    }


    /// The weight arrays stored interleaved under the DSP extension, with their layout:
    /// every node reading them is blocked by four rows over whole rows (a dense layer, or a
    /// convolution that gathers patches), and nothing else reads them.
    /// `streams`: the program's `FourRowStream`s, whose dense layers are stored as those instead.
    static func weights(of program: FixedProgram, far: Set<String>, streams: [String: FourRowStream]) -> [String: Layout] {
        var rowLength: [String: Layout] = [:], excluded = Set(streams.keys)
        for step in program.allSteps {
            guard case let .linear(plan) = step.kernel else {
                excluded.formUnion(CEmitter.constantsRead(by: step))
                continue
            }
            if let k = blockedRowLength(plan, step: step, program: program, far: far) {
                if let known = rowLength[plan.weights], known != k { excluded.insert(plan.weights) }
                rowLength[plan.weights] = k
            } else {
                excluded.insert(plan.weights)
            }
            if let b = plan.bias { excluded.insert(b) }
        }
        return rowLength.filter { !excluded.contains($0.key) }
    }

    /// The layout of a node that `mcu_dot8x4i` computes four rows at a time, or nil.
    static func blockedRowLength(_ plan: Kernel.Linear, step: FixedStep, program: FixedProgram, far: Set<String>) -> Layout? {
        guard CEmitter.dot8Width(plan, step: step, program: program, far: far) != nil,
              let dims = program.constants[plan.weights]?.shape.dims, dims.count >= 2, dims[0] >= 4 else { return nil }
        let k = dims.dropFirst().reduce(1, *)
        switch plan.shape {
        case .dense:
            return Layout(rowLength: k, segment: k)
        case let .conv2D(window, input):
            if CEmitter.gathersPatches(window: window, input: input) { return Layout(rowLength: k, segment: k) }
            guard CEmitter.interleavesKernelRows(window: window, input: input) else { return nil }
            // Walked by kernel rows: int16 where every filter is in a block of four, so that no row
            // is read by `mcu_dot8_aN` (`mcu_dot16x4i`: two loads per row and group instead of a
            // load and two SXTB16).
            return Layout(rowLength: k, segment: window.kernelWidth * input.dims[2], widened: CEmitter.widensKernelRows(filters: dims[0]))
        case .depthwiseConv2D:
            return nil
        }
    }

    /// `values` (rows of k, in segments) in the interleaved order; the rows past the last block of
    /// four as they are.
    static func interleaved(_ values: [Int64], layout: Layout) -> [Int64] {
        let (k, length) = (layout.rowLength, layout.segment)
        guard k > 0, length > 0, k % length == 0 else { return values }
        var out = values
        let blocks = values.count / k / 4, groups = length / 4, rest = length % 4
        var i = 0
        for block in 0..<blocks {
            for segment in 0..<k / length {
                let base = block * 4 * k + segment * length
                for g in 0..<groups {
                    for r in 0..<4 {
                        for c in layout.widened ? [0, 2, 1, 3] : [0, 1, 2, 3] { out[i] = values[base + r * k + g * 4 + c]; i += 1 }
                    }
                }
                for r in 0..<4 {
                    for c in 0..<rest { out[i] = values[base + r * k + groups * 4 + c]; i += 1 }
                }
            }
        }
        return out
    }
}
