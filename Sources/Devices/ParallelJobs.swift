import Dispatch
import Foundation

/// Independent jobs (firmware builds and simulator runs) on a few threads at once.
public enum ParallelJobs {
    /// `body(i)` for every i in 0..<count, at most `jobs` at a time; the results in order of i.
    /// `progress` is told how many are done after each one.
    public static func map<T: Sendable>(_ count: Int, jobs: Int, progress: (@Sendable (Int) -> Void)? = nil,
                                        _ body: @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let state = State<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
            while let i = state.take() {
                let done = state.finish(i, Result { try body(i) })
                progress?(done)
            }
        }
        return state.results.map { $0 ?? .failure(CancellationError()) }
    }

    private final class State<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0, done = 0
        private(set) var results: [Result<T, any Error>?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func take() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < results.count else { return nil }
            next += 1
            return next - 1
        }

        func finish(_ i: Int, _ result: Result<T, any Error>) -> Int {
            lock.lock()
            defer { lock.unlock() }
            results[i] = result
            done += 1
            return done
        }
    }
}
