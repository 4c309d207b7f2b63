#!/usr/bin/env python3
"""Write a dataset directory `data/NAME/` in the mcutune dataset format.

Usage: python3 experiments/data/prepare.py NAME [NAME ...] | all

The raw data ships inside pip packages (nothing is downloaded):
  japanesevowels, basicmotions, italypowerdemand: aeon 1.6.0 (`.ts` text files,
      read with our own reader, official train/test split; validation carved from train)
  digits, digits-image: scikit-learn's load_digits (seeded stratified 60/20/20 split)

Writes dataset.json and {train,val,test}_{x,y}[,_lengths].npy, all committed (the tuner scores
a candidate's fidelity to the float model on the training inputs). Normalisation statistics come from the train split only
and are baked into every stored x, so the float32 values are exactly what a model sees.
See docs/model-format.md.
"""
import importlib.metadata
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
import jsonfmt  # noqa: E402
from tsfile import read_ts  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = 20240601
AEON_VERSION = "1.6.0"

# name -> (aeon folder, validation samples carved from the official train split, standardise?)
AEON_DATASETS = {
    "japanesevowels": ("JapaneseVowels", 70, True),
    "basicmotions": ("BasicMotions", 10, True),
    "italypowerdemand": ("ItalyPowerDemand", 17, False),
}


def stratified_take(y, n_take, rng):
    """Pick n_take indices of y, stratified by class (largest-remainder quotas).

    Returns (rest, taken), both sorted so that file order is kept."""
    classes, counts = np.unique(y, return_counts=True)
    quota = n_take * counts / len(y)
    k = np.floor(quota).astype(int)
    order = sorted(range(len(classes)), key=lambda i: (-(quota[i] - k[i]), i))
    for i in order[: n_take - k.sum()]:
        k[i] += 1
    taken = []
    for c, kc in zip(classes, k):
        idx = np.flatnonzero(y == c)
        taken.extend(idx[rng.permutation(len(idx))[:kc]].tolist())
    taken = np.sort(np.array(taken, dtype=np.int64))
    rest = np.setdiff1d(np.arange(len(y)), taken)
    return rest, taken


def aeon_data_dir():
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("aeon is not installed: pip install --no-deps aeon==1.6.0")
    version = importlib.metadata.version("aeon")
    if version != AEON_VERSION:
        sys.exit(f"aeon {version} is installed; the datasets were defined with aeon {AEON_VERSION}")
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data")


def pad(series, t_max):
    """list of [C, T_i] -> x [N, t_max, C] zero-padded, lengths [N]."""
    n, c = len(series), series[0].shape[0]
    x = np.zeros((n, t_max, c), dtype=np.float64)
    lengths = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(series):
        x[i, : s.shape[1]] = s.T
        lengths[i] = s.shape[1]
    return x, lengths


def write_split(out, split, x, y, lengths=None):
    np.save(os.path.join(out, f"{split}_x.npy"), np.ascontiguousarray(x, dtype="<f4"))
    np.save(os.path.join(out, f"{split}_y.npy"), np.ascontiguousarray(y, dtype="<i8"))
    if lengths is not None:
        np.save(os.path.join(out, f"{split}_lengths.npy"), np.ascontiguousarray(lengths, dtype="<i8"))


def write_dataset(name, meta, splits):
    """splits: {"train"|"val"|"test": (x, y, lengths or None)}."""
    out = os.path.join(REPO, "data", name)
    os.makedirs(out, exist_ok=True)
    for split, (x, y, lengths) in splits.items():
        write_split(out, split, x, y, lengths)
    info = {"format": "mcutune-dataset", "version": 1, "name": name}
    info.update(meta)
    info["script"] = f"experiments/data/prepare.py {name}"
    info["splits"] = {s: int(len(splits[s][1])) for s in ("train", "val", "test")}
    jsonfmt.write(os.path.join(out, "dataset.json"), info)
    sizes = ", ".join(f"{s} {tuple(v[0].shape)}" for s, v in splits.items())
    print(f"data/{name}: {sizes}")


def prepare_aeon(name):
    folder, n_val, standardise = AEON_DATASETS[name]
    base = os.path.join(aeon_data_dir(), folder)
    tr_series, tr_labels, class_names = read_ts(os.path.join(base, f"{folder}_TRAIN.ts"))
    te_series, te_labels, te_names = read_ts(os.path.join(base, f"{folder}_TEST.ts"))
    if te_names != class_names:
        raise ValueError(f"{folder}: train and test declare different classes")
    index = {c: i for i, c in enumerate(class_names)}
    y_tr = np.array([index[l] for l in tr_labels], dtype=np.int64)
    y_te = np.array([index[l] for l in te_labels], dtype=np.int64)
    for s in tr_series + te_series:
        if np.isnan(s).any():
            raise ValueError(f"{folder}: missing values are not supported")

    t_max = max(s.shape[1] for s in tr_series + te_series)
    variable = len({s.shape[1] for s in tr_series + te_series}) > 1
    x_tr, len_tr = pad(tr_series, t_max)
    x_te, len_te = pad(te_series, t_max)

    rest, val = stratified_take(y_tr, n_val, np.random.RandomState(SEED))
    splits = {"train": [x_tr[rest], y_tr[rest], len_tr[rest]],
              "val": [x_tr[val], y_tr[val], len_tr[val]],
              "test": [x_te, y_te, len_te]}

    channels = x_tr.shape[2]
    if standardise:
        x, lengths = splits["train"][0], splits["train"][2]
        mask = np.arange(t_max)[None, :] < lengths[:, None]          # real steps only
        steps = x[mask]                                                # [steps, C]
        mean, std = steps.mean(axis=0), steps.std(axis=0)
        for s in splits.values():
            m = np.arange(t_max)[None, :] < s[2][:, None]
            s[0] = np.where(m[:, :, None], (s[0] - mean) / std, 0.0)
        normalisation = {
            "method": "standardise",
            "formula": "x = (raw - mean[c]) / std[c] per channel c; padding stays 0",
            "statistics_from": "train",
            "mean": mean.tolist(), "std": std.tolist()}
    else:
        normalisation = {"method": "none",
                         "note": "the UCR archive already z-normalises each series"}

    meta = {
        "source": f"aeon {AEON_VERSION}, aeon/datasets/data/{folder} "
                  f"(official train/test split; val: {n_val} samples of the official train, "
                  f"stratified, seed {SEED})",
        "sample_shape": [channels], "sequence": True, "max_length": int(t_max),
        "variable_length": variable,
        "classes": len(class_names), "labels": class_names,
        "normalisation": normalisation}
    write_dataset(name, meta, {k: tuple(v) for k, v in splits.items()})


def prepare_digits(name):
    import sklearn
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.data.astype(np.float64) / 16.0          # 0..16 -> 0..1, exact in float32
    y = d.target.astype(np.int64)
    rng = np.random.RandomState(SEED)
    rest, test = stratified_take(y, round(0.2 * len(y)), rng)
    r2, val = stratified_take(y[rest], round(0.2 * len(y)), rng)
    train, val = rest[r2], rest[val]
    shape = [8, 8, 1] if name == "digits-image" else [64]
    splits = {s: (x[i].reshape([len(i)] + shape), y[i], None)
              for s, i in (("train", train), ("val", val), ("test", test))}
    meta = {
        "source": f"scikit-learn {sklearn.__version__}, sklearn/datasets/data/digits.csv.gz "
                  f"(load_digits; stratified 60/20/20 train/val/test, seed {SEED})",
        "sample_shape": shape, "sequence": False,
        "classes": 10, "labels": [str(i) for i in range(10)],
        "normalisation": {"method": "scale", "formula": "x = raw / 16 (pixels 0..16)",
                          "scale": 1.0 / 16.0}}
    if name == "digits-image":
        meta["layout"] = "HWC: the 8x8 image row-major, one channel"
    write_dataset(name, meta, splits)


PREPARERS = {**{n: prepare_aeon for n in AEON_DATASETS},
             "digits": prepare_digits, "digits-image": prepare_digits}


def main(argv):
    names = argv[1:]
    if names == ["all"]:
        names = list(PREPARERS)
    if not names or any(n not in PREPARERS for n in names):
        sys.exit(f"usage: prepare.py NAME [NAME ...] | all   (NAME in {', '.join(PREPARERS)})")
    for n in names:
        PREPARERS[n](n)


if __name__ == "__main__":
    main(sys.argv)
