#!/usr/bin/env python3
"""Export the bundled MLP and LeNet to ONNX from Keras, as a Keras user would (tf2onnx).

    pip install -r experiments/onnx/requirements-keras.txt      # TensorFlow, tf2onnx; no torch needed
    python3 experiments/onnx/export_keras.py                     # both; or one: mlp-digits

Each model is built in Keras from models/NAME/model.json, layer for layer, with the float32
weights of models/NAME/weights/*.npy: the model format already holds images channels last, as
Keras does, so a Dense kernel is W transposed, a Conv2D kernel is W (OHWI) as [kh, kw, I, O], and
the Dense after Flatten takes its columns as they are. A ReLU or tanh right after a layer becomes
that layer's `activation`, as Keras users write it. Built in float64, the model must give the
committed float64 reference logits (< 1e-9), which proves it is the trained model; the float32
build is then converted with `tf2onnx.convert.from_keras` (its default opset) to

    models/onnx/NAME-keras.onnx

and ONNX Runtime's logits on the test split go to models/onnx/NAME-keras.ort-logits.npy, with an
entry in models/onnx/exports.json that also records the TensorFlow, Keras and tf2onnx versions.
Tests/ONNXImportTests/ExportedModelTests.swift imports every committed file and checks it
against those logits. CI never runs this script: it uses the committed files. A new run writes
the same graph and weights, but the numbers in the names tf2onnx makes up (`Transpose__34`,
`new_shape__42`) can change between runs.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

from ortcheck import OUT, REPO, describe, load_weights, reference_logits, run_ort, split, write_manifest  # noqa: E402

MODELS = ["mlp-digits", "lenet-digits"]
ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh"}


def conv_padding(attributes, kernel):
    """Keras `padding` for the model format's pads: "same" for a stride-1 kernel padded by half on
    every side, "valid" for none."""
    pads = attributes.get("pads", [0, 0, 0, 0])
    if pads == [0, 0, 0, 0]:
        return "valid"
    if attributes.get("strides", [1, 1]) == [1, 1] and pads == [kernel[0] // 2, kernel[1] // 2] * 2 and all(k % 2 for k in kernel):
        return "same"
    raise SystemExit(f"pads {pads} with kernel {kernel}: not a Keras padding")


def build(spec, arrays, dtype):
    """The Keras functional model of model.json's nodes, with their weights, computing in `dtype`."""
    nodes = spec["nodes"]
    inputs = keras.Input(spec["input"]["shape"], name=spec["input"]["name"], dtype=dtype)
    x, weights, i = inputs, {}, 0
    while i < len(nodes):
        node = nodes[i]
        fused = nodes[i + 1]["op"] if i + 1 < len(nodes) and nodes[i + 1]["op"] in ACTIVATIONS else None
        activation = ACTIVATIONS.get(fused)
        name = node["name"]
        w = {role: arrays[constant] for role, constant in node.get("weights", {}).items()}
        if node["op"] == "Gemm":
            layer = keras.layers.Dense(w["W"].shape[0], activation=activation, name=name, dtype=dtype)
            weights[name] = [w["W"].T, w["b"]]
        elif node["op"] == "Conv2D":
            kernel = list(w["W"].shape[1:3])
            layer = keras.layers.Conv2D(w["W"].shape[0], kernel, strides=node["attributes"].get("strides", [1, 1]),
                                        padding=conv_padding(node["attributes"], kernel), activation=activation,
                                        name=name, dtype=dtype)
            weights[name] = [w["W"].transpose(1, 2, 3, 0), w["b"]]      # OHWI -> [kh, kw, I, O]
        elif node["op"] == "MaxPool":
            attributes = node["attributes"]
            layer = keras.layers.MaxPooling2D(attributes["kernel"], strides=attributes["strides"], name=name, dtype=dtype)
        elif node["op"] == "Flatten":
            layer = keras.layers.Flatten(name=name, dtype=dtype)
        elif node["op"] in ACTIVATIONS:
            layer = keras.layers.Activation(ACTIVATIONS[node["op"]], name=name, dtype=dtype)
        else:
            raise SystemExit(f"{spec['name']}: node {name} ({node['op']}) has no Keras layer here")
        x = layer(x)
        i += 2 if activation and node["op"] in ("Gemm", "Conv2D") else 1
    model = keras.Model(inputs, x, name=spec["name"].replace("-", "_"))
    for name, values in weights.items():
        model.get_layer(name).set_weights([v.astype(dtype) for v in values])
    return model


def main():
    names = sys.argv[1:] or MODELS
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__, "tf2onnx": tf2onnx.__version__,
                "onnx": onnx.__version__, "onnxruntime": ort.__version__}
    files = {}
    for name in names:
        spec, arrays = load_weights(os.path.join(REPO, "models", name))
        dataset = os.path.basename(spec["dataset"])
        x, y = split(dataset, "test")
        reference = reference_logits(name)
        exact = build(spec, arrays, "float64").predict(x.astype(np.float64), verbose=0)
        difference = float(np.max(np.abs(exact - reference)))
        if difference > 1e-9:
            raise SystemExit(f"{name}: the Keras model differs from the reference logits by {difference:.3g}")
        model = build(spec, arrays, "float32")
        path = os.path.join(OUT, f"{name}-keras.onnx")
        signature = (tf.TensorSpec([None] + list(x.shape[1:]), tf.float32, name=spec["input"]["name"]),)
        tf2onnx.convert.from_keras(model, input_signature=signature, output_path=path)
        onnx.checker.check_model(onnx.load(path))
        entry = describe(path, name, dataset, "tf2onnx", run_ort(path, x), y, spec, reference)
        entry["versions"] = versions
        files[f"{name}-keras.onnx"] = entry
    write_manifest(files, {})


if __name__ == "__main__":
    main()
