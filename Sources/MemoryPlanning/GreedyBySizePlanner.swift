/// Largest buffer first, each at the lowest offset that does not collide with a buffer live at the
/// same time (TensorFlow Lite Micro's greedy planner). Not guaranteed optimal; usually close.
public struct GreedyBySizePlanner: MemoryPlanner {
    public let name = "greedy by size"
    public init() {}

    public func plan(_ requests: [BufferRequest], alignment: Int) -> MemoryPlan {
        let order = requests.indices.sorted { (-requests[$0].bytes, requests[$0].first, $0) < (-requests[$1].bytes, requests[$1].first, $1) }
        return place(requests, order: order, alignment: alignment, name: name)
    }
}

/// Buffers in the order they come alive, each at the lowest offset that fits.
public struct FirstFitByLifetimePlanner: MemoryPlanner {
    public let name = "first fit by lifetime"
    public init() {}

    public func plan(_ requests: [BufferRequest], alignment: Int) -> MemoryPlan {
        let order = requests.indices.sorted { (requests[$0].first, -requests[$0].bytes, $0) < (requests[$1].first, -requests[$1].bytes, $1) }
        return place(requests, order: order, alignment: alignment, name: name)
    }
}

/// Places buffers one by one in `order`, each at its lowest fit.
func place(_ requests: [BufferRequest], order: [Int], alignment: Int, name: String) -> MemoryPlan {
    var offsets = Array(repeating: 0, count: requests.count)
    var placed: [(BufferRequest, Int)] = []
    for i in order {
        offsets[i] = lowestFit(requests[i], among: placed, alignment: alignment)
        placed.append((requests[i], offsets[i]))
    }
    return MemoryPlan(planner: name, requests: requests, offsets: offsets, alignment: alignment)
}

/// A plan with every buffer in its own space: what no reuse costs.
public struct NaivePlanner: MemoryPlanner {
    public let name = "naive (no reuse)"
    public init() {}

    public func plan(_ requests: [BufferRequest], alignment: Int) -> MemoryPlan {
        var offsets: [Int] = [], next = 0
        for r in requests {
            offsets.append(next)
            next = aligned(next + r.bytes, alignment)
        }
        return MemoryPlan(planner: name, requests: requests, offsets: offsets, alignment: alignment)
    }
}
