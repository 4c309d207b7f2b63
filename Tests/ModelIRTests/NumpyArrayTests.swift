import Foundation
import Testing
@testable import ModelIR

@Suite struct NumpyArrayTests {
    @Test(arguments: NumpyArray.DType.allCases)
    func roundTripsEveryDType(dtype: NumpyArray.DType) throws {
        let values: [Double] = dtype == .bool ? [0, 1, 1, 0, 1, 0] : (dtype == .uint8 ? [0, 1, 2, 200, 7, 255] : [-3, 1, 2, 100, -7, 0])
        let array = NumpyArray(shape: [2, 3], dtype: dtype, values: values)
        let parsed = try NumpyArray.parse(array.encoded(), path: "x.npy")
        #expect(parsed == array)
    }

    @Test func headerIsPaddedToSixtyFourBytes() {
        let data = NumpyArray(shape: [5], dtype: .float32, values: [1, 2, 3, 4, 5]).encoded()
        #expect((data.count - 5 * 4) % 64 == 0)
        #expect(data[data.count - 21] == 0x0A)  // header ends in a newline
    }

    @Test func readsVersionTwoHeaders() throws {
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0]
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"
        bytes += withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian, Array.init)
        bytes += Array(header.utf8)
        for v in [1.5, -2.25] { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
        let parsed = try NumpyArray.parse(Data(bytes), path: "v2.npy")
        #expect(parsed.values == [1.5, -2.25])
        #expect(parsed.shape == [2])
    }

    @Test func scalarShapeHasOneElement() throws {
        let parsed = try NumpyArray.parse(NumpyArray(shape: [], dtype: .float64, values: [4]).encoded(), path: "s.npy")
        #expect(parsed.shape == [] && parsed.values == [4])
    }

    @Test func truncatedDataIsNamed() {
        let data = NumpyArray(shape: [4, 4], dtype: .float32, values: Array(repeating: 1, count: 16)).encoded()
        #expect(throws: ModelError.malformedNumpy(path: "w.npy", reason:
            "shape [4, 4] of <f4 needs 64 data bytes, found 61 (truncated)")) {
            try NumpyArray.parse(data.dropLast(3), path: "w.npy")
        }
    }

    @Test func truncatedHeaderIsNamed() {
        let data = NumpyArray(shape: [4], dtype: .float32, values: [1, 2, 3, 4]).encoded()
        #expect(throws: ModelError.malformedNumpy(path: "w.npy", reason:
            "truncated header (118 bytes announced, 20 present)")) {
            try NumpyArray.parse(data.prefix(30), path: "w.npy")
        }
    }

    @Test func badMagicIsNamed() {
        #expect(throws: ModelError.malformedNumpy(path: "w.npy", reason: "missing the \\x93NUMPY magic (file of 11 bytes)")) {
            try NumpyArray.parse(Data("hello world".utf8), path: "w.npy")
        }
    }

    /// Replaces `old` by `new` (same length) in the header bytes.
    func patched(_ data: Data, _ old: String, _ new: String) -> Data {
        var bytes = [UInt8](data)
        let o = Array(old.utf8), n = Array(new.utf8)
        if let at = (0...(bytes.count - o.count)).first(where: { Array(bytes[$0..<($0 + o.count)]) == o }) {
            bytes.replaceSubrange(at..<(at + o.count), with: n)
        }
        return Data(bytes)
    }

    @Test func fortranOrderAndBigEndianAreRefused() throws {
        let data = NumpyArray(shape: [2, 2], dtype: .float32, values: [1, 2, 3, 4]).encoded()
        #expect(throws: ModelError.unsupportedFormat(path: "f.npy", found: "Fortran order",
                                                      expected: "C order (numpy.ascontiguousarray)")) {
            try NumpyArray.parse(patched(data, "False,", "True, "), path: "f.npy")
        }
        #expect(throws: ModelError.unsupportedFormat(path: "b.npy", found: "dtype '>f4'",
                                                      expected: "little-endian <f4 <f8 |i1 |u1 <i2 <i4 <i8 |b1")) {
            try NumpyArray.parse(patched(data, "<f4", ">f4"), path: "b.npy")
        }
    }

    @Test func nonFiniteFloatsAreRefused() {
        let data = NumpyArray(shape: [2], dtype: .float32, values: [1, .nan]).encoded()
        #expect(throws: ModelError.malformedNumpy(path: "n.npy", reason: "element 1 is nan; weights and data must be finite")) {
            try NumpyArray.parse(data, path: "n.npy")
        }
    }

    @Test func missingFileIsNamed() {
        #expect(throws: ModelError.fileNotFound(path: "/nonexistent/w.npy", what: ".npy file")) {
            try NumpyArray.read(contentsOf: "/nonexistent/w.npy")
        }
    }

    @Test func headerWithoutShapeIsMalformed() {
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let header = "{'descr': '<f4', 'fortran_order': False}\n"
        bytes += [UInt8(header.utf8.count), 0] + Array(header.utf8)
        #expect(throws: ModelError.malformedNumpy(path: "h.npy", reason: "header has no 'shape'")) {
            try NumpyArray.parse(Data(bytes), path: "h.npy")
        }
    }
}
