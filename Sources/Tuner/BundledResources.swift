import Foundation

/// Where the bundled models, datasets and board descriptions live.
///
/// The tool runs from its checkout (`./tune`, `swift run tune`, `.build/*/tune`), so the root is
/// found by walking up from the executable to the directory that holds `configs/targets`.
/// `MCUTUNE_HOME` overrides it.
public struct BundledResources: Sendable {
    public static let defaultModelName = "fastgrnn-japanesevowels"

    public let root: String

    public init(root: String) { self.root = root }

    /// The resources next to this executable, or nil (with the places searched) if none are found.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: String = CommandLine.arguments.first ?? "") -> Result<BundledResources, TunerError> {
        if let home = environment["MCUTUNE_HOME"] {
            return isRoot(home) ? .success(BundledResources(root: home))
                : .failure(.resourcesNotFound(searched: ["MCUTUNE_HOME=\(home)"]))
        }
        var searched: [String] = []
        let startPoints = [URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent(),
                           URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        for start in startPoints {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                if isRoot(dir.path) { return .success(BundledResources(root: dir.path)) }
                searched.append(dir.path)
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return .failure(.resourcesNotFound(searched: Array(searched.prefix(4))))
    }

    private static func isRoot(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("configs/targets"))
    }

    public var targetsDirectory: String { (root as NSString).appendingPathComponent("configs/targets") }
    public var modelsDirectory: String { (root as NSString).appendingPathComponent("models") }
    public var defaultModel: String { (modelsDirectory as NSString).appendingPathComponent(Self.defaultModelName) }

    /// Names of the bundled models (directories under `models/` with a `model.json`).
    public var bundledModels: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: (modelsDirectory as NSString).appendingPathComponent("\($0)/model.json"))
        }.sorted()
    }

    /// A model argument: a path, or the name of a bundled model.
    public func resolveModel(_ argument: String?) -> String {
        guard let argument else { return defaultModel }
        if FileManager.default.fileExists(atPath: argument) { return argument }
        let bundled = (modelsDirectory as NSString).appendingPathComponent(argument)
        return FileManager.default.fileExists(atPath: bundled) ? bundled : argument
    }
}
