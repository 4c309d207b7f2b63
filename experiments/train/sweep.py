#!/usr/bin/env python3
"""Hyper-parameter sweep on the VALIDATION split only (test is never evaluated here).

  python3 experiments/train/sweep.py fastgrnn --dataset japanesevowels \
      --grid lr=0.003,0.01 weight_decay=0,0.001 epochs=150 seed=1,2,3

Prints, per configuration, the selected epoch's validation accuracy and loss, and the
mean over seeds. Used to choose the arguments in train_all.sh (see experiments/README.md).
"""
import argparse
import itertools
import statistics
import sys

import common

BUILDERS = {}


def builder(name):
    def register(f):
        BUILDERS[name] = f
        return f
    return register


@builder("fastgrnn")
def _fastgrnn(info, cfg, data):
    from models import FastGRNN, Net
    from torch import nn
    F, C, H = info["sample_shape"][0], info["classes"], int(cfg.get("hidden", 16))
    rnn = FastGRNN(F, H, w_rank=cfg.get("w_rank"), u_rank=cfg.get("u_rank"))
    return Net([("rnn", rnn), ("fc", nn.Linear(H, C))], [F], sequence=True)


@builder("rnn")
def _rnn(info, cfg, data):
    from models import Net
    from torch import nn
    F, C, H = info["sample_shape"][0], info["classes"], int(cfg.get("hidden", 16))
    cls = nn.LSTM if cfg.get("cell") == "lstm" else nn.GRU
    return Net([("rnn", cls(F, H, batch_first=True)), ("fc", nn.Linear(H, C))], [F], sequence=True)


@builder("cnn")
def _cnn(info, cfg, data):
    from models import Net
    from train_cnn import ARCHS
    return Net(ARCHS[cfg["arch"]][1](), info["sample_shape"])


@builder("protonn")
def _protonn(info, cfg, data):
    import torch
    from models import Net
    from train_protonn import init_protonn
    gen = torch.Generator().manual_seed(int(cfg.get("seed", 1)))
    pnn = init_protonn(data["train"]["x"], data["train"]["y"], int(cfg.get("proj_dim", 10)),
                       int(cfg.get("prototypes", 20)), info["classes"],
                       float(cfg.get("gamma_factor", 1.0)), gen)
    return Net([("protonn", pnn)], info["sample_shape"])


def parse_value(v):
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(BUILDERS))
    p.add_argument("--dataset", required=True)
    p.add_argument("--grid", nargs="+", default=[])
    a = p.parse_args()
    grid = {k: [parse_value(v) for v in vs.split(",")]
            for k, vs in (g.split("=", 1) for g in a.grid)}
    seeds = grid.pop("seed", [1])
    info = common.dataset_info(a.dataset)
    data = common.load_data(a.dataset)
    del data["test"]
    keys = sorted(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        cfg = dict(zip(keys, values))
        accs, losses = [], []
        for seed in seeds:
            args = argparse.Namespace(epochs=100, lr=0.01, batch_size=32, weight_decay=0.0, input_noise=0.0, seed=seed)
            for k, v in cfg.items():
                setattr(args, k, v)
            common.setup(seed)
            net = BUILDERS[a.model](info, dict(cfg, seed=seed), data)
            import contextlib, io
            with contextlib.redirect_stdout(io.StringIO()):
                common.train(net, data, args)
            loss, acc = common.evaluate(net, data["val"])
            accs.append(acc)
            losses.append(loss)
        print(f"{cfg}  val acc {' '.join(f'{x:.3f}' for x in accs)}  mean {statistics.mean(accs):.4f}"
              f"  val loss mean {statistics.mean(losses):.4f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
