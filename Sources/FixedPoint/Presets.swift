import ModelIR

/// Named starting configs, all with data-driven scales (each tensor's format is the finest that
/// holds its profiled range).
public enum Presets {
    public static let names = ["all16", "all8", "datadriven"]

    /// - `all16`: every tensor 16 bits.
    /// - `all8`: every tensor 8 bits.
    /// - `datadriven`: weights 8 bits, activations 16 bits (the tuner's usual starting point).
    public static func config(_ name: String, graph: Graph, profile: RangeProfile) throws(FixedPointError) -> QuantConfig {
        let bits: (_ isWeight: Bool) -> Int
        switch name {
        case "all16": bits = { _ in 16 }
        case "all8": bits = { _ in 8 }
        case "datadriven": bits = { $0 ? 8 : 16 }
        default: throw .unknownPreset(name, known: names)
        }
        return uniform(graph: graph, profile: profile, bits: bits)
    }

    /// Every tensor at the finest format that holds its profiled range, at `bits(isWeight)` bits.
    public static func uniform(graph: Graph, profile: RangeProfile, bits: (_ isWeight: Bool) -> Int) -> QuantConfig {
        var formats: [String: TensorFormat] = [:]
        for tensor in FixedPointGraph.tensors(of: graph) {
            let isWeight = graph.constants[tensor] != nil
            formats[tensor] = TensorFormat.fitting(maxAbs: profile.maxAbs[tensor] ?? 0, bits: bits(isWeight))
        }
        return QuantConfig(formats: formats)
    }
}
