import FixedPoint
import Foundation
import ModelIR

/// Mutations of `model.json` that know its schema: renamed tensors, names the recurrent lowering
/// takes, unknown ops and attributes, shapes, nodes duplicated, dropped or reordered, weights and
/// constants pointing elsewhere, and valid but extreme values.
extension FuzzMutations {
    /// What one mutation works on: the document and a node chosen at random.
    struct ModelEdit {
        var doc: JSONValue
        let nodes: [JSONValue]
        let node: Int
        let nodeName: String
        /// Every node output, and the usual input name.
        let tensors: [String]

        var nodePath: [JSONValue.Step] { [.key("nodes"), .index(node)] }
    }

    static let modelMutationNames = [
        "rename-tensor-once", "rename-tensor", "clash-lowered", "unknown-op", "unknown-attribute", "attribute",
        "input-shape", "duplicate-node", "drop-node", "swap-nodes", "output", "two-outputs", "weight-role",
        "constant-path", "sequence", "training", "name", "scale", "attribute-large", "insert-reshape",
    ]

    /// Half the time a schema-aware mutation, otherwise a generic structured one.
    mutating func modelJSON() -> String {
        let path = "model/model.json"
        let doc = json(path)
        guard chance(55) else { return structured(path) }
        let nodes: [JSONValue]
        if case let .array(list)? = doc[[.key("nodes")]] { nodes = list } else { nodes = [] }
        let node = Int.random(in: 0..<max(nodes.count, 1), using: &rng)
        let nodeName: String
        if case let .string(s)? = doc[[.key("nodes"), .index(node), .key("name")]] { nodeName = s } else { nodeName = "n" }
        var edit = ModelEdit(doc: doc, nodes: nodes, node: node, nodeName: nodeName,
                             tensors: nodes.flatMap { $0[[.key("outputs")]]?.strings ?? [] } + ["x"])
        // Nil: the mutation does not apply to this model (no such node or attribute), so a generic one does.
        guard let label = applyModelMutation(pick(Self.modelMutationNames), to: &edit) else { return structured(path, document: doc) }
        files[path] = edit.doc.data
        return "\(path): \(label)"
    }

    private mutating func applyModelMutation(_ name: String, to e: inout ModelEdit) -> String? {
        switch name {
        case "rename-tensor-once": return renameTensorOnce(&e)
        case "rename-tensor": return renameTensor(&e)
        case "clash-lowered": return clashWithLowering(&e)
        case "unknown-op": return unknownOp(&e)
        case "unknown-attribute": return unknownAttribute(&e)
        case "attribute": return mutateAttributes(&e)
        case "input-shape": return inputShape(&e)
        case "duplicate-node": return nodeList(&e, duplicate: true)
        case "drop-node": return dropNode(&e)
        case "swap-nodes": return nodeList(&e, duplicate: false)
        case "output": return output(&e)
        case "two-outputs": return twoOutputs(&e)
        case "weight-role": return weightRole(&e)
        case "constant-path": return constantPath(&e)
        case "sequence": return sequenceFlag(&e)
        case "training": return training(&e)
        case "scale": return extremeScale(&e)
        case "attribute-large": return largeAttribute(&e)
        case "insert-reshape": return insertReshape(&e)
        default: return modelName(&e)
        }
    }

    private mutating func renameTensorOnce(_ e: inout ModelEdit) -> String? {
        let old = pick(e.tensors), new = pick(["y2", "x", old + "_", "logits", "h"])
        let at: [JSONValue.Step] = e.nodePath + [.key(pick(["inputs", "outputs"])), .index(0)]
        if e.doc[at] != nil { e.doc.set(at, to: .string(new)) }
        return "\(JSONMutator.describe(at)) -> '\(new)'"
    }

    private mutating func renameTensor(_ e: inout ModelEdit) -> String? {
        let old = pick(e.tensors), new = pick(["t.0", "_", "renamed", "é", "a*/b", "x"])
        e.doc = e.doc.renaming(old, to: new, keys: false)
        return "tensor '\(old)' renamed '\(new)' everywhere"
    }

    /// Names the recurrent lowering creates: <node>.h, <node>.x_t, <node>.wx, <node>.z_pre.B, ...
    private mutating func clashWithLowering(_ e: inout ModelEdit) -> String? {
        let local = pick(["h", "x_t", "wx", "uh", "z", "c", "n_x", "h_next", "i", "z_pre.B", "c_pre.B"])
        let rnn: String
        if case let .string(s)? = e.doc[[.key("nodes"), .index(0), .key("name")]] { rnn = s } else { rnn = "rnn" }
        let clash = "\(rnn).\(local)"
        switch pick(["node", "output", "constant"]) {
        case "node":
            e.doc.set([.key("nodes"), .index(max(e.nodes.count, 1) - 1), .key("name")], to: .string(clash))
            return "last node renamed '\(clash)'"
        case "output":
            e.doc = e.doc.renaming(pick(e.tensors.filter { $0 != "x" } + ["h"]), to: clash, keys: false)
            return "a tensor renamed '\(clash)'"
        default:
            let old = pick(constantNames(e.doc) + ["fc.b"])
            e.doc = e.doc.renaming(old, to: clash, keys: true)
            return "constant '\(old)' renamed '\(clash)'"
        }
    }

    private mutating func unknownOp(_ e: inout ModelEdit) -> String? {
        let op = pick(["Conv3D", "gemm", "", "Softmax", "Loop", "Relu ", "LSTM", "ArgMax"])
        e.doc.set(e.nodePath + [.key("op")], to: .string(op))
        return "node '\(e.nodeName)' op -> '\(op)'"
    }

    private mutating func unknownAttribute(_ e: inout ModelEdit) -> String? {
        let (key, value) = pick([("dilation", JSONValue.array([.int(2), .int(2)])), ("scale", .string("x")), ("kernel", .array([])),
                                 ("strides", .array([.int(0), .int(1)])), ("pads", .array([.int(-1), .int(0), .int(0), .int(0)])),
                                 ("shape", .array([.int(-1)])), ("axis", .int(1))])
        var attributes: [(key: String, value: JSONValue)] = []
        if case let .object(pairs)? = e.doc[e.nodePath + [.key("attributes")]] { attributes = pairs }
        attributes.append((key, value))
        if e.doc[e.nodePath] != nil { setMember(&e.doc, e.nodePath, "attributes", .object(attributes)) }
        return "node '\(e.nodeName)' attribute \(key) = \(value.text())"
    }

    /// A generic structured mutation of one node's attributes.
    private mutating func mutateAttributes(_ e: inout ModelEdit) -> String? {
        let attributed = e.nodes.indices.filter { e.nodes[$0][[.key("attributes")]] != nil }
        guard !attributed.isEmpty else { return nil }
        let k = pick(attributed)
        let (mutated, what) = JSONMutator.mutate(e.doc[[.key("nodes"), .index(k), .key("attributes")]] ?? .null, using: &rng)
        e.doc.set([.key("nodes"), .index(k), .key("attributes")], to: mutated)
        return "nodes[\(k)].attributes: \(what)"
    }

    private mutating func inputShape(_ e: inout ModelEdit) -> String? {
        var shape: [JSONValue] = []
        if case let .array(dims)? = e.doc[[.key("input"), .key("shape")]] { shape = dims }
        let new: [JSONValue] = pick([
            shape + [.int(1)], Array(shape.dropLast()), [], shape.map { _ in .int(0) }, shape.map { _ in .int(100_000) },
            [.int(1_000_000), .int(1_000_000)], [.int(1 << 40)], shape.map { _ in .number(2.5) }, [.int(-3)], shape.reversed(),
            shape.map { if case let .int(d) = $0 { return .int(d + 1) } else { return $0 } },
        ])
        e.doc.set([.key("input"), .key("shape")], to: .array(new))
        return "input.shape -> \(JSONValue.array(new).text())"
    }

    /// The chosen node listed twice, or every node in reverse order.
    private func nodeList(_ e: inout ModelEdit, duplicate: Bool) -> String? {
        guard duplicate else {
            e.doc.set([.key("nodes")], to: .array(e.nodes.reversed()))
            return "nodes in reverse order"
        }
        if let copy = e.doc[e.nodePath] { e.doc.set([.key("nodes")], to: .array(e.nodes + [copy])) }
        return "node '\(e.nodeName)' listed twice"
    }

    private func dropNode(_ e: inout ModelEdit) -> String? {
        e.doc.set(e.nodePath, to: nil)
        return "node '\(e.nodeName)' removed"
    }

    private mutating func output(_ e: inout ModelEdit) -> String? {
        let new = pick(["missing", "x"] + e.tensors)
        e.doc.set([.key("output")], to: .string(new))
        return "output -> '\(new)'"
    }

    private func twoOutputs(_ e: inout ModelEdit) -> String? {
        e.doc.set(e.nodePath + [.key("outputs")], to: .array([.string("\(e.nodeName)_a"), .string("\(e.nodeName)_b")]))
        return "node '\(e.nodeName)' with two outputs"
    }

    /// A weight role renamed, pointed at no constant or another one, or dropped.
    private mutating func weightRole(_ e: inout ModelEdit) -> String? {
        guard case let .object(roles)? = e.doc[e.nodePath + [.key("weights")]], let role = roles.first else { return nil }
        let choice = pick(["rename-role", "undefined-constant", "other-constant", "drop-role"])
        let at = e.nodePath + [.key("weights"), .key(role.key)]
        switch choice {
        case "rename-role": e.doc.set(e.nodePath + [.key("weights")], to: .object([("Q", role.value)] + roles.dropFirst()))
        case "undefined-constant": e.doc.set(at, to: .string("nowhere"))
        case "other-constant": e.doc.set(at, to: .string(pick(constantNames(e.doc))))
        default: e.doc.set(at, to: nil)
        }
        return "node '\(e.nodeName)' weight \(role.key): \(choice)"
    }

    /// A constant's file: missing, a directory, another kind of file, a device.
    private mutating func constantPath(_ e: inout ModelEdit) -> String? {
        let name = pick(constantNames(e.doc))
        let target = pick(["weights/missing.npy", "weights", "model.json", "../data/val_y.npy", "../data/val_x.npy", "",
                           "reference/val_logits.npy", "/nonexistent/w.npy", "/dev/null", "/dev/zero", "weights/../weights/./x.npy"])
        e.doc.set([.key("constants"), .key(name)], to: .string(target))
        return "constant '\(name)' -> '\(target)'"
    }

    private func sequenceFlag(_ e: inout ModelEdit) -> String? {
        let current: Bool
        if case let .bool(b)? = e.doc[[.key("input"), .key("sequence")]] { current = b } else { current = false }
        setMember(&e.doc, [.key("input")], "sequence", .bool(!current))
        return "input.sequence -> \(!current)"
    }

    private mutating func training(_ e: inout ModelEdit) -> String? {
        let (key, value) = pick([("float_val_accuracy", JSONValue.number(97.5)), ("float_test_accuracy", .number(-0.1)),
                                 ("float_val_accuracy", .string("NaN")), ("reference_logits", .object([("val", .string("weights/fc.W.npy"))])),
                                 ("reference_logits", .object([("val", .string("missing.npy"))])), ("train_seconds", .string("long"))])
        if e.doc[[.key("training")]] == nil, case let .object(pairs) = e.doc { e.doc = .object(pairs + [("training", .object([]))]) }
        setMember(&e.doc, [.key("training")], key, value)
        return "training.\(key) = \(value.text())"
    }

    private mutating func modelName(_ e: inout ModelEdit) -> String? {
        let name = pick(["", "mlp */ int x; /*", "名前", String(repeating: "m", count: 65), "a\nb", "ok-name 1.0"])
        e.doc.set([.key("name")], to: .string(name))
        return "name -> '\(name)'"
    }

    /// Valid but extreme factors: subnormal, huge, zero, negative.
    private mutating func extremeScale(_ e: inout ModelEdit) -> String? {
        let scaled = e.nodes.indices.filter { e.nodes[$0][[.key("attributes"), .key("scale")]] != nil }
        guard !scaled.isEmpty else { return nil }
        let k = pick(scaled)
        let value = pick([JSONValue.raw("1e-310"), .number(.leastNonzeroMagnitude), .number(1e308), .number(0), .number(-1e300),
                          .number(1e-30), .number(65_504), .number(-1), .number(1e-5), .number(3e4)])
        e.doc.set([.key("nodes"), .index(k), .key("attributes"), .key("scale")], to: value)
        return "nodes[\(k)].attributes.scale = \(value.text())"
    }

    /// Every entry of one attribute made large: windows and shapes that ask for big tensors.
    private mutating func largeAttribute(_ e: inout ModelEdit) -> String? {
        let attributed = e.nodes.indices.filter { e.nodes[$0][[.key("attributes")]] != nil }
        guard !attributed.isEmpty else { return nil }
        let k = pick(attributed)
        guard case let .object(pairs)? = e.nodes[k][[.key("attributes")]], let pair = pairs.randomElement(using: &rng) else { return nil }
        let big = pick([2, 3, 8, 100, 999, 999_999])
        let value: JSONValue
        if case let .array(items) = pair.value { value = .array(items.map { _ in .int(big) }) } else { value = .int(big) }
        e.doc.set([.key("nodes"), .index(k), .key("attributes"), .key(pair.key)], to: value)
        return "nodes[\(k)].attributes.\(pair.key) = \(value.text())"
    }

    private mutating func insertReshape(_ e: inout ModelEdit) -> String? {
        guard case let .string(input)? = e.nodes.first?[[.key("inputs"), .index(0)]] else { return nil }
        let shape: [Int] = pick([[999_999, 999_999, 999_999, 999_999], [64], [8, 8], [-1], [0, 64], [1, 64], [8, 8, 1], [12], [1 << 19, 4]])
        let reshape = JSONValue.object([("name", .string("reshape0")), ("op", .string("Reshape")), ("inputs", .array([.string(input)])),
                                        ("outputs", .array([.string("reshaped")])),
                                        ("attributes", .object([("shape", .array(shape.map { .int($0) }))]))])
        var first = e.nodes[0]
        first.set([.key("inputs"), .index(0)], to: .string("reshaped"))
        e.doc.set([.key("nodes")], to: .array([reshape, first] + e.nodes.dropFirst()))
        return "a Reshape to \(shape) before the first node"
    }

    func constantNames(_ doc: JSONValue) -> [String] {
        if case let .object(pairs)? = doc[[.key("constants")]], !pairs.isEmpty { return pairs.map(\.key) }
        return ["fc.W"]
    }

    /// Sets `key` of the object at `path`, adding it when missing.
    func setMember(_ doc: inout JSONValue, _ path: [JSONValue.Step], _ key: String, _ value: JSONValue) {
        guard case let .object(pairs)? = doc[path] else { return }
        if pairs.contains(where: { $0.key == key }) { doc.set(path + [.key(key)], to: value) }
        else { doc.set(path, to: .object(pairs + [(key, value)])) }
    }
}
