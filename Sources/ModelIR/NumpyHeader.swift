import Foundation

/// The Python dict literal of a `.npy` header: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
struct NumpyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    static func parse(_ text: String, path: String) throws(ModelError) -> NumpyHeader {
        func fail(_ reason: String) -> ModelError { .malformedNumpy(path: path, reason: reason) }
        func value(of key: String) throws(ModelError) -> Substring {
            guard let keyRange = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\""),
                  let colon = text[keyRange.upperBound...].firstIndex(of: ":") else {
                throw fail("header has no '\(key)'")
            }
            return text[text.index(after: colon)...].drop(while: { $0 == " " })
        }
        let descrText = try value(of: "descr")
        guard let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote) else {
            throw fail("'descr' is not a string (structured dtypes are not supported)")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        let fortranText = try value(of: "fortran_order")
        let fortran: Bool
        if fortranText.hasPrefix("True") { fortran = true } else if fortranText.hasPrefix("False") { fortran = false } else {
            throw fail("'fortran_order' is neither True nor False")
        }
        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else { throw fail("'shape' is not a tuple") }
        let parts = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for part in parts {
            guard let n = Int(part.hasSuffix("L") ? String(part.dropLast()) : part), n >= 0, n < 1 << 40 else {
                throw fail("'shape' has the entry '\(part)'")
            }
            shape.append(n)
        }
        // The element count, stopping at the first product that overflows (a wrapped product can be small).
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product < 1 << 40 else { throw fail("'shape' \(shape) is too large (at most 2^40 elements)") }
            count = product
        }
        return NumpyHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }
}
