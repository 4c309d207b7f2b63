import FixedPoint
import Foundation
import ModelIR

/// Mutations of a `.npy` file: its header (dtype, shape, order, length field, magic, version), its
/// payload (truncated, extended, NaN/inf/huge values) and consistent rewrites (another shape or
/// dtype, a valid file that no longer fits the model or dataset).
enum NumpyMutator {
    static let mutationNames = [
        "dtype", "shape", "fortran-order", "header-length", "magic", "version", "header-key", "header-bytes",
        "truncate-payload", "extend-payload", "special-values", "reshape", "convert-dtype", "empty", "scalar",
    ]

    /// The header of a valid file: where it starts and ends, and its text.
    struct Parts {
        var major: UInt8
        var headerStart: Int
        var header: String
        var payload: Data
    }

    static func split(_ data: Data) -> Parts? {
        let bytes = [UInt8](data)
        guard bytes.count >= 12 else { return nil }
        let major = bytes[6]
        let (length, start) = major == 1 ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : ((0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }, 12)
        guard start + length <= bytes.count, let header = String(bytes: bytes[start..<(start + length)], encoding: .utf8) else { return nil }
        return Parts(major: major, headerStart: start, header: header, payload: Data(bytes[(start + length)...]))
    }

    /// A version 1.0 file from header text (padded as NumPy pads it) and a payload.
    static func assemble(header: String, payload: Data) -> Data {
        var text = header.trimmingCharacters(in: .whitespacesAndNewlines)
        let unpadded = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let count = min(text.utf8.count, 65_535)
        return Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(count & 0xFF), UInt8(count >> 8)]) + Data(text.utf8) + payload
    }

    static func headerText(descr: String, fortran: String = "False", shape: String) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
    }

    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// One random mutation of the valid `.npy` file `data`.
    static func mutate(_ data: Data, using rng: inout SeededGenerator) -> (Data, String) {
        guard let parts = split(data), let array = try? NumpyArray.parse(data, path: "seed") else {
            return (data, "unparsable seed left as it is")
        }
        let name = mutationNames.randomElement(using: &rng) ?? "dtype"
        if headerMutations.contains(name) { return mutateHeader(name, data: data, parts: parts, array: array, using: &rng) }
        switch name {
        case "truncate-payload":
            let cut = min(parts.payload.count, Int.random(in: 1...max(1, min(64, parts.payload.count)), using: &rng))
            return (data.prefix(data.count - cut), "payload truncated by \(cut) bytes")
        case "extend-payload":
            let extra = Int.random(in: 1...64, using: &rng)
            return (data + Data((0..<extra).map { _ in UInt8.random(in: 0...255, using: &rng) }), "payload extended by \(extra) bytes")
        case "special-values":
            return specialValues(array, parts: parts, data: data, using: &rng)
        case "reshape":
            return reshaped(array, using: &rng)
        case "convert-dtype":
            return converted(array, using: &rng)
        case "empty":
            let empty = array.shape.isEmpty ? [0] : [0] + array.shape.dropFirst()
            return (NumpyArray(shape: empty, dtype: array.dtype, values: []).encoded(), "0 elements, shape \(empty)")
        default:  // scalar
            return (NumpyArray(shape: [], dtype: array.dtype, values: [array.values.first ?? 0]).encoded(), "a scalar, shape []")
        }
    }

    static let headerMutations: Set<String> = ["dtype", "shape", "fortran-order", "header-length", "magic", "version", "header-key", "header-bytes"]

    /// The header changed, the payload kept.
    private static func mutateHeader(_ name: String, data: Data, parts: Parts, array: NumpyArray,
                                     using rng: inout SeededGenerator) -> (Data, String) {
        let descr = array.dtype.rawValue, shape = array.shape
        switch name {
        case "dtype":
            let other = ["<f8", "<f4", ">f4", ">f8", "<f2", "|O", "<U5", "<c8", "<i4", "<i8", "|i1", "<u4", "[('a', '<f4')]", "", "<f4<f4"]
                .randomElement(using: &rng) ?? "<f8"
            return (assemble(header: headerText(descr: other, shape: shapeText(shape)), payload: parts.payload), "dtype \(descr) -> \(other)")
        case "shape":
            let text = mutatedShapeText(shape, using: &rng)
            return (assemble(header: headerText(descr: descr, shape: text), payload: parts.payload), "shape \(shape) -> \(text)")
        case "fortran-order":
            let value = ["True", "Maybe", "0", "", "'False'"].randomElement(using: &rng) ?? "True"
            return (assemble(header: headerText(descr: descr, fortran: value, shape: shapeText(shape)), payload: parts.payload),
                    "fortran_order \(value)")
        case "header-length":
            var bytes = [UInt8](data)
            let value = [0, 1, parts.header.utf8.count - 1, parts.header.utf8.count + 1, 65_535, bytes.count, Int.random(in: 0...65_535, using: &rng)]
                .randomElement(using: &rng) ?? 0
            bytes[8] = UInt8(truncatingIfNeeded: value)
            bytes[9] = UInt8(truncatingIfNeeded: value >> 8)
            return (Data(bytes), "header length field \(value)")
        case "magic":
            var bytes = [UInt8](data)
            let i = Int.random(in: 0..<6, using: &rng)
            bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
            return (Data(bytes), "magic byte \(i)")
        case "version":
            var bytes = [UInt8](data)
            bytes[6] = [0, 2, 3, 4, 255].randomElement(using: &rng) ?? 0
            bytes[7] = [0, 1, 255].randomElement(using: &rng) ?? 0
            return (Data(bytes), "version \(bytes[6]).\(bytes[7])")
        case "header-key":
            let key = ["descr", "shape", "fortran_order"].randomElement(using: &rng) ?? "shape"
            let header = parts.header.replacingOccurrences(of: "'\(key)'", with: "'\(key)x'")
            return (assemble(header: header, payload: parts.payload), "header key \(key) renamed")
        default:  // header-bytes
            var header = [UInt8](parts.header.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                header[Int.random(in: 0..<header.count, using: &rng)] = [0xFF, 0x00, 0x28, 0x29, 0x2C, 0x27].randomElement(using: &rng) ?? 0xFF
            }
            var bytes = [UInt8](data)
            bytes.replaceSubrange(parts.headerStart..<(parts.headerStart + header.count), with: header)
            return (Data(bytes), "header bytes changed")
        }
    }

    /// A valid file of another dtype, the values converted (clamped to the integer types' ranges).
    private static func converted(_ array: NumpyArray, using rng: inout SeededGenerator) -> (Data, String) {
        let target = NumpyArray.DType.allCases.randomElement(using: &rng) ?? .float64
        let values = array.values.map { v -> Double in
            switch target {
            case .float32, .float64: return v
            case .int8: return min(max(v.rounded(), -128), 127)
            case .uint8, .bool: return min(max(v.rounded(), 0), 255)
            case .int16: return min(max(v.rounded(), -32_768), 32_767)
            case .int32: return min(max(v.rounded(), -2_147_483_648), 2_147_483_647)
            case .int64: return min(max(v.rounded(), -1e18), 1e18)
            }
        }
        return (NumpyArray(shape: array.shape, dtype: target, values: values).encoded(), "dtype converted \(array.dtype.rawValue) -> \(target.rawValue)")
    }

    private static func mutatedShapeText(_ shape: [Int], using rng: inout SeededGenerator) -> String {
        var s = shape
        switch Int.random(in: 0..<9, using: &rng) {
        case 0 where !s.isEmpty: s[Int.random(in: 0..<s.count, using: &rng)] += 1
        case 1 where !s.isEmpty: s[Int.random(in: 0..<s.count, using: &rng)] -= 1
        case 2 where !s.isEmpty: s[Int.random(in: 0..<s.count, using: &rng)] = 0
        case 3: s.append(1)
        case 4 where !s.isEmpty: s.removeLast()
        case 5: return ["(-1,)", "(1000000000000,)", "(1099511627776,)", "(99999999999999999999,)", "(4294967296, 4294967296)"].randomElement(using: &rng) ?? "()"
        case 6: return ["()", "(,)", "[3, 4]", "(3 4)", "('a',)", "(3.5,)", "(3L,)"].randomElement(using: &rng) ?? "()"
        case 7: s = [s.reduce(1, *)]
        default: s.reverse()
        }
        return shapeText(s)
    }

    /// NaN, infinities, huge and tiny values at a few elements, written over the payload in place.
    private static func specialValues(_ array: NumpyArray, parts: Parts, data: Data, using rng: inout SeededGenerator) -> (Data, String) {
        guard !array.values.isEmpty else { return (data, "no elements to change") }
        var payload = [UInt8](parts.payload)
        var changed: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let index = Int.random(in: 0..<array.values.count, using: &rng)
            let bytes: [UInt8]
            switch array.dtype {
            case .float32:
                let v = [Float.nan, .infinity, -.infinity, 3e38, -3e38, .leastNonzeroMagnitude, 0, 1e20].randomElement(using: &rng) ?? .nan
                bytes = withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
                changed.append("\(v)")
            case .float64:
                let v = [Double.nan, .infinity, -.infinity, 1e308, -1e308, .leastNonzeroMagnitude, 0, 1e20].randomElement(using: &rng) ?? .nan
                bytes = withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
                changed.append("\(v)")
            default:
                let v: Int64 = ([Int64.max, Int64.min, -1, 0, 1 << 40, 255, 127, -128, 1_000_000] as [Int64]).randomElement(using: &rng) ?? -1
                bytes = Array(withUnsafeBytes(of: v.littleEndian, Array.init).prefix(array.dtype.byteWidth))
                changed.append("\(v)")
            }
            let offset = index * bytes.count
            guard offset + bytes.count <= payload.count else { continue }
            payload.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            changed[changed.count - 1] += " at \(index)"
        }
        return (data.prefix(data.count - parts.payload.count) + Data(payload), "values " + changed.joined(separator: ", "))
    }

    /// A valid file of another shape: transposed, a row fewer or more, flattened, or with a leading 1.
    private static func reshaped(_ array: NumpyArray, using rng: inout SeededGenerator) -> (Data, String) {
        var shape = array.shape, values = array.values
        let rowLength = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
        switch Int.random(in: 0..<5, using: &rng) {
        case 0 where shape.count >= 2: shape.swapAt(0, shape.count - 1)
        case 1 where (shape.first ?? 0) > 1:
            shape[0] -= 1
            values.removeLast(rowLength)
        case 2 where !shape.isEmpty:
            shape[0] += 1
            values += values.prefix(rowLength)
        case 3: shape = [values.count]
        default: shape = [1] + shape
        }
        return (NumpyArray(shape: shape, dtype: array.dtype, values: values).encoded(), "valid file reshaped \(array.shape) -> \(shape)")
    }
}

extension NumpyArray.DType {
    var isFloating: Bool { self == .float32 || self == .float64 }

    var byteWidth: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}
