// swift-tools-version: 6.0
// mcutune: searches for the fixed-point program that runs a trained model best on a microcontroller.
import PackageDescription

let package = Package(
    name: "mcutune",
    products: [
        .executable(name: "tune", targets: ["TuneCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // OpenBLAS through its CBLAS header (Debian: libopenblas-dev).
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The model IR: tensors, ops, graphs, the model and dataset file formats, shape checking, lowering.
        .target(name: "ModelIR"),
        // ONNX files (protobuf, code generated from the official onnx.proto) imported into the model IR.
        .target(name: "ONNXImport", dependencies: ["ModelIR", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Fixed-point formats, configs, integer semantics and the resolved fixed-point program.
        .target(name: "FixedPoint", dependencies: ["ModelIR"]),
        // Self-contained C from a fixed-point program: model.h, model.c, and a host test harness.
        .target(name: "Emit", dependencies: ["ModelIR", "FixedPoint", "MemoryPlanning"]),
        // Arena planners (greedy by size, first fit by lifetime, exact) and the liveness lower bound.
        .target(name: "MemoryPlanning"),
        // Boards (clock, RAM, flash, core) and what a fixed-point program costs on them: the cost model.
        .target(name: "Hardware", dependencies: ["ModelIR", "FixedPoint", "Emit"]),
        // Toolchains, firmware builds, size and stack analysis, simulators and calibration: one
        // protocol (`Device`), a backend per core (AVR on simavr, Cortex-M on qemu).
        .target(name: "Devices", dependencies: ["ModelIR", "FixedPoint", "Evaluator", "Emit", "Hardware"]),
        // Batched evaluation of a graph over a dataset split on OpenBLAS.
        .target(name: "Evaluator", dependencies: ["ModelIR", "FixedPoint", "CBLAS"]),
        // The search and the jobs the CLI runs.
        .target(name: "Tuner", dependencies: ["ModelIR", "FixedPoint", "Evaluator", "Emit", "Hardware", "Devices"]),
        // Linux calls Swift's Glibc module does not expose (an atomic exchange of two directories).
        .target(name: "CSystem"),
        // Experiments over many runs: batches from YAML configs (local processes or a Slurm job array),
        // their manifest, and reports and Pareto plots drawn from the runs' logs.
        .target(name: "Experiments", dependencies: ["Tuner", "Devices", "Evaluator", "CSystem", "Hardware", "ModelIR", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "TuneCLI",
            dependencies: [
                "Tuner", "Experiments", "ModelIR", "ONNXImport", "FixedPoint", "Evaluator", "Emit", "Hardware", "Devices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures and helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["ModelIR"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelIRTests", dependencies: ["ModelIR", "TestSupport"]),
        .testTarget(name: "ONNXImportTests", dependencies: ["ONNXImport", "Evaluator", "FixedPoint", "Hardware", "ModelIR", "TestSupport", "Tuner",
                                                            .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "EvaluatorTests", dependencies: ["Evaluator", "FixedPoint", "ModelIR", "TestSupport"]),
        .testTarget(name: "FixedPointTests", dependencies: ["FixedPoint", "Evaluator", "Emit", "Devices", "Tuner", "ModelIR", "TestSupport"]),
        .testTarget(name: "MemoryPlanningTests", dependencies: ["MemoryPlanning"]),
        .testTarget(name: "TunerTests", dependencies: ["Tuner", "FixedPoint", "Hardware", "Devices", "ModelIR", "TestSupport"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Tuner", "FixedPoint", "Hardware", "Emit", "ModelIR", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Tuner", "TestSupport"]),
        .testTarget(name: "FuzzTests", dependencies: ["ModelIR", "FixedPoint", "Evaluator", "Emit", "Hardware", "Tuner", "TestSupport"]),
        .testTarget(name: "TuneCLITests", dependencies: ["TuneCLI", "Tuner", "Hardware", "Devices", "TestSupport"]),
    ]
)
