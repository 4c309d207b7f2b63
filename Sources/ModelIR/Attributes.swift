/// Typed access to a node's attributes, with errors that name the node and the attribute.
struct Attributes {
    let node: String
    let values: [String: ModelFile.AttributeValue]

    func number(_ key: String) throws(ModelError) -> Double {
        guard let value = values[key] else {
            throw .invalidAttribute(node: node, attribute: key, reason: "is missing")
        }
        guard case let .number(n) = value, n.isFinite else {
            throw .invalidAttribute(node: node, attribute: key, reason: "must be a finite number")
        }
        return n
    }

    func integers(_ key: String, count: Int?) throws(ModelError) -> [Int] {
        guard let value = values[key] else {
            throw .invalidAttribute(node: node, attribute: key, reason: "is missing")
        }
        let list: [Double]
        if case let .numbers(numbers) = value { list = numbers } else { list = [] }
        let integral = list.allSatisfy { (v: Double) -> Bool in v.rounded() == v && abs(v) < 1_000_000 }
        let countMatches = count == nil || count == list.count
        guard case .numbers = value, integral, countMatches else {
            throw .invalidAttribute(node: node, attribute: key,
                                    reason: "must be a list of " + (count.map { "\($0) " } ?? "") + "integers")
        }
        return list.map { Int($0) }
    }

    func window(kernel: [Int], defaultStrides: [Int], allowPads: Bool) throws(ModelError) -> Window {
        let strides = values["strides"] == nil ? defaultStrides : try integers("strides", count: 2)
        let pads = values["pads"] == nil ? [0, 0, 0, 0] : try integers("pads", count: 4)
        if !allowPads, pads != [0, 0, 0, 0] {
            throw .invalidAttribute(node: node, attribute: "pads", reason: "is not supported for pooling; pad with a convolution")
        }
        for key in values.keys.sorted() where !["strides", "pads", "kernel"].contains(key) {
            throw .invalidAttribute(node: node, attribute: key, reason: "is unknown; allowed: kernel, strides, pads")
        }
        return Window(kernelHeight: kernel[0], kernelWidth: kernel[1], strideHeight: strides[0], strideWidth: strides[1],
                      padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
    }
}
