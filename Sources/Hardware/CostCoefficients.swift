import Foundation

/// What each unit of work costs on a target: cycles per count of `CostFeatures`, code bytes per
/// count of `CostFeatures.code`, and the stack and platform RAM the search assumes. Written by
/// `tune calibrate` from micro-benchmarks run on the board's simulator (`calibrated`, with the
/// provenance of the fit); a hand-written file may give a few coefficients and say `calibrated: false`.
public struct CostCoefficients: Codable, Sendable, Equatable {
    /// How a calibration was made, and how well it fits.
    public struct Provenance: Codable, Sendable, Equatable {
        public var date: String
        public var toolVersion: String
        public var compiler: String
        public var flags: [String]
        public var simulator: String
        /// "cycle-accurate" (simavr) or "instruction-timed" (qemu with the core's TRM timings).
        public var cycleCount: String
        public var seed: UInt64
        public var programs: Int
        public var measuredPieces: Int
        /// Relative errors of the fit on what it was fitted to: each marked piece (node or glue),
        /// each whole program (API calls), and each program's flash.
        public var residuals: [String: Double]

        public init(date: String, toolVersion: String, compiler: String, flags: [String], simulator: String, cycleCount: String,
                    seed: UInt64, programs: Int, measuredPieces: Int, residuals: [String: Double]) {
            self.date = date
            self.toolVersion = toolVersion
            self.compiler = compiler
            self.flags = flags
            self.simulator = simulator
            self.cycleCount = cycleCount
            self.seed = seed
            self.programs = programs
            self.measuredPieces = measuredPieces
            self.residuals = residuals
        }

        enum CodingKeys: String, CodingKey {
            case date, compiler, flags, simulator, seed, programs, residuals
            case toolVersion = "tool_version", cycleCount = "cycle_count", measuredPieces = "measured_pieces"
        }
    }

    /// Where the numbers come from, in words.
    public var source: String
    public var calibrated: Bool
    public var cycles: [String: Double] { didSet { nearest = NearestMemo() } }
    public var codeBytes: [String: Double] { didSet { nearest = NearestMemo() } }
    /// The search's estimate of the worst-case stack of the library's calls.
    public var stackBytes: Int
    /// What the platform itself takes (0 for the bare firmware the tool writes).
    public var platformRAMBytes: Int
    public var provenance: Provenance?
    /// Each key's `CoefficientTable.nearest` as found the first time: the search prices every
    /// candidate, and a scan of the ~2,000 coefficients per key it lacks was most of a search's time
    /// (19 ms a price on the Nano 33 BLE). Shared by copies; a new table starts a new memo.
    private var nearest = NearestMemo()

    public init(source: String, calibrated: Bool, cycles: [String: Double], codeBytes: [String: Double], stackBytes: Int,
                platformRAMBytes: Int, provenance: Provenance?) {
        self.source = source
        self.calibrated = calibrated
        self.cycles = cycles
        self.codeBytes = codeBytes
        self.stackBytes = stackBytes
        self.platformRAMBytes = platformRAMBytes
        self.provenance = provenance
    }

    enum CodingKeys: String, CodingKey {
        case source, calibrated, cycles, provenance
        case codeBytes = "code_bytes", stackBytes = "stack_bytes", platformRAMBytes = "platform_ram_bytes"
    }

    /// Σ coefficient × count; a count without a coefficient of its own is priced like its nearest
    /// relative (`CoefficientTable.nearest`), and a kernel's requantization, shift or bias term adds
    /// the coefficient of the term every kernel shares (`CostFeatures.sharedTerm`), where there is one.
    public func price(_ counts: [String: Double], in table: KeyPath<CostCoefficients, [String: Double]>) -> Double {
        let coefficients = self[keyPath: table]
        var total = 0.0
        // In key order: a dictionary's own order differs between instances, and a floating-point sum
        // in a different order differs in its last bits, which would break the byte-identical log.
        for key in counts.keys.sorted() {
            guard let count = counts[key], count != 0 else { continue }
            let own = coefficients[key] ?? nearest.value(of: key, in: table == \CostCoefficients.cycles ? 0 : 1) {
                CoefficientTable.nearest(key, in: coefficients)
            } ?? 0
            total += count * (own + (CostFeatures.sharedTerm(of: key).flatMap { coefficients[$0] } ?? 0))
        }
        return total
    }
}

/// `CoefficientTable.nearest` by key, per table (0: cycles, 1: code bytes), found once.
final class NearestMemo: @unchecked Sendable, Equatable {
    private let lock = NSLock()
    private var found: [[String: Double?]] = [[:], [:]]

    func value(of key: String, in table: Int, _ find: () -> Double?) -> Double? {
        lock.lock()
        if let known = found[table][key] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let value = find()
        lock.lock()
        found[table][key] = value
        lock.unlock()
        return value
    }

    /// A memo is what its table says, not a value of its own.
    static func == (lhs: NearestMemo, rhs: NearestMemo) -> Bool { true }
}

/// Lookup of a coefficient the calibration did not produce (a kernel variant none of its
/// benchmarks had): the coefficient of the same kind and unit whose name shares the most parts,
/// e.g. `dense.w16.x8.a64.mac` takes `dense.w16.x8.a32.mac`'s.
public enum CoefficientTable {
    /// The coefficient of the same kind (first part) and unit (last part) whose middle parts match
    /// the most: an equal part counts 2, one that extends the other ("w16f" and "w16") 1, and each
    /// part one has and the other lacks ("k3" in `conv.w8.x8.a16.c1.k3.mac`) costs 1.
    public static func nearest(_ key: String, in coefficients: [String: Double]) -> Double? {
        let parts = key.split(separator: ".")
        guard let kind = parts.first, let unit = parts.last, parts.count >= 2 else { return nil }
        let middle = parts.dropFirst().dropLast()
        var best: (score: Int, key: String)?
        for candidate in coefficients.keys {
            let other = candidate.split(separator: ".")
            guard other.count >= 2, other.first == kind, other.last == unit else { continue }
            let otherMiddle = other.dropFirst().dropLast()
            var score = -abs(middle.count - otherMiddle.count)
            for part in middle {
                if otherMiddle.contains(part) { score += 2 } else if otherMiddle.contains(where: { $0.hasPrefix(part) || part.hasPrefix($0) }) { score += 1 }
            }
            if let current = best, (current.score, candidate) >= (score, current.key) { continue }
            best = (score, candidate)
        }
        return best.flatMap { coefficients[$0.key] }
    }
}
