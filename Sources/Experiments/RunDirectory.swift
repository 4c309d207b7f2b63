import Foundation
import Tuner

/// One `tune` run's directory, as a batch, a report or a plot sees it: `run.json` (the options it
/// was started with), `log.jsonl` (the search log, written as it goes) and `summary.json` (written last).
public struct RunDirectory: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    public var logPath: String { (path as NSString).appendingPathComponent("log.jsonl") }
    public var summaryPath: String { (path as NSString).appendingPathComponent("summary.json") }
    public var optionsPath: String { (path as NSString).appendingPathComponent("run.json") }

    /// The search log read back (a torn last line skipped with a warning).
    public func log() throws(TunerError) -> SearchLogFile { try SearchLogFile.read(path: logPath) }

    /// summary.json as a dictionary, if the run got that far.
    public func summary() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: summaryPath) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
