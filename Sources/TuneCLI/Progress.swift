import Foundation
import Tuner

/// Search progress on stderr: one updating line on a terminal, a plain line every 100 candidates otherwise.
final class Progress: @unchecked Sendable {
    let started: Date
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastPrinted = 0

    init(started: Date) { self.started = started }

    func update(_ p: SearchProgress) {
        let n = p.evaluations
        guard isTerminal ? n - lastPrinted >= 5 : n - lastPrinted >= 100 else { return }
        lastPrinted = n
        let best = p.bestFeasibleAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "none"
        let line = "search   \(n) candidates (\(p.strategy)), \(p.feasible) within budget, best feasible \(best), "
            + String(format: "%.1f s", Date().timeIntervalSince(started))
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// A line about work before the search (called from build threads).
    func note(_ text: String) {
        let line = text + String(format: ", %.1f s", Date().timeIntervalSince(started))
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Ctrl-C (or SIGTERM, as a batch or Slurm sends at a time limit) asks the search to stop: it
/// finishes the candidate at hand, then the log and the best so far are written. A second one stops
/// at once; the log is already on disk line by line, so `resumeHint` tells the user how to go on.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static var requested: Bool { flag != 0 }

    static func install(resumeHint: String? = nil) {
        let stopNow = "\nstopped at once by a second interrupt" + (resumeHint.map { ": \($0)" } ?? "") + "\n"
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: number, queue: .global())
            s.setEventHandler {
                if flag != 0 {  // a second one stops at once
                    FileHandle.standardError.write(Data(stopNow.utf8))
                    exit(130)
                }
                flag = 1
                FileHandle.standardError.write(Data("\ninterrupted: finishing the current candidate, then writing the best so far\n".utf8))
            }
            s.resume()
            sources.append(s)
        }
    }
}
