import Foundation

/// A binutils of one target (`avr-`, `arm-none-eabi-`): section sizes, symbols and disassembly.
public struct Binutils: Sendable {
    public let size: String
    public let objdump: String
    public let nm: String

    public static func locate(prefix: String, package: String) throws(DeviceError) -> Binutils {
        guard let size = ProcessRunner.find("\(prefix)size"), let objdump = ProcessRunner.find("\(prefix)objdump"),
              let nm = ProcessRunner.find("\(prefix)nm") else {
            throw .toolMissing(tool: "\(prefix)size", package: package)
        }
        return Binutils(size: size, objdump: objdump, nm: nm)
    }

    public func sizes(of elf: String, textSections: Set<String> = [".text"]) throws(DeviceError) -> FirmwareSizes {
        let result = try ProcessRunner.run(size, ["-A", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "\(size) \(elf)", output: result.stderr) }
        return FirmwareSizes.parse(result.stdout, textSections: textSections)
    }

    public func disassembly(of elf: String) throws(DeviceError) -> String {
        let result = try ProcessRunner.run(objdump, ["-d", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "\(objdump) -d \(elf)", output: result.stderr) }
        return result.stdout
    }

    /// Every sized symbol: name -> bytes (`nm -S`).
    public func symbolSizes(of elf: String) throws(DeviceError) -> [String: Int] {
        try symbols(of: elf).mapValues(\.size)
    }

    /// Every symbol: name -> (address, bytes); linker symbols have no size (0).
    public func symbols(of elf: String) throws(DeviceError) -> [String: (address: Int, size: Int)] {
        let result = try ProcessRunner.run(nm, ["-S", elf])
        guard result.status == 0 else { throw .toolFailed(tool: "\(nm) -S \(elf)", output: result.stderr) }
        var symbols: [String: (address: Int, size: Int)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let address = Int(fields[0], radix: 16) else { continue }
            let bytes = fields.count == 4 ? Int(fields[1], radix: 16) ?? 0 : 0
            symbols[String(fields[fields.count - 1])] = (address, bytes)
        }
        return symbols
    }

    /// The C and assembly files of a firmware directory, sorted (so builds are repeatable).
    static func cSources(in directory: String) throws(DeviceError) -> [String] {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .toolFailed(tool: "build", output: "cannot list \(directory): \(error.localizedDescription)")
        }
        return files.filter { $0.hasSuffix(".c") || $0.hasSuffix(".S") }.sorted()
    }

    /// The `-fstack-usage` files of the sources (one per translation unit).
    static func stackUsageFiles(for sources: [String], in directory: String) -> [String] {
        sources.filter { $0.hasSuffix(".c") }.map { "\(directory)/" + ($0 as NSString).deletingPathExtension + ".su" }
            .compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    }

    static func firstLine(of tool: String, _ arguments: [String]) -> String {
        guard let result = try? ProcessRunner.run(tool, arguments) else { return (tool as NSString).lastPathComponent }
        return String((result.stdout + result.stderr).split(separator: "\n").first ?? "")
    }
}
