#!/usr/bin/env python3
"""Print the README's reference-model table from models/*/model.json.

Usage: python3 experiments/summarize.py [MODEL_DIR ...]   (default: every models/*/)
"""
import glob
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def row(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        m = json.load(f)
    t = m["training"]
    params = sum(int(np.prod(np.load(os.path.join(model_dir, p), mmap_mode="r").shape))
                 for p in m["constants"].values())
    dataset = os.path.basename(os.path.normpath(m["dataset"]))
    return (f"| `{m['name']}` | {dataset} | {params} | {100 * t['float_val_accuracy']:.2f} | "
            f"{100 * t['float_test_accuracy']:.2f} | {t['train_seconds']:.1f} s | `{t['script']}` |")


def main(argv):
    dirs = argv[1:] or sorted(d for d in glob.glob(os.path.join(REPO, "models", "*"))
                              if os.path.exists(os.path.join(d, "model.json")))
    print("| model | dataset | params | float val acc % | float test acc % | training time | command |")
    print("|---|---|---|---|---|---|---|")
    for d in dirs:
        print(row(d))


if __name__ == "__main__":
    main(sys.argv)
