#!/usr/bin/env python3
"""Self-test of export.py + check_export.py on random, untrained models that use every
converter and the awkward cases (stride 2, asymmetric 'same' padding, non-square
kernels, no bias, Flatten of C>1 channels followed by an activation, low-rank FastGRNN,
variable lengths), plus negative checks: check_export must reject a perturbed weight
and a channel-first Flatten exported without the column permutation.

    python3 experiments/test_export.py        # prints 'N passed, 0 failed'
"""
import copy
import json
import os
import sys
import tempfile
import warnings

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_export  # noqa: E402
import export  # noqa: E402
from models import FastGRNN, Net, ProtoNN  # noqa: E402


def write_dataset(root, shape, classes, sequence, rng):
    d = os.path.join(root, "data")
    os.makedirs(d, exist_ok=True)
    splits = {}
    for split, n in (("val", 7), ("test", 9)):
        if sequence:
            T = 6
            x = rng.standard_normal((n, T) + tuple(shape)).astype("<f4")
            lengths = rng.integers(1, T + 1, n).astype("<i8")
            for i, l in enumerate(lengths):
                x[i, l:] = 0
            np.save(os.path.join(d, f"{split}_lengths.npy"), lengths)
        else:
            x = rng.standard_normal((n,) + tuple(shape)).astype("<f4")
            lengths = None
        y = rng.integers(0, classes, n).astype("<i8")
        np.save(os.path.join(d, f"{split}_x.npy"), x)
        np.save(os.path.join(d, f"{split}_y.npy"), y)
        splits[split] = (x, y, lengths)
    info = {"format": "mcutune-dataset", "version": 1, "name": "t", "sample_shape": list(shape),
            "sequence": sequence, "classes": classes, "splits": {"val": 7, "test": 9}}
    with open(os.path.join(d, "dataset.json"), "w") as f:
        json.dump(info, f)
    return splits


def export_and_check(net, classes, tamper=None):
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        splits = write_dataset(root, net.input_shape, classes, net.sequence, rng)
        out = os.path.join(root, "model")
        os.makedirs(os.path.join(out, "reference"))
        training = {"framework": "test", "reference_logits": {}}
        net64 = copy.deepcopy(net).double().eval()
        for split, (x, y, lengths) in splits.items():
            with torch.no_grad():
                lt = torch.from_numpy(lengths) if lengths is not None else None
                logits = net64(torch.from_numpy(x).double(), lt).numpy()
            np.save(os.path.join(out, "reference", f"{split}_logits.npy"), logits)
            training["reference_logits"][split] = f"reference/{split}_logits.npy"
            training[f"float_{split}_accuracy"] = float(np.mean(np.argmax(logits, 1) == y))
        export.export(net, out, name="t", description="t", dataset="../data", training=training)
        if tamper:
            tamper(out)
        return check_export.check(out)


def image_net():
    return Net([("c1", nn.Conv2d(2, 4, (3, 2), stride=2, padding="valid")), ("r1", nn.ReLU6()),
                ("dw", nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)), ("s", nn.Sigmoid()),
                ("c2", nn.Conv2d(4, 3, (2, 3), padding="same")), ("t", nn.Tanh()),
                ("ap", nn.AvgPool2d((2, 1), stride=(1, 1))), ("mp", nn.MaxPool2d(2, stride=1)),
                ("fl", nn.Flatten()), ("r2", nn.ReLU()), ("fc", nn.Linear(3 * 2 * 2, 5))],
               [9, 7, 2])


CASES = {
    "cnn": (image_net, 5),
    "mlp-nobias": (lambda: Net([("a", nn.Linear(6, 4, bias=False)), ("r", nn.ReLU()),
                                ("b", nn.Linear(4, 3))], [6]), 3),
    "fastgrnn-full": (lambda: Net([("rnn", FastGRNN(3, 5)), ("fc", nn.Linear(5, 4))], [3], True), 4),
    "fastgrnn-lowrank": (lambda: Net([("rnn", FastGRNN(3, 5, w_rank=2, u_rank=3)),
                                      ("fc", nn.Linear(5, 4))], [3], True), 4),
    "gru": (lambda: Net([("rnn", nn.GRU(3, 5, batch_first=True)), ("fc", nn.Linear(5, 2))], [3], True), 2),
    "gru-nobias": (lambda: Net([("rnn", nn.GRU(3, 5, batch_first=True, bias=False)),
                                ("fc", nn.Linear(5, 2))], [3], True), 2),
    "lstm": (lambda: Net([("rnn", nn.LSTM(3, 5, batch_first=True)), ("t", nn.Tanh()),
                          ("fc", nn.Linear(5, 3))], [3], True), 3),
    "protonn": (lambda: Net([("p", ProtoNN(6, 3, 5, 4, gamma=0.7))], [6]), 4),
}


def perturb(out):
    path = os.path.join(out, "weights", "fc.W.npy")
    w = np.load(path)
    w[0, 0] += 1e-6
    np.save(path, w)


def unpermute(out):
    """Undo the Flatten column permutation: what a naive exporter would write."""
    path = os.path.join(out, "weights", "fc.W.npy")
    w = np.load(path)                                  # columns in HWC order [H=2,W=2,C=3]
    np.save(path, np.ascontiguousarray(w.reshape(5, 2, 2, 3).transpose(0, 3, 1, 2).reshape(5, 12)))


def main():
    warnings.filterwarnings("ignore", message="Using padding='same'")
    torch.manual_seed(0)
    passed = failed = 0
    for name, (make, classes) in CASES.items():
        net = make()
        with torch.no_grad():                           # make ProtoNN's Z non-zero
            for p in net.parameters():
                if not p.any():
                    p.normal_()
        try:
            _, report = export_and_check(net, classes)
            print(f"ok   {name}: max|diff| {max(d for _, d, _ in report.values()):.1e}")
            passed += 1
        except Exception as e:                          # report and go on
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            failed += 1
    for name, tamper in (("rejects a perturbed weight", perturb),
                         ("rejects an unpermuted Flatten", unpermute)):
        try:
            export_and_check(image_net(), 5, tamper)
            print(f"FAIL {name}: check_export accepted it")
            failed += 1
        except check_export.CheckError as e:
            print(f"ok   {name}: {e}")
            passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
