/// A buffer to place: its size and the positions (inclusive) during which it is live.
public struct BufferRequest: Hashable, Sendable {
    public var bytes: Int
    public var first: Int
    public var last: Int

    public init(bytes: Int, first: Int, last: Int) {
        self.bytes = bytes
        self.first = first
        self.last = last
    }

    public func isLive(together other: BufferRequest) -> Bool { first <= other.last && other.first <= last }
}

/// Offsets for a list of buffers, and what they cost.
public struct MemoryPlan: Sendable, Equatable {
    public var planner: String
    public var offsets: [Int]
    /// Bytes the arena needs: the highest end of any buffer.
    public var bytes: Int
    /// The largest number of bytes live at any one position: no plan can need less.
    public var lowerBound: Int
    /// The exact planner sets this when its search finished (or met the lower bound).
    public var provenOptimal = false

    public init(planner: String, requests: [BufferRequest], offsets: [Int], alignment: Int = 2) {
        self.planner = planner
        self.offsets = offsets
        self.bytes = aligned(zip(requests, offsets).map { $0.bytes + $1 }.max() ?? 0, alignment)
        self.lowerBound = MemoryPlan.lowerBound(requests, alignment: alignment)
    }

    /// True when two buffers live at the same time share a byte. Every planner must keep this false.
    public static func overlaps(_ requests: [BufferRequest], _ offsets: [Int]) -> Bool {
        for i in requests.indices {
            for j in requests.indices where j > i && requests[i].isLive(together: requests[j]) && requests[i].bytes > 0 && requests[j].bytes > 0 {
                if offsets[i] < offsets[j] + requests[j].bytes && offsets[j] < offsets[i] + requests[i].bytes { return true }
            }
        }
        return false
    }

    /// max over positions of the bytes live there (each buffer rounded up to the alignment, since
    /// the next buffer can start no sooner).
    public static func lowerBound(_ requests: [BufferRequest], alignment: Int = 2) -> Int {
        let positions = Set(requests.map(\.first))
        return positions.map { p in
            requests.filter { $0.first <= p && p <= $0.last }.reduce(0) { $0 + aligned($1.bytes, alignment) }
        }.max() ?? 0
    }

    public var gap: Int { bytes - lowerBound }
}

/// Places buffers in one arena. Offsets are multiples of `alignment`.
public protocol MemoryPlanner: Sendable {
    var name: String { get }
    func plan(_ requests: [BufferRequest], alignment: Int) -> MemoryPlan
}

func aligned(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

/// The lowest aligned offset at which `request` fits among `placed` buffers live at the same time.
func lowestFit(_ request: BufferRequest, among placed: [(BufferRequest, Int)], alignment: Int) -> Int {
    let conflicts = placed.filter { $0.0.isLive(together: request) && $0.0.bytes > 0 }.sorted { $0.1 < $1.1 }
    var offset = 0
    for (other, at) in conflicts {
        if offset + request.bytes <= at { break }
        offset = max(offset, aligned(at + other.bytes, alignment))
    }
    return offset
}
