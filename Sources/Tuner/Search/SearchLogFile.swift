import Foundation

/// A search log read back (`log.jsonl`, docs/search-log.md): for `tune --resume`, `tune report`
/// and `tune plot`. A run killed mid-write leaves at most a torn last line; it is skipped with a
/// warning, as is any other line that is not a log object, so one bad line never loses the rest.
public struct SearchLogFile: Sendable {
    public var path: String
    public var header: SearchLog.Header?
    /// The header as written, key by key (for comparing a resumed run's settings with the log's).
    public var headerFields: [String: String]
    public var candidates: [SearchLog.CandidateLine]
    public var summary: SearchLog.Summary?
    /// What was skipped, each naming the file and line.
    public var warnings: [String]

    /// Reads `path`; throws only when the file cannot be read at all.
    public static func read(path: String) throws(TunerError) -> SearchLogFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
        }
        return parse(String(decoding: data, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) -> SearchLogFile {
        var log = SearchLogFile(path: path, header: nil, headerFields: [:], candidates: [], summary: nil, warnings: [])
        let decoder = JSONDecoder()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() where !line.isEmpty {
            let data = Data(line.utf8)
            let where_ = "\(path):\(number + 1)"
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let type = object["type"] as? String else {
                let torn = number == lines.count - 1 || (number == lines.count - 2 && lines.last?.isEmpty == true)
                log.warnings.append("\(where_): skipped " + (torn && !text.hasSuffix("\n") ? "a torn last line (the run was stopped while writing it)" : "a line that is not a JSON object with a \"type\""))
                continue
            }
            do {
                switch type {
                case "header":
                    log.header = try decoder.decode(SearchLog.Header.self, from: data)
                    log.headerFields = object.mapValues { value in
                        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                            .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
                    }
                case "candidate": log.candidates.append(try decoder.decode(SearchLog.CandidateLine.self, from: data))
                case "summary": log.summary = try decoder.decode(SearchLog.Summary.self, from: data)
                default: log.warnings.append("\(where_): skipped a line of unknown type \"\(type)\"")
                }
            } catch {
                log.warnings.append("\(where_): skipped a \(type) line that does not match the log schema (\(error))")
            }
        }
        return log
    }
}
