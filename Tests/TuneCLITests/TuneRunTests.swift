import Devices
import Foundation
import Testing
import TestSupport
import Tuner

/// `tune --budget-ram 2048 --target uno` end to end, and the emitted firmware through avr-gcc and avr-size.
@Suite struct TuneRunTests {
    @Test func defaultRunWritesAProgramThatFitsTheUno() throws {
        let out = makeTemporaryDirectory("run")
        let result = try TuneExecutable.run(["--budget-ram", "2048", "--target", "uno", "--out", out, "--max-evaluations", "120"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("front    "))
        #expect(result.stdout.contains("pick     #"))
        for file in ["model.c", "model.h", "log.jsonl", "summary.json", "config.json", "firmware/main.c",
                     "sketch/mcutune_model/mcutune_model.ino", "sketch/mcutune_model/model.c"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
        let avrGCC = try #require(ProcessRunner.find("avr-gcc"), "avr-gcc is installed by scripts/install-system-packages")
        let build = try ProcessRunner.run(avrGCC, ["-std=c99", "-O2", "-mmcu=atmega328p", "-DF_CPU=16000000UL", "-Wall", "-Wextra", "-Werror",
                                                   "main.c", "../sketch/mcutune_model/model.c", "-o", "model.elf"], in: "\(out)/firmware")
        #expect(build.status == 0, "\(build.stderr)")
        let size = try ProcessRunner.run(try #require(ProcessRunner.find("avr-size")), ["-A", "model.elf"], in: "\(out)/firmware")
        var sections: [String: Int] = [:]
        for line in size.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let bytes = Int(parts[1]) { sections[String(parts[0])] = bytes }
        }
        let flash = (sections[".text"] ?? 0) + (sections[".data"] ?? 0)
        let staticRAM = (sections[".data"] ?? 0) + (sections[".bss"] ?? 0)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any]
        #expect(flash > 0 && flash <= 32768)
        let stackEstimate = 48
        #expect(staticRAM <= 2048 - stackEstimate, "static RAM \(staticRAM)")
        #expect((summary?["pick_ram_bytes"] as? Int ?? 99999) <= 2048)
    }

    @Test func aBudgetNothingFitsSaysWhatTheSmallestNeeds() throws {
        // 100 B: below the all-8-bit program's static RAM and stack estimate (147 B with the Uno's
        // 76-byte stack estimate), so the check before the search refuses it.
        let result = try TuneExecutable.run(["--budget-ram", "100", "--target", "uno", "--strategy", "greedy",
                                             "--out", makeTemporaryDirectory("nofit"), "--max-evaluations", "40"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Error: no config fits: the smallest needs "))
        #expect(result.stderr.contains("(budget 100)"))
    }

    @Test func unknownStrategyIsNamed() throws {
        let result = try TuneExecutable.run(["--strategy", "annealing"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: unknown --strategy 'annealing'; allowed: greedy, genetic, random, exhaustive"))
    }
}
