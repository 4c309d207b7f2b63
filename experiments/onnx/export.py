#!/usr/bin/env python3
"""Export the bundled reference models (feed-forward, ProtoNN, GRU, LSTM, FastGRNN) to ONNX, as a PyTorch user would.

    python3 experiments/onnx/export.py                 # every model below
    python3 experiments/onnx/export.py mlp-digits      # one

For each model, the exact `models.Net` its training script built (experiments/train/
train_cnn.py, `--arch` read from model.json) is rebuilt and given the float32 weights of
models/NAME/weights/*.npy, converted back from the model format's layout to PyTorch's
(Conv weights OHWI -> OIHW, depthwise [kh,kw,C] -> [C,1,kh,kw], and the columns of the
Linear after a Flatten back to PyTorch's [C,H,W] order). The rebuilt net must give the
committed float64 reference logits (< 1e-9), which proves it is the trained model.
ProtoNN is the `models.ProtoNN` of experiments/train/train_protonn.py (W, prototypes P, labels Z
in PyTorch's layout; gamma from the Scale(-gamma^2) of model.json), whose forward the exporters
write as MatMul, Unsqueeze, Sub, Pow, ReduceSum, Mul, Exp, MatMul.
The GRU and LSTM models are the `models.Net` of experiments/train/train_rnn.py (weights
already in PyTorch's layout), exported as `fc(h_n[-1])` of the batch-first RNN with the
batch and the steps dynamic; ONNX Runtime runs each test sample on its own steps.
The FastGRNN models are the trained `models.FastGRNN` cell (experiments/train/train_fastgrnn.py)
run by a Python loop over the steps, then the Linear (`UnrolledFastGRNN`): both exporters unroll
the loop, at the dataset's longest sample, with only the batch dynamic. A sample shorter than
that is run by ONNX Runtime on the same net exported at its own length (a temporary file).

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
# experiments/ must come before this directory: its export.py is the model-format exporter
# that train_cnn.py imports (through common.py), not this file.
sys.path[:0] = [EXPERIMENTS, os.path.join(EXPERIMENTS, "train")]

from models import FastGRNN, Net, ProtoNN  # noqa: E402
from train_cnn import ARCHS  # noqa: E402
from ortcheck import OUT, REPO, describe, load_weights, reference_logits, run_ort, split, write_manifest  # noqa: E402

FEED_FORWARD = ["mlp-digits", "lenet-digits", "dscnn-digits"]
PROTONN = ["protonn-digits"]
RECURRENT = ["gru-italypowerdemand", "lstm-japanesevowels"]
UNROLLED = ["fastgrnn-japanesevowels", "fastgrnn-basicmotions"]
MODELS = FEED_FORWARD + PROTONN + RECURRENT + UNROLLED


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


def rebuild_protonn(name):
    """The trained net of models/NAME (train_protonn.py: `Net([("protonn", ProtoNN)])`), and its
    dataset name. The model format holds W, the prototypes P and Z in PyTorch's layout, and
    gamma as the Scale(-gamma^2) after the distances: gamma = sqrt(-scale)."""
    spec, arrays = load_weights(os.path.join(REPO, "models", name))
    dataset = re.search(r"--dataset ([\w-]+)", spec["training"]["script"]).group(1)
    if spec["dataset"] != f"../../data/{dataset}":
        raise SystemExit(f"{name}: model.json names {spec['dataset']}, train_protonn.py trains on {dataset}")
    scale = next(node["attributes"]["scale"] for node in spec["nodes"] if node["op"] == "Scale")
    W, P, Z = arrays["protonn_proj.W"], arrays["protonn_dist.P"], arrays["protonn_score.W"]
    gamma = float(np.sqrt(-scale))
    protonn = ProtoNN(W.shape[1], W.shape[0], P.shape[0], Z.shape[0], gamma=gamma)
    protonn.load_state_dict({"W": torch.from_numpy(W), "P": torch.from_numpy(P), "Z": torch.from_numpy(Z),
                             "gamma": torch.tensor(gamma)}, strict=True)
    return Net([("protonn", protonn)], [W.shape[1]]).eval(), spec, dataset


class FinalState(nn.Module):
    """A batch-first GRU/LSTM and its Linear as a PyTorch user exports them: `fc(h_n[-1])`.

    Training ran the RNN on packed sequences (models.run_torch_rnn), which the exporters do not
    write as one RNN node; unpacked, each sample is run on its own steps only (run_ort_sequences),
    which gives the same final state."""

    def __init__(self, rnn, fc):
        super().__init__()
        self.rnn, self.fc = rnn, fc

    def forward(self, x):
        _, state = self.rnn(x)
        h = state[0] if isinstance(self.rnn, nn.LSTM) else state
        return self.fc(h[-1])


def rebuild_rnn(name):
    """The trained net of models/NAME (train_rnn.py: one batch-first GRU/LSTM, then a Linear),
    its export wrapper and dataset name. The model format keeps PyTorch's layout: no permutation."""
    spec, arrays = load_weights(os.path.join(REPO, "models", name))
    dataset = re.search(r"--dataset ([\w-]+)", spec["training"]["script"]).group(1)
    if spec["dataset"] != f"../../data/{dataset}":
        raise SystemExit(f"{name}: model.json names {spec['dataset']}, train_rnn.py trains on {dataset}")
    cls = nn.GRU if spec["nodes"][0]["op"] == "GRU" else nn.LSTM
    hidden, features = arrays["rnn.W_hh"].shape[1], arrays["rnn.W_ih"].shape[1]
    net = Net([("rnn", cls(features, hidden, batch_first=True)), ("fc", nn.Linear(hidden, arrays["fc.W"].shape[0]))],
              [features], sequence=True).eval()
    state = {"layers.rnn.weight_ih_l0": arrays["rnn.W_ih"], "layers.rnn.weight_hh_l0": arrays["rnn.W_hh"],
             "layers.rnn.bias_ih_l0": arrays["rnn.b_ih"], "layers.rnn.bias_hh_l0": arrays["rnn.b_hh"],
             "layers.fc.weight": arrays["fc.W"], "layers.fc.bias": arrays["fc.b"]}
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
    return net, spec, dataset


class UnrolledFastGRNN(nn.Module):
    """The trained FastGRNN cell (models.FastGRNN, whose `step` is the cell's equations) run by a
    Python loop over the steps, then the Linear on the final state: what a PyTorch user writes.
    Both exporters trace the loop for the example's number of steps, so the file holds T copies
    of the cell on the same initializers."""

    def __init__(self, rnn, fc):
        super().__init__()
        self.rnn, self.fc = rnn, fc

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.rnn.hidden_size)
        for t in range(x.shape[1]):
            h = self.rnn.step(x[:, t], h)
        return self.fc(h)


def rebuild_fastgrnn(name):
    """The trained FastGRNN of models/NAME (train_fastgrnn.py: FastGRNN, then a Linear), as an
    UnrolledFastGRNN, and its dataset name. The model format keeps PyTorch's layout."""
    spec, arrays = load_weights(os.path.join(REPO, "models", name))
    script = spec["training"]["script"]
    dataset = re.search(r"--dataset ([\w-]+)", script).group(1)
    if spec["dataset"] != f"../../data/{dataset}":
        raise SystemExit(f"{name}: model.json names {spec['dataset']}, train_fastgrnn.py trains on {dataset}")
    ranks = {key: int(m.group(1)) if (m := re.search(rf"--{key.replace('_', '-')} (\d+)", script)) else None
             for key in ("w_rank", "u_rank")}
    hidden, classes = arrays["rnn.b_z"].shape[0], arrays["fc.W"].shape[0]
    features = arrays["rnn.W"].shape[1] if "rnn.W" in arrays else arrays["rnn.W2"].shape[1]
    rnn = FastGRNN(features, hidden, **ranks)
    rnn.load_state_dict({k.removeprefix("rnn."): torch.from_numpy(np.ascontiguousarray(v))
                         for k, v in arrays.items() if k.startswith("rnn.")}, strict=True)
    fc = nn.Linear(hidden, classes)
    fc.load_state_dict({"weight": torch.from_numpy(arrays["fc.W"]), "bias": torch.from_numpy(arrays["fc.b"])}, strict=True)
    return UnrolledFastGRNN(rnn, fc).eval(), spec, dataset


def by_length(x, steps, run):
    """`run(x_of_one_length, length)` on the samples of each length, put back in sample order."""
    out = [None] * len(x)
    for length in sorted(set(steps.tolist())):
        picked = np.flatnonzero(steps == length)
        for i, row in zip(picked, run(x[picked, :length], int(length))):
            out[i] = row
    return np.stack(out)


def check_rebuild_unrolled(net, name, dataset):
    """The unrolled net on each sample's own steps must give the reference logits (< 1e-9)."""
    x, _ = split(dataset, "test")
    reference = reference_logits(name)
    with torch.no_grad():
        logits = by_length(x, lengths(dataset, "test", x), lambda xs, _: net.double()(torch.from_numpy(xs).double()).numpy())
    net.float()
    difference = float(np.max(np.abs(logits - reference)))
    if difference > 1e-9:
        raise SystemExit(f"{name}: the rebuilt net differs from the reference logits by {difference:.3g}")
    return reference


def run_ort_unrolled(net, path, x, steps, dynamo):
    """ONNX Runtime on each sample's own steps. An unrolled file fixes T, so samples shorter than
    the file's T are run by the same net exported (in a temporary file) at their own length."""
    fixed = onnx.load(path).graph.input[0].type.tensor_type.shape.dim[1].dim_value

    def run(xs, length):
        if length == fixed:
            return run_ort(path, xs)
        temporary = f"{path}.{length}-steps.tmp.onnx"
        try:
            export(net, temporary, [length, xs.shape[2]], dynamo, sequence=False)
            return run_ort(temporary, xs)
        finally:
            for leftover in (temporary, temporary + ".data"):
                if os.path.exists(leftover):
                    os.remove(leftover)
    return by_length(x, steps, run)


def lengths(dataset, name, x):
    path = os.path.join(REPO, "data", dataset, f"{name}_lengths.npy")
    return np.load(path) if os.path.exists(path) else np.full(len(x), x.shape[1], dtype=np.int64)


def check_rebuild_rnn(net, name, dataset):
    x, _ = split(dataset, "test")
    reference = reference_logits(name)
    with torch.no_grad():
        logits = net.double()(torch.from_numpy(x).double(), torch.from_numpy(lengths(dataset, "test", x))).numpy()
    net.float()
    difference = float(np.max(np.abs(logits - reference)))
    if difference > 1e-9:
        raise SystemExit(f"{name}: the rebuilt net differs from the reference logits by {difference:.3g}")
    return reference


def run_ort_sequences(path, x, steps):
    """ONNX Runtime on each sample's own steps (the file has no sequence_lens: padding would be run)."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 1, :steps[i]].astype(np.float32)})[0] for i in range(len(x))])


def check_rebuild(net, name, dataset):
    x, _ = split(dataset, "test")
    reference = reference_logits(name)
    with torch.no_grad():
        logits = net.double()(torch.from_numpy(x).double()).numpy()
    net.float()
    difference = float(np.max(np.abs(logits - reference)))
    if difference > 1e-9:
        raise SystemExit(f"{name}: the rebuilt net differs from the reference logits by {difference:.3g}")
    return reference


def export(net, path, sample_shape, dynamo, sequence=False):
    """Batch dimension dynamic; for a sequence [N, T, F], the steps T too."""
    example = torch.zeros([2] + list(sample_shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # the TorchScript exporter's deprecation notice
        if dynamo:
            axes = {0: torch.export.Dim("batch")}
            if sequence:
                axes[1] = torch.export.Dim("steps")
            torch.onnx.export(net, (example,), path, dynamo=True, external_data=False,
                              input_names=["x"], output_names=["logits"],
                              dynamic_shapes={"x": axes})
        else:
            axes = {0: "batch", 1: "steps"} if sequence else {0: "batch"}
            torch.onnx.export(net, (example,), path, dynamo=False, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": axes, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))


def main():
    names = sys.argv[1:] or MODELS
    os.makedirs(OUT, exist_ok=True)
    files = {}
    for name in names:
        sequence = name in RECURRENT
        unrolled = name in UNROLLED
        if unrolled:
            exported, spec, dataset = rebuild_fastgrnn(name)
            reference = check_rebuild_unrolled(exported, name, dataset)
        elif sequence:
            net, spec, dataset = rebuild_rnn(name)
            reference = check_rebuild_rnn(net, name, dataset)
            exported = FinalState(net.layers["rnn"], net.layers["fc"]).eval()
        else:
            net, spec, dataset = rebuild_protonn(name) if name in PROTONN else rebuild(name)
            reference = check_rebuild(net, name, dataset)
            exported = net
        x, y = split(dataset, "test")
        sample_shape = list(x.shape[1:])
        for dynamo in (False, True):
            stem = f"{name}-dynamo" if dynamo else name
            path = os.path.join(OUT, f"{stem}.onnx")
            # An unrolled loop fixes the steps at the dataset's longest sample (x.shape[1]); only the batch is dynamic.
            export(exported, path, sample_shape, dynamo, sequence)
            if unrolled:
                logits = run_ort_unrolled(exported, path, x, lengths(dataset, "test", x), dynamo)
            elif sequence:
                logits = run_ort_sequences(path, x, lengths(dataset, "test", x))
            else:
                logits = run_ort(path, x)
            entry = describe(path, name, dataset, "dynamo" if dynamo else "torchscript", logits, y, spec, reference)
            if unrolled:
                entry.update({
                    "unrolled_steps": x.shape[1], "nodes": len(onnx.load(path).graph.node),
                    "ort_logits_by_length": "each test sample on its own steps; samples shorter than the file's "
                                            "steps run by the same net exported at their length",
                })
            files[f"{stem}.onnx"] = entry
    write_manifest(files, {"torch": torch.__version__.split("+")[0], "onnx": onnx.__version__, "onnxruntime": ort.__version__})


if __name__ == "__main__":
    main()
