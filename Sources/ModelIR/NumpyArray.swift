import Foundation

/// An array read from (or to be written to) a NumPy `.npy` file.
///
/// Supports format versions 1.0, 2.0 and 3.0, C order, little-endian `f4 f8 i1 u1 i2 i4 i8 b1`.
/// Every way a file can be malformed (bad magic, truncated header or data, an unsupported dtype,
/// Fortran order, a shape that does not match the data) is a `ModelError.malformedNumpy` or
/// `.unsupportedFormat` naming the file.
public struct NumpyArray: Sendable, Equatable {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4", float64 = "<f8", int8 = "|i1", uint8 = "|u1", int16 = "<i2", int32 = "<i4",
             int64 = "<i8", bool = "|b1"

        var byteCount: Int {
            switch self {
            case .int8, .uint8, .bool: 1
            case .int16: 2
            case .float32, .int32: 4
            case .float64, .int64: 8
            }
        }

        var isFloat: Bool { self == .float32 || self == .float64 }

        /// Accepts the spellings NumPy writes (`<f4`, `|u1`, and `<u1`/`|i1` variants for one-byte types).
        init?(descr: String) {
            let normalized: String
            switch descr {
            case "<i1", "i1", "|i1": normalized = "|i1"
            case "<u1", "u1", "|u1": normalized = "|u1"
            case "<b1", "b1", "|b1", "?": normalized = "|b1"
            default: normalized = descr
            }
            self.init(rawValue: normalized)
        }
    }

    public var shape: [Int]
    public var dtype: DType
    /// The values, converted exactly to Double (every supported dtype fits).
    public var values: [Double]

    public init(shape: [Int], dtype: DType, values: [Double]) {
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }

    public var elementCount: Int { shape.reduce(1, *) }

    // MARK: Reading

    public static func read(contentsOf path: String) throws(ModelError) -> NumpyArray {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path, what: ".npy file") }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "a directory, not a .npy file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            // Foundation's text here is "The operation could not be completed", with its error domain.
            throw .unreadable(path: path, reason: FileManager.default.isReadableFile(atPath: path) ? "not a regular file" : "permission denied")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws(ModelError) -> NumpyArray {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .malformedNumpy(path: path, reason: "missing the \\x93NUMPY magic (file of \(bytes.count) bytes)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .malformedNumpy(path: path, reason: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw .unsupportedFormat(path: path, found: "format version \(major).\(bytes[7])", expected: "1.0, 2.0 or 3.0")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw .malformedNumpy(path: path, reason: "truncated header (\(headerLength) bytes announced, \(bytes.count - headerStart) present)")
        }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw .malformedNumpy(path: path, reason: "header is not text")
        }
        let fields = try NumpyHeader.parse(header, path: path)
        guard let dtype = DType(descr: fields.descr) else {
            throw .unsupportedFormat(path: path, found: "dtype '\(fields.descr)'",
                                     expected: "little-endian " + DType.allCases.map(\.rawValue).joined(separator: " "))
        }
        guard !fields.fortranOrder else {
            throw .unsupportedFormat(path: path, found: "Fortran order", expected: "C order (numpy.ascontiguousarray)")
        }
        let count = fields.shape.reduce(1, *)
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard available == count * dtype.byteCount else {
            throw .malformedNumpy(path: path, reason:
                "shape \(fields.shape) of \(fields.descr) needs \(count * dtype.byteCount) data bytes, found \(available)"
                + (available < count * dtype.byteCount ? " (truncated)" : ""))
        }
        let values = decode(bytes, from: dataStart, count: count, dtype: dtype)
        if dtype.isFloat, let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .malformedNumpy(path: path, reason: "element \(bad) is \(values[bad]); weights and data must be finite")
        }
        return NumpyArray(shape: fields.shape, dtype: dtype, values: values)
    }

    private static func decode(_ bytes: [UInt8], from start: Int, count: Int, dtype: DType) -> [Double] {
        func word(_ i: Int, _ n: Int) -> UInt64 {
            (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[start + i * n + $1]) << (8 * UInt64($1)) }
        }
        return (0..<count).map { i in
            switch dtype {
            case .float32: Double(Float(bitPattern: UInt32(word(i, 4))))
            case .float64: Double(bitPattern: word(i, 8))
            case .int8: Double(Int8(bitPattern: bytes[start + i]))
            case .uint8, .bool: Double(bytes[start + i])
            case .int16: Double(Int16(bitPattern: UInt16(word(i, 2))))
            case .int32: Double(Int32(bitPattern: UInt32(word(i, 4))))
            case .int64: Double(Int64(bitPattern: word(i, 8)))
            }
        }
    }

    // MARK: Writing

    /// The `.npy` (version 1.0) encoding. Values are converted to `dtype` (integers by truncation).
    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0,
                            UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        for v in values {
            switch dtype {
            case .float32: append(Float(v).bitPattern)
            case .float64: append(v.bitPattern)
            case .int8: append(Int8(v))
            case .uint8, .bool: append(UInt8(v))
            case .int16: append(Int16(v))
            case .int32: append(Int32(v))
            case .int64: append(Int64(v))
            }
        }
        return Data(out)
    }

    public func write(to path: String) throws(ModelError) {
        do { try encoded().write(to: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
