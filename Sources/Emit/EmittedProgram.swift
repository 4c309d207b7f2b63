import FixedPoint

/// The C library for one fixed-point program.
public struct EmittedProgram: Sendable {
    public var header: String
    public var source: String
    public var arena: ArenaPlan
    /// Bytes of weights and tables in flash.
    public var constantBytes: Int
    public var isRecurrent: Bool
}
