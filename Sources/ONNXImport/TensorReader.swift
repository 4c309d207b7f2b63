import Foundation

/// Reads the values of an ONNX `TensorProto`: from `raw_data`, the typed fields (`float_data`,
/// `int64_data`, ...) or an external data file beside the model.
struct TensorReader {
    /// The model file, for messages; external data paths are relative to its directory.
    let path: String
    /// More values than this in one tensor is not a model for a microcontroller, and refusing it
    /// early keeps a corrupted dims field from asking for gigabytes.
    static let maxElements = 1 << 26

    func read(_ tensor: Onnx_TensorProto, name: String) throws(ONNXImportError) -> ConstantValue {
        var count = 1
        for d in tensor.dims {
            guard d >= 0, d <= Int64(Self.maxElements) else {
                throw .unsupportedTensor(path: path, tensor: name, reason: "dims \(tensor.dims) are negative or too large")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= Self.maxElements else {
                throw .unsupportedTensor(path: path, tensor: name, reason: "dims \(tensor.dims) hold more than 2^26 values")
            }
            count = product
        }
        let dims = tensor.dims.map { Int($0) }
        if tensor.hasSegment {
            throw .unsupportedTensor(path: path, tensor: name, reason: "is split in segments, which are not supported")
        }
        let dataType = Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType))
        let raw: Data?
        if tensor.dataLocation == .external {
            raw = try externalBytes(tensor, name: name)
        } else {
            raw = tensor.hasRawData ? tensor.rawData : nil
        }
        let values: [Double]
        let type: ConstantValue.ElementType
        switch dataType {
        case .float:
            type = .float
            values = try raw.map { (bytes: Data) throws(ONNXImportError) -> [Double] in
                try decode(bytes, count: count, width: 4, name: name) { Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
            } ?? tensor.floatData.map(Double.init)
        case .double:
            type = .other("double")
            values = try raw.map { (bytes: Data) throws(ONNXImportError) -> [Double] in
                try decode(bytes, count: count, width: 8, name: name) { Double(bitPattern: $0) }
            } ?? tensor.doubleData
        case .int64:
            type = .integer
            values = try raw.map { (bytes: Data) throws(ONNXImportError) -> [Double] in
                try decode(bytes, count: count, width: 8, name: name) { Double(Int64(bitPattern: $0)) }
            } ?? tensor.int64Data.map(Double.init)
        case .int32:
            type = .integer
            values = try raw.map { (bytes: Data) throws(ONNXImportError) -> [Double] in
                try decode(bytes, count: count, width: 4, name: name) { Double(Int32(truncatingIfNeeded: $0)) }
            } ?? tensor.int32Data.map(Double.init)
        case .bool:
            type = .boolean
            values = try raw.map { (bytes: Data) throws(ONNXImportError) -> [Double] in
                try decode(bytes, count: count, width: 1, name: name) { $0 == 0 ? 0 : 1 }
            } ?? tensor.int32Data.map { $0 == 0 ? 0 : 1 }
        default:
            let typeName = dataType.map { "\($0)" } ?? "\(tensor.dataType)"
            throw .unsupportedTensor(path: path, tensor: name,
                                     reason: "has element type \(typeName); supported: float (float32) for weights, int64, int32 and bool for shapes and indices")
        }
        guard values.count == count else {
            throw .unsupportedTensor(path: path, tensor: name,
                                     reason: "holds \(values.count) values, but its dims \(tensor.dims) need \(count)")
        }
        return ConstantValue(dims: dims, values: values, type: type)
    }

    /// Little-endian elements of `width` bytes.
    private func decode(_ bytes: Data, count: Int, width: Int, name: String,
                        _ convert: (UInt64) -> Double) throws(ONNXImportError) -> [Double] {
        guard bytes.count == count * width else {
            throw .unsupportedTensor(path: path, tensor: name,
                                     reason: "raw data has \(bytes.count) bytes, but \(count) values of \(width) bytes need \(count * width)")
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            for i in 0..<count {
                var word: UInt64 = 0
                for b in 0..<width { word |= UInt64(buffer[i * width + b]) << (8 * UInt64(b)) }
                values[i] = convert(word)
            }
        }
        return values
    }

    /// The bytes an external-data tensor points to: `location` relative to the model's directory,
    /// optionally `offset` and `length`.
    private func externalBytes(_ tensor: Onnx_TensorProto, name: String) throws(ONNXImportError) -> Data {
        var entries: [String: String] = [:]
        for entry in tensor.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw .unsupportedTensor(path: path, tensor: name, reason: "is marked EXTERNAL but names no 'location'")
        }
        // ONNX requires the location to stay inside the model's directory.
        let components = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !components.contains("..") else {
            throw .externalData(path: path, tensor: name, file: location,
                                reason: "the location must be a path inside the model's directory")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let file = (directory as NSString).appendingPathComponent(location)
        guard FileManager.default.fileExists(atPath: file) else {
            throw .externalDataMissing(path: path, tensor: name, file: location)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .externalData(path: path, tensor: name, file: location, reason: "cannot be read")
        }
        func integer(_ key: String) throws(ONNXImportError) -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw .externalData(path: path, tensor: name, file: location, reason: "\(key) '\(text)' is not a non-negative integer")
            }
            return value
        }
        let offset = try integer("offset") ?? 0
        guard offset <= data.count else {
            throw .externalData(path: path, tensor: name, file: location,
                                reason: "offset \(offset) is beyond the file's \(data.count) bytes")
        }
        let length = try integer("length") ?? (data.count - offset)
        guard length <= data.count - offset else {
            throw .externalData(path: path, tensor: name, file: location,
                                reason: "offset \(offset) + length \(length) is beyond the file's \(data.count) bytes")
        }
        let start = data.startIndex + offset
        return data.subdata(in: start..<(start + length))
    }
}
