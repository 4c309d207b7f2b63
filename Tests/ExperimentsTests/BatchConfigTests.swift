import Testing
import TestSupport
@testable import Experiments
import Tuner

/// Bad batch configs get one clear error each, naming the file, line, key and what is allowed.
@Suite struct BatchConfigTests {
    let resources = BundledResources(root: Repository.root)

    func error(_ yaml: String) -> String {
        do {
            _ = try BatchConfig.parse(yaml, path: "bad.yaml", resources: resources)
            return "no error"
        } catch { return error.description }
    }

    @Test func aGoodConfigExpandsToItsMatrixInOrder() throws {
        let config = try BatchConfig.parse("""
            matrix:
              model: [mlp-digits, gru-italypowerdemand]
              target: uno
              budget_ram: [1024, board]
              strategy: [greedy, genetic]
              seed: [0, 1, 2]
            options: {max_evaluations: 50, verify: false}
            peers:
              - {name: SeeDot, model: mlp-digits, target: uno, accuracy: 0.95, milliseconds: 12.5}
            """, path: "ok.yaml", resources: resources)
        #expect(config.name == "ok")
        #expect(config.runs.count == 2 * 1 * 2 * 2 * 3)
        #expect(Set(config.runs.map(\.id)).count == config.runs.count)
        #expect(config.runs.first?.id == "mlp-digits-uno-ram1024-greedy-s0")
        #expect(config.runs[3].budgetRAM == 1024 && config.runs[6].budgetRAM == nil)
        let arguments = config.runs[0].arguments(directory: "D")
        #expect(arguments.contains("--no-verify") && arguments.contains("--max-evaluations") && !arguments.contains("--no-profile"))
        #expect(config.peers.first?["name"] == .text("SeeDot"))
        let measuring = try BatchConfig.parse("matrix:\n  model: [gru-italypowerdemand]\n  target: [uno]\noptions: {measure_runs: true}\n",
                                              path: "runs.yaml", resources: resources)
        #expect(measuring.runs[0].arguments(directory: "D").contains("--measure-runs") && !arguments.contains("--measure-runs"))
    }

    @Test func anONNXModelRunsWithTheDatasetItIsGiven() throws {
        let onnx = Repository.path("models/onnx/mlp-digits.onnx"), digits = Repository.path("data/digits")
        let config = try BatchConfig.parse("""
            matrix:
              model: [mlp-digits, {model: \(onnx), data: \(digits)}]
              target: uno
            """, path: "ok.yaml", resources: resources)
        #expect(config.runs.map(\.id) == ["mlp-digits-uno-ramall-genetic-s0", "mlp-digits_onnx-uno-ramall-genetic-s0"])
        let arguments = config.runs[1].arguments(directory: "D")
        #expect(arguments.starts(with: ["run", "--model", onnx]) && arguments.contains("--data"))
        #expect(arguments[(arguments.firstIndex(of: "--data") ?? 0) + 1] == digits)
        #expect(!config.runs[0].arguments(directory: "D").contains("--data"))
        // Without its dataset, or with a directory that holds none: one clear error each.
        #expect(error("matrix:\n  model: [\(onnx)]\n  target: [uno]\n")
                == "bad.yaml:2: matrix.model: '\(onnx)' is an ONNX model, which names no dataset; write it as {model: \(onnx), data: DIR}")
        #expect(error("matrix:\n  model: [{model: \(onnx), data: /tmp}]\n  target: [uno]\n")
                == "bad.yaml:2: matrix.model.data: '/tmp' is not a dataset directory (no dataset.json in it)")
        #expect(error("matrix:\n  model: [{model: \(onnx)}]\n  target: [uno]\n").hasPrefix("bad.yaml:2: matrix.model: an entry written as a mapping needs both"))
    }

    @Test func eachBadConfigNamesWhatIsWrong() {
        let base = "matrix:\n  model: [mlp-digits]\n  target: [uno]\n"
        let cases: [(String, String)] = [
            ("matrix:\n  model: [no-such-model]\n  target: [uno]\n", "bad.yaml:2: matrix.model: unknown model 'no-such-model'; allowed: a model directory, an ONNX file, or one of "),
            ("matrix:\n  model: [mlp-digits]\n  target: [esp32]\n", "bad.yaml:3: matrix.target: unknown target 'esp32'; allowed: "),
            (base + "  strategy: [annealing]\n", "bad.yaml:4: matrix.strategy: unknown strategy 'annealing'; allowed: greedy, genetic, random, exhaustive"),
            (base + "  seeds: [1]\n", "bad.yaml:4: unknown key 'seeds' in 'matrix'; allowed: model, target, budget_ram, strategy, seed"),
            (base + "jobs: 2\n", "bad.yaml:4: unknown key 'jobs' in the top level; allowed: name, matrix, options, peers"),
            (base + "  seed: [one]\n", "bad.yaml:4: matrix.seed: 'one' is not a seed; allowed: whole numbers 0 or more"),
            (base + "  budget_ram: [-5]\n", "bad.yaml:4: matrix.budget_ram: '-5' is not a budget; allowed: bytes above 0, or board"),
            (base + "  budget_ram: [4096]\n", "bad.yaml:4: matrix.budget_ram: 4096 B is more than the 2048 B of RAM that target 'uno' has"),
            (base + "options:\n  verify: maybe\n", "bad.yaml:5: options.verify: 'maybe' is not true or false"),
            (base + "options:\n  max_evaluations: 1.5\n", "bad.yaml:5: options.max_evaluations: '1.5' is not a whole number above 0"),
            (base + "options:\n  pick: fastest\n", "bad.yaml:5: options.pick: 'fastest' needs options.max_loss (points)"),
            (base + "options:\n  profile: false\n  measure_runs: true\n",
             "bad.yaml:6: options.measure_runs: true measures runs beside the kernel profile; it needs options.profile and options.verify left true"),
            ("matrix:\n  model: []\n  target: [uno]\n", "bad.yaml:2: matrix.model is empty: the matrix has no runs; give at least one value"),
            ("matrix:\n  target: [uno]\n", "bad.yaml: missing key 'matrix.model'"),
            ("name: x\n", "bad.yaml:1: missing key 'matrix'"),
            ("- a\n- b\n", "bad.yaml:1: the file must be a mapping with the keys name, matrix, options, peers"),
            ("matrix: [\n", "bad.yaml: not valid YAML: "),
            (base + "peers:\n  - {model: mlp-digits}\n", "bad.yaml:5: a peer needs a 'name'"),
        ]
        for (yaml, expected) in cases {
            let message = error(yaml)
            #expect(message.hasPrefix(expected), "\(yaml)\n→ \(message)")
        }
    }
}
