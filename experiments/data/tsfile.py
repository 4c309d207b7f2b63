"""A small reader for the `.ts` time-series text format (sktime/aeon, UCR/UEA archives).

Header lines start with `@` (`@problemName`, `@classLabel true A B ...`, `@data`),
comments with `#`. After `@data` each line is one sample: its dimensions separated by
`:`, values by `,`, and the class label as the last `:` field. `?` is a missing value.
This reader returns the same values, in the same order, as aeon's `load_from_ts_file`
(which we do not import: it pulls pandas and more).
"""
import numpy as np


def read_ts(path):
    """Return (series, labels, class_names).

    series: list of float64 arrays [channels, length], one per sample;
    labels: list of str, the label text as written in the file;
    class_names: the labels in the order `@classLabel` declares them.
    """
    class_names = None
    series, labels = [], []
    in_data = False
    with open(path, "r", encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                low = line.lower()
                if low.startswith("@classlabel"):
                    parts = line.split()
                    if len(parts) < 2 or parts[1].lower() != "true":
                        raise ValueError(f"{path}:{lineno}: only labelled .ts files are supported")
                    class_names = parts[2:]
                elif low.startswith("@data"):
                    in_data = True
                continue
            fields = line.split(":")
            if len(fields) < 2:
                raise ValueError(f"{path}:{lineno}: expected dimensions and a label separated by ':'")
            labels.append(fields[-1].strip())
            dims = [np.array([np.nan if v.strip() == "?" else float(v) for v in d.split(",")],
                             dtype=np.float64) for d in fields[:-1]]
            if len({len(d) for d in dims}) != 1:
                raise ValueError(f"{path}:{lineno}: dimensions of one sample differ in length")
            series.append(np.stack(dims))
    if class_names is None:
        raise ValueError(f"{path}: no @classLabel header")
    unknown = set(labels) - set(class_names)
    if unknown:
        raise ValueError(f"{path}: labels {sorted(unknown)} not declared in @classLabel")
    return series, labels, class_names
