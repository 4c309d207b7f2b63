"""Export a trained `models.Net` to an mcutune model directory (docs/model-format.md).

    export(net, "models/NAME", name=..., description=..., dataset="../../data/X",
           training={...})

writes model.json and weights/*.npy (float32). The exporter walks the net's layers in
order and turns each into one or more graph nodes; it tracks the per-sample shape in the
format's layout (images [H, W, C]) so that it can convert PyTorch's channel-first
weights:

- nn.Conv2d, groups=1      -> Conv2D, W [O,C,kh,kw] permuted to [O,kh,kw,C]
- nn.Conv2d, groups=C=O    -> DepthwiseConv2D, W [C,1,kh,kw] -> [kh,kw,C]
- nn.Flatten               -> Flatten. PyTorch flattens [C,H,W], the format [H,W,C]:
                              the next nn.Linear gets its columns permuted to match
                              (elementwise layers in between keep the permutation).
- nn.Linear -> Gemm; MaxPool2d/AvgPool2d -> MaxPool/AvgPool; ReLU, ReLU6, Sigmoid,
  Tanh -> Relu, Relu6, Sigmoid, Tanh; Identity and Dropout -> nothing
- FastGRNN -> FastGRNN; nn.GRU -> GRU; nn.LSTM -> LSTM (final state)
- ProtoNN -> Gemm(W, no bias) -> SquaredDistance(P) -> Scale(-gamma^2) -> Exp -> MatMul(Z)

Node names are the layer names; a weight constant is "<node>.<role>" stored in
weights/<node>.<role>.npy. The recurrent output tensor is "h", the last one "logits",
any other "<node>_out".
"""
import os
import re
import shutil

import numpy as np
from torch import nn

import jsonfmt
from models import FastGRNN, Net, ProtoNN

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class ExportError(Exception):
    pass


def _f32(t):
    """A parameter as float32; refuse a value that float32 cannot hold exactly."""
    a = t.detach().cpu().numpy()
    out = np.ascontiguousarray(a.astype("<f4"))
    if not np.array_equal(out.astype(a.dtype), a):
        raise ExportError("a weight is not exactly representable in float32")
    return out


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class GraphBuilder:
    def __init__(self, input_name, input_shape):
        self.nodes, self.constants, self.arrays = [], {}, {}
        self.tensor, self.shape = input_name, list(input_shape)
        self.perm = None          # pending Flatten permutation for the next Gemm
        self.names = {input_name}

    def add(self, name, op, shape, weights=None, attributes=None, output=None):
        """Append a node reading the current tensor; `shape` is its output shape."""
        if not NAME_RE.match(name) or name in self.names:
            raise ExportError(f"node name {name!r} is not a fresh identifier")
        out = output or f"{name}_out"
        node = {"name": name, "op": op, "inputs": [self.tensor], "outputs": [out]}
        if weights:
            node["weights"] = {}
            for role, arr in weights.items():
                const = f"{name}.{role}"
                self.constants[const] = f"weights/{const}.npy"
                self.arrays[const] = arr
                node["weights"][role] = const
        if attributes:
            node["attributes"] = attributes
        self.nodes.append(node)
        self.names.update({name, out})
        self.tensor, self.shape = out, list(shape)

    def take_perm(self):
        perm, self.perm = self.perm, None
        return perm


# ---- one converter per layer type: (builder, name, layer) -> None -------------------

def _linear(g, name, m):
    if len(g.shape) != 1 or g.shape[0] != m.in_features:
        raise ExportError(f"{name}: Linear({m.in_features}) after a tensor of shape {g.shape}")
    W = _f32(m.weight)
    perm = g.take_perm()
    if perm is not None:
        W = np.ascontiguousarray(W[:, perm])
    weights = {"W": W}
    if m.bias is not None:
        weights["b"] = _f32(m.bias)
    g.add(name, "Gemm", [m.out_features], weights)


def _conv_geometry(name, g, m):
    if len(g.shape) != 3:
        raise ExportError(f"{name}: a convolution needs an [H,W,C] input, got {g.shape}")
    if _pair(m.dilation) != (1, 1) or m.padding_mode != "zeros":
        raise ExportError(f"{name}: only dilation 1 and zero padding are supported")
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride)
    if m.padding == "valid":
        pads = [0, 0, 0, 0]
    elif m.padding == "same":
        th, tw = kh - 1, kw - 1
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
    else:
        ph, pw = _pair(m.padding)
        pads = [ph, pw, ph, pw]
    H, W, _ = g.shape
    oh = (H + pads[0] + pads[2] - kh) // sh + 1
    ow = (W + pads[1] + pads[3] - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise ExportError(f"{name}: output would be empty")
    return {"strides": [sh, sw], "pads": pads}, oh, ow


def _conv2d(g, name, m):
    attrs, oh, ow = _conv_geometry(name, g, m)
    C = g.shape[2]
    if C != m.in_channels:
        raise ExportError(f"{name}: Conv2d expects {m.in_channels} channels, input has {C}")
    w = _f32(m.weight)
    if m.groups == 1:
        op, W = "Conv2D", np.ascontiguousarray(w.transpose(0, 2, 3, 1))       # OIHW -> OHWI
    elif m.groups == C and m.out_channels == C:
        op, W = "DepthwiseConv2D", np.ascontiguousarray(w[:, 0].transpose(1, 2, 0))  # -> [kh,kw,C]
    else:
        raise ExportError(f"{name}: groups={m.groups} is neither 1 nor depthwise")
    weights = {"W": W}
    if m.bias is not None:
        weights["b"] = _f32(m.bias)
    g.add(name, op, [oh, ow, m.out_channels], weights, attrs)


def _pool(g, name, m):
    op = "MaxPool" if isinstance(m, nn.MaxPool2d) else "AvgPool"
    if len(g.shape) != 3:
        raise ExportError(f"{name}: pooling needs an [H,W,C] input, got {g.shape}")
    if _pair(m.padding) != (0, 0) or m.ceil_mode:
        raise ExportError(f"{name}: only unpadded, floor-mode pooling is supported")
    if isinstance(m, nn.MaxPool2d) and _pair(m.dilation) != (1, 1):
        raise ExportError(f"{name}: pooling dilation is not supported")
    if isinstance(m, nn.AvgPool2d) and m.divisor_override is not None:
        raise ExportError(f"{name}: divisor_override is not supported")
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride if m.stride is not None else m.kernel_size)
    H, W, C = g.shape
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise ExportError(f"{name}: output would be empty")
    g.add(name, op, [oh, ow, C], attributes={"kernel": [kh, kw], "strides": [sh, sw]})


ACTIVATIONS = [(nn.ReLU6, "Relu6"), (nn.ReLU, "Relu"), (nn.Sigmoid, "Sigmoid"), (nn.Tanh, "Tanh")]


def _activation(g, name, m):
    if isinstance(m, nn.Hardtanh) and not isinstance(m, nn.ReLU6):
        raise ExportError(f"{name}: Hardtanh is not supported")
    op = next(op for cls, op in ACTIVATIONS if isinstance(m, cls))
    g.add(name, op, g.shape)          # elementwise: a pending Flatten permutation stays valid


def _flatten(g, name, m):
    if m.start_dim != 1 or m.end_dim != -1:
        raise ExportError(f"{name}: only Flatten(start_dim=1, end_dim=-1) is supported")
    if len(g.shape) == 3:
        H, W, C = g.shape
        perm = np.arange(C * H * W).reshape(C, H, W).transpose(1, 2, 0).reshape(-1)
        if not np.array_equal(perm, np.arange(perm.size)):
            g.perm = perm
    g.add(name, "Flatten", [int(np.prod(g.shape))])


def _fastgrnn(g, name, m):
    F, H = m.input_size, m.hidden_size
    if g.shape != [F]:
        raise ExportError(f"{name}: FastGRNN({F}) after an input of shape {g.shape}")
    w = {}
    for full, low in (("W", ("W1", "W2")), ("U", ("U1", "U2"))):
        for role in ((full,) if hasattr(m, full) else low):
            w[role] = _f32(getattr(m, role))
    for role in ("b_z", "b_h", "zeta", "nu"):
        w[role] = _f32(getattr(m, role))
    g.add(name, "FastGRNN", [H], w, output="h")


def _torch_rnn(g, name, m):
    if m.num_layers != 1 or m.bidirectional or not m.batch_first:
        raise ExportError(f"{name}: only 1-layer, unidirectional, batch_first RNNs")
    if isinstance(m, nn.LSTM) and m.proj_size:
        raise ExportError(f"{name}: LSTM projections are not supported")
    if g.shape != [m.input_size]:
        raise ExportError(f"{name}: RNN({m.input_size}) after an input of shape {g.shape}")
    gates = 4 if isinstance(m, nn.LSTM) else 3
    zeros = np.zeros(gates * m.hidden_size, dtype="<f4")
    w = {"W_ih": _f32(m.weight_ih_l0), "W_hh": _f32(m.weight_hh_l0),
         "b_ih": _f32(m.bias_ih_l0) if m.bias else zeros,
         "b_hh": _f32(m.bias_hh_l0) if m.bias else zeros}
    g.add(name, "LSTM" if isinstance(m, nn.LSTM) else "GRU", [m.hidden_size], w, output="h")


def _protonn(g, name, m):
    d, D = m.W.shape
    M, L = m.P.shape[0], m.Z.shape[0]
    if g.shape != [D]:
        raise ExportError(f"{name}: ProtoNN({D}) after an input of shape {g.shape}")
    if g.take_perm() is not None:
        raise ExportError(f"{name}: ProtoNN right after a channel-first Flatten")
    gamma = float(m.gamma)
    g.add(f"{name}_proj", "Gemm", [d], {"W": _f32(m.W)})
    g.add(f"{name}_dist", "SquaredDistance", [M], {"P": _f32(m.P)})
    g.add(f"{name}_scale", "Scale", [M], attributes={"scale": -(gamma * gamma)})
    g.add(f"{name}_kernel", "Exp", [M])
    g.add(f"{name}_score", "MatMul", [L], {"W": _f32(m.Z)})


CONVERTERS = [
    (nn.Linear, _linear), (nn.Conv2d, _conv2d), ((nn.MaxPool2d, nn.AvgPool2d), _pool),
    (tuple(cls for cls, _ in ACTIVATIONS) + (nn.Hardtanh,), _activation),
    (nn.Flatten, _flatten), (FastGRNN, _fastgrnn), ((nn.GRU, nn.LSTM), _torch_rnn),
    (ProtoNN, _protonn),
]


def build_graph(net: Net):
    g = GraphBuilder("x", net.input_shape)
    for name, layer in net.layers.items():
        if isinstance(layer, (nn.Identity, nn.Dropout)):
            continue
        for cls, convert in CONVERTERS:
            if isinstance(layer, cls):
                convert(g, name, layer)
                break
        else:
            raise ExportError(f"{name}: no converter for {type(layer).__name__}")
        if g.perm is not None and g.nodes[-1]["op"] not in ("Flatten", "Relu", "Relu6", "Sigmoid", "Tanh"):
            raise ExportError(f"{name}: a channel-first Flatten must be followed by a Linear")
    if g.perm is not None:
        raise ExportError("the model ends on a channel-first Flatten; add a Linear after it")
    # the last tensor is the model's output
    last = g.nodes[-1]
    g.names.discard(last["outputs"][0])
    last["outputs"] = ["logits"]
    return g


def export(net, out_dir, *, name, description, dataset, training=None):
    """Write out_dir/model.json and out_dir/weights/; return the model.json dict."""
    g = build_graph(net)
    weights_dir = os.path.join(out_dir, "weights")
    if os.path.isdir(weights_dir):
        shutil.rmtree(weights_dir)
    os.makedirs(weights_dir)
    for const, arr in g.arrays.items():
        np.save(os.path.join(out_dir, g.constants[const]), arr)
    model = {
        "format": "mcutune-model", "version": 1, "name": name, "description": description,
        "input": {"name": "x", "shape": net.input_shape, "sequence": net.sequence},
        "output": "logits", "dataset": dataset,
        "constants": g.constants, "nodes": g.nodes}
    if training is not None:
        model["training"] = training
    jsonfmt.write(os.path.join(out_dir, "model.json"), model)
    return model
