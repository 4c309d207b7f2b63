import Dispatch

/// Branch and bound for the smallest arena.
///
/// Any plan can be compacted so that every buffer sits at offset 0 or directly on a buffer live at
/// the same time below it. Taking the buffers of a compacted plan in order of offset, each one's
/// offset is the highest aligned end of the conflicting buffers already placed. So it suffices to
/// search over placement orders, with offsets that never decrease along the order; a branch is cut
/// when its arena already reaches the best found, and the search ends at the liveness lower bound.
/// Past `maxBuffers`, or when `timeLimit` seconds or `maxNodes` branches are spent, it returns the best
/// plan found so far (seeded with the greedy plans), which is then not proven optimal.
public struct ExactPlanner: MemoryPlanner {
    public let name = "exact (branch and bound)"
    public var maxBuffers: Int
    public var timeLimit: Double
    public var maxNodes: Int

    public init(maxBuffers: Int = 40, timeLimit: Double = 1.0, maxNodes: Int = 2_000_000) {
        self.maxBuffers = maxBuffers
        self.timeLimit = timeLimit
        self.maxNodes = maxNodes
    }

    public func plan(_ requests: [BufferRequest], alignment: Int) -> MemoryPlan {
        let seeds = [GreedyBySizePlanner().plan(requests, alignment: alignment), FirstFitByLifetimePlanner().plan(requests, alignment: alignment)]
        var best = seeds.min { $0.bytes < $1.bytes } ?? MemoryPlan(planner: name, requests: requests, offsets: [], alignment: alignment)
        let bound = MemoryPlan.lowerBound(requests, alignment: alignment)
        guard requests.count <= maxBuffers, best.bytes > bound else {
            var plan = MemoryPlan(planner: name, requests: requests, offsets: best.offsets, alignment: alignment)
            plan.provenOptimal = best.bytes <= bound
            return plan
        }
        var search = Search(requests: requests, alignment: alignment, best: best.bytes, bestOffsets: best.offsets,
                            floor: bound, deadline: Self.deadline(after: timeLimit), maxNodes: maxNodes)
        search.run()
        best = MemoryPlan(planner: name, requests: requests, offsets: search.bestOffsets, alignment: alignment)
        best.provenOptimal = !search.cutOff
        return best
    }

    /// The uptime `seconds` from now; an infinite, NaN or huge limit (more than a year) is no deadline.
    static func deadline(after seconds: Double) -> UInt64 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard seconds.isFinite, seconds < 3.2e7 else { return .max }
        return now + UInt64(max(0, seconds) * 1e9)
    }

    private struct Search {
        let requests: [BufferRequest]
        let alignment: Int
        var best: Int
        var bestOffsets: [Int]
        let floor: Int
        let deadline: UInt64
        let maxNodes: Int
        var nodes = 0
        var offsets: [Int?]
        let conflicts: [[Int]]
        /// Buffers by size, largest first: the bigger buffers decide the arena.
        let order: [Int]
        /// Distinct positions, and for each buffer the positions (indices) it is live at.
        let livePositions: [[Int]]
        /// Aligned bytes of the unplaced buffers live at each position.
        var unplacedAt: [Int]
        var cutOff = false

        init(requests: [BufferRequest], alignment: Int, best: Int, bestOffsets: [Int], floor: Int, deadline: UInt64, maxNodes: Int) {
            self.requests = requests
            self.alignment = alignment
            self.best = best
            self.bestOffsets = bestOffsets
            self.floor = floor
            self.deadline = deadline
            self.maxNodes = maxNodes
            self.offsets = Array(repeating: nil, count: requests.count)
            self.conflicts = requests.indices.map { i in
                requests.indices.filter { $0 != i && requests[$0].isLive(together: requests[i]) && requests[$0].bytes > 0 }
            }
            self.order = requests.indices.sorted { (-requests[$0].bytes, $0) < (-requests[$1].bytes, $1) }
            let positions = Array(Set(requests.map(\.first))).sorted()
            self.livePositions = requests.map { r in positions.indices.filter { r.first <= positions[$0] && positions[$0] <= r.last } }
            var unplaced = Array(repeating: 0, count: positions.count)
            for (i, r) in requests.enumerated() { for p in livePositions[i] { unplaced[p] += aligned(r.bytes, alignment) } }
            self.unplacedAt = unplaced
        }

        mutating func exhausted() -> Bool {
            if !cutOff, nodes >= maxNodes || (nodes % 1024 == 0 && DispatchTime.now().uptimeNanoseconds > deadline) { cutOff = true }
            return cutOff
        }

        mutating func run() { branch(placed: 0, lastOffset: 0, lastIndex: -1, height: 0) }

        mutating func mark(_ i: Int, placed: Bool) {
            let bytes = aligned(requests[i].bytes, alignment) * (placed ? -1 : 1)
            for p in livePositions[i] { unplacedAt[p] += bytes }
        }

        /// Places one more buffer; `height` is the arena so far. Every unplaced buffer will sit at
        /// `lastOffset` or above, and those live at one position stack, which bounds the arena from
        /// below. Buffers at the same offset are taken in index order, so each arrangement is visited once.
        mutating func branch(placed: Int, lastOffset: Int, lastIndex: Int, height: Int) {
            nodes += 1
            if best <= floor || exhausted() { return }
            if placed == requests.count {
                if height < best {
                    best = height
                    bestOffsets = offsets.map { $0 ?? 0 }
                }
                return
            }
            if max(height, lastOffset + (unplacedAt.max() ?? 0)) >= best { return }
            for i in order where offsets[i] == nil {
                var offset = 0
                for j in conflicts[i] { if let o = offsets[j] { offset = max(offset, aligned(o + requests[j].bytes, alignment)) } }
                guard offset > lastOffset || (offset == lastOffset && i > lastIndex) else { continue }
                let top = max(height, aligned(offset + requests[i].bytes, alignment))
                guard top < best else { continue }
                offsets[i] = offset
                mark(i, placed: true)
                branch(placed: placed + 1, lastOffset: offset, lastIndex: i, height: top)
                mark(i, placed: false)
                offsets[i] = nil
                if best <= floor || exhausted() { return }
            }
        }
    }
}
