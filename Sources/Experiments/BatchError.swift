/// Errors of batches, each naming the file or option concerned and what to do.
public enum BatchError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case otherConfig(directory: String, kept: String)
    case noExecutable
    case unknownTask(index: Int, count: Int, path: String)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case let .otherConfig(directory, kept):
            "\(directory) holds a batch of another config (\(kept)); give that config to continue it, or choose another --out"
        case .noExecutable: "cannot find the tune executable to start runs with"
        case let .unknownTask(index, count, path): "--task \(index): \(path) lists \(count) runs (0 to \(count - 1))"
        }
    }
}
