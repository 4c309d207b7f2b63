#!/usr/bin/env python3
"""Export the bundled feed-forward reference models to ONNX, as a PyTorch user would.

    python3 experiments/onnx/export.py                 # every model below
    python3 experiments/onnx/export.py mlp-digits      # one

For each model, the exact `models.Net` its training script built (experiments/train/
train_cnn.py, `--arch` read from model.json) is rebuilt and given the float32 weights of
models/NAME/weights/*.npy, converted back from the model format's layout to PyTorch's
(Conv weights OHWI -> OIHW, depthwise [kh,kw,C] -> [C,1,kh,kw], and the columns of the
Linear after a Flatten back to PyTorch's [C,H,W] order). The rebuilt net must give the
committed float64 reference logits (< 1e-9), which proves it is the trained model.

It is then exported with `torch.onnx.export` twice, exactly as the model runs, the input
in the dataset's layout (images [N, H, W, C], permuted to NCHW inside the net):

    models/onnx/NAME.onnx           TorchScript exporter (dynamo=False)
    models/onnx/NAME-dynamo.onnx    dynamo exporter (dynamo=True, onnxscript)

and for each file ONNX Runtime's logits on the model's test split are written to
models/onnx/<file stem>.ort-logits.npy (float32, [N, classes]); models/onnx/exports.json
records versions, opsets, test accuracies and the largest difference to the reference.
Tests/ONNXImportTests/ExportedModelTests.swift imports every committed file and checks
that our float evaluator agrees with these logits.
"""
import json
import os
import re
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)
REPO = os.path.dirname(EXPERIMENTS)
# experiments/ must come before this directory: its export.py is the model-format exporter
# that train_cnn.py imports (through common.py), not this file.
sys.path[:0] = [EXPERIMENTS, os.path.join(EXPERIMENTS, "train")]

from models import Net  # noqa: E402
from train_cnn import ARCHS  # noqa: E402

MODELS = ["mlp-digits", "lenet-digits", "dscnn-digits"]
OUT = os.path.join(REPO, "models", "onnx")


def load_weights(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    arrays = {name: np.load(os.path.join(model_dir, rel)) for name, rel in spec["constants"].items()}
    return spec, arrays


def flatten_orders(net, sample_shape):
    """For each Linear that follows a Flatten of an image, the permutation the model-format
    exporter applied to its columns (format column i = PyTorch column perm[i])."""
    shapes = {}
    hooks = [layer.register_forward_hook(lambda m, inp, out, name=name: shapes.__setitem__(name, tuple(inp[0].shape)))
             for name, layer in net.layers.items()]
    with torch.no_grad():
        net(torch.zeros([1] + list(sample_shape)))
    for h in hooks:
        h.remove()
    orders, pending = {}, None
    for name, layer in net.layers.items():
        if isinstance(layer, nn.Flatten) and len(shapes[name]) == 4:
            _, C, H, W = shapes[name]
            pending = np.arange(C * H * W).reshape(C, H, W).transpose(1, 2, 0).reshape(-1)
        elif isinstance(layer, nn.Linear):
            orders[name], pending = pending, None
    return orders


def rebuild(name):
    """The trained net of models/NAME, and the dataset name its model.json points to."""
    spec, arrays = load_weights(os.path.join(REPO, "models", name))
    arch = re.search(r"--arch (\w+)", spec["training"]["script"]).group(1)
    dataset, layers, _ = ARCHS[arch]
    if spec["dataset"] != f"../../data/{dataset}":
        raise SystemExit(f"{name}: model.json names {spec['dataset']}, train_cnn.py --arch {arch} trains on {dataset}")
    with open(os.path.join(REPO, "data", dataset, "dataset.json")) as f:
        sample_shape = json.load(f)["sample_shape"]
    net = Net(layers(), sample_shape).eval()
    orders = flatten_orders(net, sample_shape)
    state = {}
    for layer_name, layer in net.layers.items():
        W, b = arrays.get(f"{layer_name}.W"), arrays.get(f"{layer_name}.b")
        if isinstance(layer, nn.Linear):
            if orders.get(layer_name) is not None:
                unpermuted = np.empty_like(W)
                unpermuted[:, orders[layer_name]] = W
                W = unpermuted
        elif isinstance(layer, nn.Conv2d):
            if layer.groups == 1:
                W = W.transpose(0, 3, 1, 2)                  # OHWI -> OIHW
            else:
                W = W.transpose(2, 0, 1)[:, None]            # [kh,kw,C] -> [C,1,kh,kw]
        else:
            continue
        state[f"layers.{layer_name}.weight"] = torch.from_numpy(np.ascontiguousarray(W))
        state[f"layers.{layer_name}.bias"] = torch.from_numpy(np.ascontiguousarray(b))
    net.load_state_dict(state, strict=True)
    return net, spec, dataset


def split(dataset, name):
    d = os.path.join(REPO, "data", dataset)
    return np.load(os.path.join(d, f"{name}_x.npy")), np.load(os.path.join(d, f"{name}_y.npy"))


def check_rebuild(net, name, dataset):
    x, _ = split(dataset, "test")
    reference = np.load(os.path.join(REPO, "models", name, "reference", "test_logits.npy"))
    with torch.no_grad():
        logits = net.double()(torch.from_numpy(x).double()).numpy()
    net.float()
    difference = float(np.max(np.abs(logits - reference)))
    if difference > 1e-9:
        raise SystemExit(f"{name}: the rebuilt net differs from the reference logits by {difference:.3g}")
    return reference


def export(net, path, sample_shape, dynamo):
    example = torch.zeros([2] + list(sample_shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # the TorchScript exporter's deprecation notice
        if dynamo:
            batch = torch.export.Dim("batch")
            torch.onnx.export(net, (example,), path, dynamo=True, external_data=False,
                              input_names=["x"], output_names=["logits"],
                              dynamic_shapes={"x": {0: batch}})
        else:
            torch.onnx.export(net, (example,), path, dynamo=False, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))


def run_ort(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]


def main():
    names = sys.argv[1:] or MODELS
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "exports.json")
    manifest = {"torch": torch.__version__.split("+")[0], "onnx": onnx.__version__, "onnxruntime": ort.__version__, "files": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest["files"] = json.load(f).get("files", {})
    for name in names:
        net, spec, dataset = rebuild(name)
        reference = check_rebuild(net, name, dataset)
        x, y = split(dataset, "test")
        sample_shape = list(x.shape[1:])
        for dynamo in (False, True):
            stem = f"{name}-dynamo" if dynamo else name
            path = os.path.join(OUT, f"{stem}.onnx")
            export(net, path, sample_shape, dynamo)
            logits = run_ort(path, x)
            np.save(os.path.join(OUT, f"{stem}.ort-logits.npy"), np.ascontiguousarray(logits, "<f4"))
            accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
            model = onnx.load(path)
            manifest["files"][f"{stem}.onnx"] = {
                "model": f"models/{name}", "dataset": f"data/{dataset}", "split": "test",
                "exporter": "dynamo" if dynamo else "torchscript",
                "opset": next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                "ops": sorted({n.op_type for n in model.graph.node}),
                "ort_logits": f"{stem}.ort-logits.npy", "ort_test_accuracy": accuracy,
                "recorded_test_accuracy": spec["training"]["float_test_accuracy"],
                "max_abs_ort_minus_reference": float(np.max(np.abs(logits - reference))),
            }
            print(f"models/onnx/{stem}.onnx: opset {manifest['files'][f'{stem}.onnx']['opset']}, "
                  f"{os.path.getsize(path)} bytes, ORT test accuracy {accuracy:.4f} "
                  f"(recorded {spec['training']['float_test_accuracy']:.4f}), "
                  f"max |ORT - reference| {manifest['files'][f'{stem}.onnx']['max_abs_ort_minus_reference']:.2e}")
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
