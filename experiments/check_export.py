#!/usr/bin/env python3
"""Check an exported model directory with an independent float64 interpreter.

Usage: python3 experiments/check_export.py MODEL_DIR [MODEL_DIR ...]

Reads model.json and its .npy files as docs/model-format.md describes them (and
nothing else: no PyTorch, no code shared with the exporter), validates the graph
(names, roles, shapes, attributes, execution order), runs every op in numpy float64
on the dataset's val and test splits, and asserts that
  - max |logits - reference logits| < 1e-9 (reference: training.reference_logits),
  - the predictions (lowest index of the maximum) are the same, and so the accuracy,
  - the accuracy equals training.float_{val,test}_accuracy.
Exits 1 on the first failure, with what and where.
"""
import json
import os
import re
import sys

import numpy as np

TOLERANCE = 1e-9
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
NPY_DTYPES = {"<f4", "<f8", "|i1", "|u1", "<i2", "<i4", "<i8", "|b1"}

# op -> (number of inputs, required weight roles, optional roles, attributes allowed)
ELEMENTWISE = ("Relu", "Relu6", "Sigmoid", "Tanh", "Exp")
OPS = {
    "Gemm": (1, {"W"}, {"b"}, set()),
    "MatMul": (1, {"W"}, set(), set()),
    "Scale": (1, set(), set(), {"scale"}),
    "Conv2D": (1, {"W"}, {"b"}, {"strides", "pads"}),
    "DepthwiseConv2D": (1, {"W"}, {"b"}, {"strides", "pads"}),
    "MaxPool": (1, set(), set(), {"kernel", "strides"}),
    "AvgPool": (1, set(), set(), {"kernel", "strides"}),
    "Flatten": (1, set(), set(), set()),
    "Reshape": (1, set(), set(), {"shape"}),
    "ArgMax": (1, set(), set(), set()),
    "SquaredDistance": (1, {"P"}, set(), set()),
    "GRU": (1, {"W_ih", "W_hh", "b_ih", "b_hh"}, set(), set()),
    "LSTM": (1, {"W_ih", "W_hh", "b_ih", "b_hh"}, set(), set()),
    **{op: (1, set(), set(), set()) for op in ELEMENTWISE},
}
BINARY = ("Add", "Sub", "Mul")
RECURRENT = ("FastGRNN", "GRU", "LSTM")


class CheckError(Exception):
    pass


def fail(where, message):
    raise CheckError(f"{where}: {message}")


def load_npy(path, allowed=NPY_DTYPES):
    """np.load, refusing what the format refuses (Fortran order, other dtypes)."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            fail(path, f"npy version {version}")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        if fortran:
            fail(path, "Fortran order; the format wants C order")
        if dtype.str not in allowed:
            fail(path, f"dtype {dtype.str}; allowed: {sorted(allowed)}")
    return np.load(path, allow_pickle=False)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- validation and shape inference -------------------------------------------------

def conv_out(where, H, W, kh, kw, strides, pads):
    sh, sw = strides
    top, left, bottom, right = pads
    oh, ow = (H + top + bottom - kh) // sh + 1, (W + left + right - kw) // sw + 1
    if oh < 1 or ow < 1 or min(sh, sw) < 1 or min(pads) < 0:
        fail(where, f"empty or invalid output: {H}x{W}, kernel {kh}x{kw}, strides {strides}, pads {pads}")
    return oh, ow


def fastgrnn_roles(weights, where):
    roles = set(weights)
    need = {"b_z", "b_h", "zeta", "nu"}
    for full, low in (("W", {"W1", "W2"}), ("U", {"U1", "U2"})):
        if full in roles and not (low & roles):
            need.add(full)
        elif low <= roles and full not in roles:
            need |= low
        else:
            fail(where, f"FastGRNN needs {full}, or {' and '.join(sorted(low))}, not both")
    if roles != need:
        fail(where, f"weight roles {sorted(roles)}; expected {sorted(need)}")


def infer(node, shapes_in, w, where):
    """Check weights and attributes of a node against its input shapes; return output shape."""
    op, a = node["op"], node.get("attributes", {})
    x = shapes_in[0]

    def want(role, shape):
        if list(w[role].shape) != list(shape):
            fail(where, f"weight {role} has shape {list(w[role].shape)}, expected {list(shape)}")

    if op in ("Gemm", "MatMul"):
        if len(x) != 1:
            fail(where, f"{op} needs a vector input, got {x}")
        N = w["W"].shape[0]
        want("W", [N, x[0]])
        if "b" in w:
            want("b", [N])
        return [N]
    if op in BINARY:
        other = shapes_in[1] if len(shapes_in) == 2 else list(w["B"].shape)
        if other != x and other not in ([], [1]):
            fail(where, f"{op} of {x} and {other}")
        return x
    if op == "Scale":
        if not isinstance(a.get("scale"), (int, float)) or isinstance(a.get("scale"), bool):
            fail(where, "Scale needs a numeric 'scale' attribute")
        return x
    if op in ELEMENTWISE:
        return x
    if op in ("Conv2D", "DepthwiseConv2D"):
        if len(x) != 3:
            fail(where, f"{op} needs [H,W,C], got {x}")
        H, W, C = x
        if op == "Conv2D":
            if w["W"].ndim != 4 or w["W"].shape[3] != C:
                fail(where, f"W {list(w['W'].shape)} is not [O,kh,kw,{C}]")
            O, kh, kw = w["W"].shape[:3]
        else:
            if w["W"].ndim != 3 or w["W"].shape[2] != C:
                fail(where, f"W {list(w['W'].shape)} is not [kh,kw,{C}]")
            (kh, kw, _), O = w["W"].shape, C
        if "b" in w:
            want("b", [O])
        oh, ow = conv_out(where, H, W, kh, kw, a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
        return [oh, ow, O]
    if op in ("MaxPool", "AvgPool"):
        if len(x) != 3 or "kernel" not in a:
            fail(where, f"{op} needs [H,W,C] and a kernel")
        kh, kw = a["kernel"]
        oh, ow = conv_out(where, x[0], x[1], kh, kw, a.get("strides", a["kernel"]), [0, 0, 0, 0])
        return [oh, ow, x[2]]
    if op == "Flatten":
        return [int(np.prod(x))]
    if op == "Reshape":
        if int(np.prod(a["shape"])) != int(np.prod(x)):
            fail(where, f"Reshape {x} -> {a['shape']} changes the element count")
        return list(a["shape"])
    if op == "ArgMax":
        if len(x) != 1:
            fail(where, "ArgMax needs a vector")
        return []
    if op == "SquaredDistance":
        if len(x) != 1 or w["P"].ndim != 2 or w["P"].shape[1] != x[0]:
            fail(where, f"P {list(w['P'].shape)} does not match input {x}")
        return [w["P"].shape[0]]
    if op == "FastGRNN":
        F = x[0]
        H = w["b_z"].shape[0] if w["b_z"].ndim == 1 else -1
        if H < 1:
            fail(where, "b_z must be [H]")
        for full, (m1, m2), cols in (("W", ("W1", "W2"), F), ("U", ("U1", "U2"), H)):
            if full in w:
                want(full, [H, cols])
            else:
                r = w[m1].shape[1] if w[m1].ndim == 2 else -1
                want(m1, [H, r])
                want(m2, [r, cols])
        want("b_h", [H])
        want("zeta", [1])
        want("nu", [1])
        return [H]
    if op in ("GRU", "LSTM"):
        g = 3 if op == "GRU" else 4
        if w["W_hh"].ndim != 2 or w["W_hh"].shape[0] % g:
            fail(where, f"W_hh {list(w['W_hh'].shape)} is not [{g}H,H]")
        H = w["W_hh"].shape[0] // g
        want("W_ih", [g * H, x[0]])
        want("W_hh", [g * H, H])
        want("b_ih", [g * H])
        want("b_hh", [g * H])
        return [H]
    fail(where, f"unknown op {op}")


def load_model(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        m = json.load(f)
    if m.get("format") != "mcutune-model" or m.get("version") != 1:
        fail("model.json", "format must be 'mcutune-model', version 1")
    for key in ("name", "input", "output", "constants", "nodes"):
        if key not in m:
            fail("model.json", f"missing key {key!r}")
    arrays = {}
    for const, rel in m["constants"].items():
        if not NAME_RE.match(const):
            fail(f"constant {const!r}", "not an identifier")
        arr = load_npy(os.path.join(model_dir, rel), {"<f4", "<f8"})
        arrays[const] = arr.astype(np.float64)

    inp = m["input"]
    sequence = bool(inp.get("sequence", False))
    shapes = {inp["name"]: list(inp["shape"])}
    used = set()
    for node in m["nodes"]:
        name = node.get("name", "?")
        where = f"node {name}"
        op = node.get("op")
        if not NAME_RE.match(name):
            fail(where, "name is not an identifier")
        if len(node.get("outputs", [])) != 1:
            fail(where, "every node has exactly one output")
        out = node["outputs"][0]
        if not NAME_RE.match(out) or out in shapes:
            fail(where, f"output {out!r} is not a fresh tensor name")
        ins = node.get("inputs", [])
        for t in ins:
            if t not in shapes:
                fail(where, f"input {t!r} is not written before it is read")
        if sequence and (inp["name"] in ins) != (op in RECURRENT):
            fail(where, "the sequence input feeds recurrent ops, and only them")
        if op in RECURRENT and (not sequence or ins != [inp["name"]]):
            fail(where, "a recurrent op reads the sequence graph input")
        roles = node.get("weights", {})
        for role, const in roles.items():
            if const not in arrays:
                fail(where, f"weight {role} names unknown constant {const!r}")
            used.add(const)
        w = {role: arrays[const] for role, const in roles.items()}
        if op == "FastGRNN":
            fastgrnn_roles(roles, where)
            attrs = set()
        elif op in BINARY:
            expect = ({"B"}, 1) if len(ins) == 1 else (set(), 2)
            if set(roles) != expect[0] or len(ins) != expect[1]:
                fail(where, f"{op} takes two inputs, or one input and weight B")
            attrs = set()
        elif op in OPS:
            n_in, req, opt, attrs = OPS[op]
            if len(ins) != n_in:
                fail(where, f"{op} takes {n_in} input(s), got {len(ins)}")
            if not (req <= set(roles) <= req | opt):
                fail(where, f"weight roles {sorted(roles)}; required {sorted(req)}, optional {sorted(opt)}")
        else:
            fail(where, f"unknown op {op!r}")
        extra = set(node.get("attributes", {})) - attrs
        if extra:
            fail(where, f"unknown attributes {sorted(extra)}")
        shapes[out] = infer(node, [shapes[t] for t in ins], w, where)
    unused = set(arrays) - used
    if unused:
        fail("model.json", f"constants no node uses: {sorted(unused)}")
    if m["output"] not in shapes:
        fail("model.json", f"output {m['output']!r} is not a tensor")
    return m, arrays, shapes


# ---- execution, batched over samples (axis 0) ----------------------------------------

def conv_windows(x, kh, kw, strides, pads):
    """Yield (dy, dx, window [N, oh, ow, C]) of the zero-padded input."""
    top, left, bottom, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    sh, sw = strides
    oh = (xp.shape[1] - kh) // sh + 1
    ow = (xp.shape[2] - kw) // sw + 1
    for dy in range(kh):
        for dx in range(kw):
            yield dy, dx, xp[:, dy:dy + sh * (oh - 1) + 1:sh, dx:dx + sw * (ow - 1) + 1:sw, :]


def run_recurrent(op, w, xs, lengths):
    N, T, _ = xs.shape
    if op == "FastGRNN":
        H = w["b_z"].shape[0]
        Wx = (lambda v: v @ w["W"].T) if "W" in w else (lambda v: (v @ w["W2"].T) @ w["W1"].T)
        Uh = (lambda v: v @ w["U"].T) if "U" in w else (lambda v: (v @ w["U2"].T) @ w["U1"].T)
        zeta, nu = sigmoid(w["zeta"][0]), sigmoid(w["nu"][0])
    else:
        H = w["W_hh"].shape[1]
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    for t in range(T):
        x = xs[:, t]
        if op == "FastGRNN":
            pre = Wx(x) + Uh(h)
            z = sigmoid(pre + w["b_z"])
            cand = np.tanh(pre + w["b_h"])
            h_new, c_new = (zeta * (1 - z) + nu) * cand + z * h, c
        elif op == "GRU":
            gi = x @ w["W_ih"].T + w["b_ih"]
            gh = h @ w["W_hh"].T + w["b_hh"]
            r = sigmoid(gi[:, :H] + gh[:, :H])
            z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h_new, c_new = (1 - z) * n + z * h, c
        else:
            g = x @ w["W_ih"].T + w["b_ih"] + h @ w["W_hh"].T + w["b_hh"]
            i, f = sigmoid(g[:, :H]), sigmoid(g[:, H:2 * H])
            gg, o = np.tanh(g[:, 2 * H:3 * H]), sigmoid(g[:, 3 * H:])
            c_new = f * c + i * gg
            h_new = o * np.tanh(c_new)
        active = (lengths > t)[:, None]
        h = np.where(active, h_new, h)
        c = np.where(active, c_new, c)
    return h


def run_node(node, ins, w, lengths):
    op, a = node["op"], node.get("attributes", {})
    x = ins[0]
    if op == "Gemm":
        return x @ w["W"].T + (w["b"] if "b" in w else 0.0)
    if op == "MatMul":
        return x @ w["W"].T
    if op in BINARY:
        b = ins[1] if len(ins) == 2 else w["B"]
        if b.shape in ((), (1,)):
            b = b.reshape(())
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](x, b)
    if op == "Scale":
        return float(a["scale"]) * x
    if op == "Relu":
        return np.maximum(x, 0.0)
    if op == "Relu6":
        return np.minimum(np.maximum(x, 0.0), 6.0)
    if op == "Sigmoid":
        return sigmoid(x)
    if op == "Tanh":
        return np.tanh(x)
    if op == "Exp":
        return np.exp(x)
    if op in ("Conv2D", "DepthwiseConv2D"):
        W = w["W"]
        kh, kw = (W.shape[1:3] if op == "Conv2D" else W.shape[:2])
        out = 0.0
        for dy, dx, win in conv_windows(x, kh, kw, a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])):
            if op == "Conv2D":
                out = out + np.einsum("nijc,oc->nijo", win, W[:, dy, dx, :])
            else:
                out = out + win * W[dy, dx, :]
        return out + (w["b"] if "b" in w else 0.0)
    if op in ("MaxPool", "AvgPool"):
        kh, kw = a["kernel"]
        wins = [win for _, _, win in conv_windows(x, kh, kw, a.get("strides", a["kernel"]), [0, 0, 0, 0])]
        return np.max(wins, axis=0) if op == "MaxPool" else np.sum(wins, axis=0) / (kh * kw)
    if op == "Flatten":
        return x.reshape(x.shape[0], -1)
    if op == "Reshape":
        return x.reshape([x.shape[0]] + list(a["shape"]))
    if op == "ArgMax":
        return np.argmax(x, axis=1).astype(np.float64)
    if op == "SquaredDistance":
        return ((x[:, None, :] - w["P"][None, :, :]) ** 2).sum(axis=2)
    if op in RECURRENT:
        return run_recurrent(op, w, x, lengths)
    raise CheckError(f"node {node['name']}: no implementation for {op}")


def run(m, arrays, x, lengths):
    tensors = {m["input"]["name"]: x.astype(np.float64)}
    for node in m["nodes"]:
        w = {role: arrays[c] for role, c in node.get("weights", {}).items()}
        tensors[node["outputs"][0]] = run_node(node, [tensors[t] for t in node["inputs"]], w, lengths)
    return tensors[m["output"]]


# ---- the check -------------------------------------------------------------------------

def load_split(data_dir, split, m, info):
    x = load_npy(os.path.join(data_dir, f"{split}_x.npy"), {"<f4"})
    y = load_npy(os.path.join(data_dir, f"{split}_y.npy"), {"<i8"})
    seq = bool(m["input"].get("sequence", False))
    lengths = None
    sample = list(x.shape[2:] if seq else x.shape[1:])
    if sample != list(m["input"]["shape"]):
        fail(f"{data_dir}/{split}_x.npy", f"sample shape {sample}, model input {m['input']['shape']}")
    if seq:
        lengths = load_npy(os.path.join(data_dir, f"{split}_lengths.npy"), {"<i8"})
        if lengths.min() < 1 or lengths.max() > x.shape[1]:
            fail(f"{data_dir}/{split}_lengths.npy", "lengths outside 1...Tmax")
    if y.shape != (x.shape[0],) or y.min() < 0 or y.max() >= info["classes"]:
        fail(f"{data_dir}/{split}_y.npy", "labels must be [N] in 0..<classes")
    if info["splits"][split] != x.shape[0]:
        fail(f"{data_dir}/dataset.json", f"splits.{split} = {info['splits'][split]}, file has {x.shape[0]}")
    return x, y, lengths


def check(model_dir):
    m, arrays, shapes = load_model(model_dir)
    data_dir = os.path.normpath(os.path.join(model_dir, m["dataset"]))
    with open(os.path.join(data_dir, "dataset.json")) as f:
        info = json.load(f)
    training = m["training"]
    report = {}
    for split in ("val", "test"):
        x, y, lengths = load_split(data_dir, split, m, info)
        out = run(m, arrays, x, lengths)
        if shapes[m["output"]] == []:
            pred = out.astype(np.int64)
            ref = None
        else:
            ref = load_npy(os.path.join(model_dir, training["reference_logits"][split]), {"<f8"})
            if ref.shape != out.shape:
                fail(split, f"reference logits {ref.shape}, interpreter {out.shape}")
            diff = float(np.max(np.abs(out - ref)))
            if not diff < TOLERANCE:
                fail(split, f"max |logit difference| {diff:.3e} >= {TOLERANCE}")
            pred = np.argmax(out, axis=1)
            if not np.array_equal(pred, np.argmax(ref, axis=1)):
                fail(split, "predictions differ from the reference logits'")
        acc = float(np.mean(pred == y))
        recorded = training[f"float_{split}_accuracy"]
        if abs(acc - recorded) > 1e-12:
            fail(split, f"accuracy {acc} but model.json records {recorded}")
        report[split] = (acc, diff if ref is not None else None, len(y))
    return m["name"], report


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    ok = True
    for model_dir in argv[1:]:
        try:
            name, report = check(model_dir)
        except (CheckError, KeyError, OSError, ValueError) as e:
            print(f"FAIL {model_dir}: {type(e).__name__}: {e}")
            ok = False
            continue
        parts = [f"{s} acc {acc:.4f} (n={n}) max|diff| {d:.2e}" for s, (acc, d, n) in report.items()]
        print(f"ok   {name}: " + "; ".join(parts))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv)
