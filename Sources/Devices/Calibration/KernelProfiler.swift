import Emit
import FixedPoint
import Foundation
import Hardware
import ModelIR

/// Measures a model's own kernels on a board (`KernelProfile`): each given program of the model is
/// built twice, once marking every node (run on the simulator: cycles per node) and once as the
/// tuner writes it (its code bytes: each node's function by its symbol, and the rest).
public enum KernelProfiler {
    /// Ridge of a node's `RunScale`, per run measured: chosen by predicting each profiled run from
    /// the others (0.3 and 3 missed more at the 90th percentile on most profiles).
    static let runRidge = 1.0

    /// Profiles `programs` over the first `samples` of `split` on `device`, `jobs` builds at a time, in
    /// `directory`. `progress` is told how many programs are done.
    public static func profile(_ programs: [FixedProgram], key: String, split: DatasetSplit, samples: Int, device: any Device,
                               jobs: Int, directory: String,
                               progress: (@Sendable (Int) -> Void)? = nil) throws -> KernelProfile {
        let used = split.prefix(max(1, min(samples, split.count)))
        let outcomes = ParallelJobs.map(programs.count, jobs: jobs, progress: progress) { i in
            try measure(programs[i], split: used, device: device, directory: "\(directory)/program-\(i)")
        }
        var measured: [Measured] = []
        for outcome in outcomes { measured.append(try outcome.get()) }
        // Code bytes the size tool counts beyond the priced ones: the routines the nodes and the glue
        // reach are priced apart (`KernelProfile.routineCode`), each once.
        var glue: [String: [String: Int]] = [:]
        for (program, m) in zip(programs, measured) {
            let signature = CostFeatures.glueSignature(program)
            if glue[signature] == nil { glue[signature] = m.glueRoutines }
        }
        let residuals = measured.map { m in
            m.residual - Double(m.nodes.reduce(m.glueRoutines) { $0.merging($1.routines) { max($0, $1) } }.values.reduce(0, +))
        }
        let intercept = residuals.isEmpty ? 0 : residuals.reduce(0, +) / Double(residuals.count)
        var profile = KernelProfile(key: key, target: device.target.name, model: programs.first?.graph.name ?? "", programs: programs.count,
                                    nodes: measured.flatMap(\.nodes), pricesShifts: device.target.core.shiftsBitByBit, codeIntercept: intercept,
                                    glueRoutines: glue,
                                    runScales: runScales(measured.flatMap(\.nodes)))
        // The unmarked programs against their marked nodes: the median ratio, so one outlier moves nothing.
        let ratios = zip(programs, measured).compactMap { program, m -> Double? in
            let predicted = m.steps.map { CostModel(target: device.target, meanSteps: Double($0), profile: profile).cycles(program) }
            let (p, c) = (predicted.reduce(0, +), Double(m.plainCycles.reduce(0, +)))
            return p > 0 && c > 0 ? c / p : nil
        }
        if !ratios.isEmpty { profile.unmarkedScale = CalibrationFit.median(ratios) }
        return profile
    }

    /// Per node, its fused runs' log(measured / priced) fitted on their terms (shift forms aside),
    /// one row per distinct run.
    static func runScales(_ nodes: [KernelProfile.Node]) -> [String: KernelProfile.RunScale] {
        var runs: [String: [Set<String>: [KernelProfile.Node]]] = [:]
        for n in nodes where n.variant == KernelProfile.fusedRun && n.measuredCycles > 0 && n.pricedCycles > 0 {
            // By name: a run's weights price its terms whatever their counts (`RunScale.factor`).
            let terms = KernelProfile.withoutShiftForms(Set(n.signature.split(separator: " ").map(CostFeatures.termName)))
            runs[n.node, default: [:]][terms, default: []].append(n)
        }
        var scales: [String: KernelProfile.RunScale] = [:]
        for (node, byTerms) in runs {
            let distinct = byTerms.sorted { $0.key.sorted().joined(separator: " ") < $1.key.sorted().joined(separator: " ") }
            let columns = Array(Set(distinct.flatMap(\.key))).sorted()
            let rows = distinct.map { run in columns.map { run.key.contains($0) ? 1.0 : 0 } }
            let targets = distinct.map { run in
                log(run.value.reduce(0) { $0 + $1.measuredCycles } / run.value.reduce(0) { $0 + $1.pricedCycles })
            }
            let fit = LinearSystem.ridge(rows: rows, targets: targets, ridge: runRidge * Double(distinct.count))
            // Code bytes on cycles per execution, one point per run: a least-squares line.
            let points = distinct.map { run in
                (cycles: run.value.reduce(0) { $0 + $1.measuredCycles } / Double(run.value.count),
                 code: run.value.reduce(0) { $0 + $1.measuredCode } / Double(run.value.count))
            }
            let code = LinearSystem.ridge(rows: points.map { [$0.cycles] }, targets: points.map(\.code), ridge: 0)
            let perCycle = max(0, code.x.first ?? 0)
            let intercept = points.reduce(0) { $0 + $1.code - perCycle * $1.cycles } / Double(points.count)
            scales[node] = KernelProfile.RunScale(intercept: fit.intercept, weights: Dictionary(uniqueKeysWithValues: zip(columns, fit.x)),
                                                  codeIntercept: intercept, codePerCycle: perCycle)
        }
        return scales
    }

    /// The nodes of one program from its marked build alone, `split` run on `device` in
    /// `directory`: each node's cycles per execution from the marks, its bytes from its function's
    /// symbol (the marks stand around the calls, so the functions are the tuner's own). What a
    /// search that measures the fused runs of its candidates (`tune --measure-runs`) asks of each:
    /// one build and one run, where `measure` builds and runs twice.
    public static func measureNodes(_ program: FixedProgram, split: DatasetSplit, device: any Device,
                                    directory: String) throws(DeviceError) -> [KernelProfile.Node] {
        let (pieces, build) = try ProgramMeasurement.measureMarked(program, split: split, device: device, directory: directory)
        return nodes(pieces, of: program, device: device, build: build)
    }

    /// The nodes among `pieces` as the profile keeps them: cycles as measured and as priced, and the
    /// bytes of each node's function by its symbol in `build` of `program` (its price where the
    /// build has no such symbol), with the routines it reaches there.
    static func nodes(_ pieces: [ProgramMeasurement.Sample], of program: FixedProgram, device: any Device,
                      build: FirmwareBuild) -> [KernelProfile.Node] {
        let cost = device.target.cost
        let names = Set(program.allSteps.map(\.node.name))
        let functions = CEmitter.nodeFunctionNames(of: program)
        let codes = CostFeatures.nodeCode(program, dsp: device.target.core.hasDSP, avr: device.target.core == .avr)
        return pieces.compactMap { piece -> KernelProfile.Node? in
            guard names.contains(piece.label), let variant = CostFeatures.variant(piece.features) else { return nil }
            let pricedCode = cost.price(codes[piece.label] ?? [:], in: \.codeBytes)
            let function = functions[piece.label]
            let measuredCode = function.flatMap { build.symbolBytes[$0] }.map(Double.init) ?? pricedCode
            return KernelProfile.Node(node: piece.label, signature: CostFeatures.signature(piece.features), variant: variant,
                                      pricedCycles: cost.price(piece.features, in: \.cycles), measuredCycles: max(0, piece.cycles),
                                      shiftBits: KernelProfile.Node.shiftBits(piece.features), pricedCode: pricedCode, measuredCode: measuredCode,
                                      routines: function.map { routines(from: $0, in: build, functions: functions) } ?? [:])
        }
    }

    /// The routines `start` reaches in `build` other than the program's node functions (`functions`),
    /// with their bytes by symbol.
    static func routines(from start: String, in build: FirmwareBuild, functions: [String: String]) -> [String: Int] {
        let reached = build.callGraph.reachable(from: start, boundaries: Set(functions.values))
        return Dictionary(uniqueKeysWithValues: reached.map { ($0, build.symbolBytes[$0] ?? 0) })
    }

    /// What one program's two builds measured.
    struct Measured {
        var nodes: [KernelProfile.Node]
        /// Code bytes beyond the priced ones (the routines the nodes reach among them).
        var residual: Double
        /// The routines the code outside the nodes reaches (`main`, the glue), with their bytes.
        var glueRoutines: [String: Int]
        /// Cycles of each sample in the unmarked build, and its timesteps.
        var plainCycles: [Int]
        var steps: [Int]
    }

    /// One program: its nodes' cycles, its nodes' variants, its code bytes beyond the price, and its unmarked cycles.
    static func measure(_ program: FixedProgram, split: DatasetSplit, device: any Device,
                        directory: String) throws(DeviceError) -> Measured {
        let cost = device.target.cost
        let dsp = device.target.core.hasDSP, avr = device.target.core == .avr
        let pieces = try ProgramMeasurement.measurePieces(program, split: split, device: device, directory: "\(directory)/marked")
        let plain = try ProgramFirmware.build(program: program, device: device, split: split, maxSamples: split.count,
                                              directory: "\(directory)/plain")
        // Each node's function as the tuner writes it (no marks), by its symbol.
        let nodes = Self.nodes(pieces, of: program, device: device, build: plain.build)
        let codes = CostFeatures.nodeCode(program, dsp: dsp, avr: avr)
        var priced = cost.price(CostFeatures.glueCode(program), in: \.codeBytes)
        var measuredNodes = Set<String>()
        for node in nodes where measuredNodes.insert(node.node).inserted { priced += node.measuredCode }
        for step in program.allSteps where !measuredNodes.contains(step.node.name) {
            priced += cost.price(codes[step.node.name] ?? [:], in: \.codeBytes)
        }
        let run = try FirmwareMeasurement.measure(plain, program: program, device: device, split: split)
        let code = Double(plain.programFlash - CostModel.constantBytes(program, dsp: dsp))
        return Measured(nodes: nodes, residual: code - priced,
                        glueRoutines: routines(from: "main", in: plain.build, functions: CEmitter.nodeFunctionNames(of: program)),
                        plainCycles: run.cycles, steps: plain.samples.steps)
    }
}
