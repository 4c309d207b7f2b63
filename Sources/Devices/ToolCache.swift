import FixedPoint
import Foundation

/// Small host programs the devices need (the simavr runner, the qemu timing plugin), compiled from
/// the checkout's C sources on first use and cached under `.build/mcutune-tools`, one binary per
/// version of the source.
public struct ToolCache: Sendable {
    /// The checkout: sources under `tools/`, the cache under `.build/`.
    public let root: String

    public init(root: String) { self.root = root }

    public func source(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// The binary built from `tools/<relative>` with `cc <flags> SOURCE -o OUT <libraries>`.
    public func binary(for relative: String, flags: [String], libraries: [String] = [], suffix: String = "") throws(DeviceError) -> String {
        let path = source(relative)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .toolFailed(tool: "mcutune tools", output: "cannot read \(path); is MCUTUNE_HOME the checkout?")
        }
        guard let cc = ProcessRunner.find("cc") else { throw .toolMissing(tool: "cc", package: "gcc") }
        let hash = FNV1a.hash((text + flags.joined(separator: " ") + libraries.joined(separator: " ")).utf8)
        let cacheDirectory = (root as NSString).appendingPathComponent(".build/mcutune-tools")
        let name = ((relative as NSString).lastPathComponent as NSString).deletingPathExtension
        let binary = "\(cacheDirectory)/\(name)-\(String(hash, radix: 16))\(suffix)"
        if FileManager.default.fileExists(atPath: binary) { return binary }
        do { try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: cacheDirectory, reason: error.localizedDescription)
        }
        // Build under a name of its own and rename, so a concurrent build (another process, or
        // another test in this one) never sees half a binary.
        let partial = "\(binary).\(UUID().uuidString).partial"
        let build = try ProcessRunner.run(cc, flags + [path, "-o", partial] + libraries)
        guard build.status == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw .toolFailed(tool: "cc \(path)", output: build.stderr)
        }
        do { try FileManager.default.moveItem(atPath: partial, toPath: binary) } catch {
            try? FileManager.default.removeItem(atPath: partial)
            // A concurrent build got there first: its binary is the same.
            guard FileManager.default.fileExists(atPath: binary) else {
                throw .cannotWrite(path: binary, reason: error.localizedDescription)
            }
        }
        return binary
    }
}
