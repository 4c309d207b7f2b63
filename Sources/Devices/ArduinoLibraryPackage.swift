import Emit
import FixedPoint
import Foundation
import Hardware

/// The pick's Arduino library (`ArduinoLibrary`) written to disk, zipped for the IDE's "Add .ZIP
/// Library" (`mcutune_model.zip`, the library folder at its top), and its examples compiled with
/// arduino-builder against it, as the IDE would after installing the zip.
public struct ArduinoLibraryPackage: Sendable {
    /// The folder that holds the library folder (what arduino-builder's `-libraries` takes).
    public var librariesDirectory: String
    public var zip: String

    public var libraryDirectory: String { "\(librariesDirectory)/\(ArduinoLibrary.name)" }

    public init(librariesDirectory: String, zip: String) {
        self.librariesDirectory = librariesDirectory
        self.zip = zip
    }

    /// Writes `files` (paths inside the library) under `directory/ArduinoLibrary.name` and zips them.
    @discardableResult
    public static func write(_ files: [String: String], in directory: String) throws(DeviceError) -> ArduinoLibraryPackage {
        let package = ArduinoLibraryPackage(librariesDirectory: directory, zip: "\(directory)/\(ArduinoLibrary.name).zip")
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let full = "\(package.libraryDirectory)/\(path)"
            do {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch { throw .cannotWrite(path: full, reason: error.localizedDescription) }
            try SourceFile.write(text, to: full)
        }
        guard let zip = ProcessRunner.find("zip") else { throw .toolMissing(tool: "zip", package: "zip") }
        try? FileManager.default.removeItem(atPath: package.zip)
        // -X: no extra file attributes, so the same library zips to the same bytes.
        let result = try ProcessRunner.run(zip, ["-q", "-r", "-X", package.zip, ArduinoLibrary.name], in: directory)
        guard result.status == 0 else { throw .toolFailed(tool: "zip (\(package.zip))", output: result.stderr + result.stdout) }
        return package
    }

    /// The examples in the library, by name.
    public func examples() -> [String] {
        let folder = "\(libraryDirectory)/examples"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// Compiles example `name` against the library for `target`; returns its ELF.
    public func compileExample(_ name: String, for target: Target, buildDirectory: String) throws(DeviceError) -> String {
        try ArduinoBuilder.locate().build(sketchDirectory: "\(libraryDirectory)/examples/\(name)", buildDirectory: buildDirectory,
                                          for: target, libraries: [librariesDirectory])
    }
}
