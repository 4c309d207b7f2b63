"""What every training script shares: seeding, data loading, the training loop with
model selection on the validation split, and the finish (float64 reference logits,
export, the `training` block of model.json).
"""
import argparse
import copy
import json
import os
import random
import shutil
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)
REPO = os.path.dirname(EXPERIMENTS)
sys.path.insert(0, EXPERIMENTS)

import export as exporter  # noqa: E402
from models import count_parameters  # noqa: E402

FRAMEWORK = f"torch {torch.__version__.split('+')[0]}"


def setup(seed, threads=1):
    # One thread: these models are tiny, and on 2 cores shared with other work two
    # OpenMP threads made training 10x slower (0.4 s vs 4.6 s for 3 LSTM epochs).
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    torch.use_deterministic_algorithms(True)


def base_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--input-noise", type=float, default=0.0,
                   help="std of Gaussian noise added to training inputs (real steps only)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--name", help="model directory under models/ (default: derived)")
    return p


def command_line(script, parser, args):
    """The script and every argument, defaults included, so the run can be repeated."""
    parts = [f"experiments/train/{script}"]
    for action in parser._actions:
        if action.dest == "help":
            continue
        value = getattr(args, action.dest)
        if value is not None:
            parts += [action.option_strings[-1], str(value)]
    return " ".join(parts)


def dataset_info(dataset):
    with open(os.path.join(REPO, "data", dataset, "dataset.json")) as f:
        return json.load(f)


def load_split(dataset, split):
    d = os.path.join(REPO, "data", dataset)
    path = os.path.join(d, f"{split}_x.npy")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run experiments/data/prepare.py {dataset}")
    out = {"x": torch.from_numpy(np.load(path)),
           "y": torch.from_numpy(np.load(os.path.join(d, f"{split}_y.npy")))}
    lp = os.path.join(d, f"{split}_lengths.npy")
    out["lengths"] = torch.from_numpy(np.load(lp)) if os.path.exists(lp) else None
    return out


def load_data(dataset):
    return {s: load_split(dataset, s) for s in ("train", "val", "test")}


def forward(net, split, idx=None, dtype=torch.float32, noise=0.0, gen=None):
    x, lengths = split["x"], split["lengths"]
    if idx is not None:
        x = x[idx]
        lengths = lengths[idx] if lengths is not None else None
    if noise:
        eps = torch.randn(x.shape, generator=gen) * noise
        if lengths is not None:      # keep the padding at zero
            eps = eps * (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
        x = x + eps
    return net(x.to(dtype), lengths)


def evaluate(net, split):
    net.eval()
    with torch.no_grad():
        logits = forward(net, split)
        loss = nn.functional.cross_entropy(logits, split["y"]).item()
        acc = (logits.argmax(1) == split["y"]).float().mean().item()
    return loss, acc


def train(net, data, args, loss_fn=None, log_every=10):
    """Adam on the train split; keep the epoch with the best validation accuracy
    (ties: lower validation loss). Returns (selected epoch, seconds)."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(args.seed)
    train_split, n = data["train"], len(data["train"]["y"])
    best = (-1.0, float("inf"))
    best_state, best_epoch = None, 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        net.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            logits = forward(net, train_split, idx, noise=getattr(args, "input_noise", 0.0), gen=gen)
            loss = loss_fn(logits, train_split["y"][idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        sched.step()
        val_loss, val_acc = evaluate(net, data["val"])
        if (val_acc, -val_loss) > (best[0], -best[1]):
            best, best_epoch = (val_acc, val_loss), epoch
            best_state = copy.deepcopy(net.state_dict())
        if epoch % log_every == 0 or epoch == args.epochs:
            tr_loss, tr_acc = evaluate(net, train_split)
            print(f"epoch {epoch:4d}  train loss {tr_loss:.4f} acc {tr_acc:.4f}  "
                  f"val loss {val_loss:.4f} acc {val_acc:.4f}", flush=True)
    seconds = time.perf_counter() - start
    net.load_state_dict(best_state)
    print(f"selected epoch {best_epoch}: val acc {best[0]:.4f} loss {best[1]:.4f} "
          f"({seconds:.1f} s)")
    return best_epoch, seconds


def reference_logits(net, split):
    """float64 logits: the float32 weights and data, widened exactly, run in double."""
    net64 = copy.deepcopy(net).double().eval()
    with torch.no_grad():
        return forward(net64, split, dtype=torch.float64).numpy()


def finish(net, data, *, name, description, dataset, command, selected_epoch, seconds):
    """Write models/NAME: reference logits (float64), weights and model.json."""
    out = os.path.join(REPO, "models", name)
    ref_dir = os.path.join(out, "reference")
    if os.path.isdir(ref_dir):
        shutil.rmtree(ref_dir)
    os.makedirs(ref_dir)
    training = {"script": command, "framework": FRAMEWORK}
    for split in ("val", "test"):
        logits = reference_logits(net, data[split])
        np.save(os.path.join(ref_dir, f"{split}_logits.npy"), np.ascontiguousarray(logits, "<f8"))
        pred = np.argmax(logits, axis=1)       # lowest index of the maximum
        training[f"float_{split}_accuracy"] = float(np.mean(pred == data[split]["y"].numpy()))
    training["reference_logits"] = {s: f"reference/{s}_logits.npy" for s in ("val", "test")}
    training["train_seconds"] = round(seconds, 1)
    training["selected_epoch"] = selected_epoch
    training["parameters"] = count_parameters(net)
    exporter.export(net.float(), out, name=name, description=description,
                    dataset=f"../../data/{dataset}", training=training)
    print(f"models/{name}: {count_parameters(net)} parameters, float val acc "
          f"{training['float_val_accuracy']:.4f}, test acc {training['float_test_accuracy']:.4f}")
    return training
