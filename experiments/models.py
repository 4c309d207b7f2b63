"""PyTorch modules for the reference models.

Every model is a `Net`: an ordered list of named layers, run one after the other. The
exporter (export.py) walks the same list and writes one or more graph nodes per layer,
so a layer's name here is its node name in model.json.

Sequence models are many-to-one: the first layer is recurrent (FastGRNN, nn.GRU or
nn.LSTM), starts from a zero state and returns each sample's state after that sample's
own last real step; the layers after it see one vector per sample.
"""
from collections import OrderedDict

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class FastGRNN(nn.Module):
    """FastGRNN (Kusupati et al., NeurIPS 2018), as in docs/model-format.md:

        z  = sigmoid(W x + U h + b_z)
        c  = tanh(W x + U h + b_h)
        h' = (sigmoid(zeta) (1 - z) + sigmoid(nu)) * c + z * h

    W and U are shared by gate and candidate. With `w_rank`, W = W1 W2 (W1 [H,r],
    W2 [r,F]); with `u_rank`, U = U1 U2 (U1 [H,r], U2 [r,H]). zeta and nu are raw
    scalars of shape [1]; the sigmoid is part of the equations.
    """

    def __init__(self, input_size, hidden_size, w_rank=None, u_rank=None,
                 zeta_init=1.0, nu_init=-4.0):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.w_rank, self.u_rank = w_rank, u_rank
        H, F = hidden_size, input_size
        if w_rank is None:
            self.W = nn.Parameter(torch.randn(H, F) * 0.1)
        else:
            self.W1 = nn.Parameter(torch.randn(H, w_rank) * 0.3)
            self.W2 = nn.Parameter(torch.randn(w_rank, F) * 0.3)
        if u_rank is None:
            self.U = nn.Parameter(torch.randn(H, H) * 0.1)
        else:
            self.U1 = nn.Parameter(torch.randn(H, u_rank) * 0.3)
            self.U2 = nn.Parameter(torch.randn(u_rank, H) * 0.3)
        self.b_z = nn.Parameter(torch.ones(H))
        self.b_h = nn.Parameter(torch.ones(H))
        self.zeta = nn.Parameter(torch.tensor([zeta_init]))
        self.nu = nn.Parameter(torch.tensor([nu_init]))

    def _wx(self, x):
        if self.w_rank is None:
            return x @ self.W.T
        return (x @ self.W2.T) @ self.W1.T

    def _uh(self, h):
        if self.u_rank is None:
            return h @ self.U.T
        return (h @ self.U2.T) @ self.U1.T

    def step(self, x, h):
        pre = self._wx(x) + self._uh(h)
        z = torch.sigmoid(pre + self.b_z)
        c = torch.tanh(pre + self.b_h)
        return (torch.sigmoid(self.zeta) * (1 - z) + torch.sigmoid(self.nu)) * c + z * h

    def forward(self, x, lengths):
        """x [B, T, F] zero-padded, lengths [B] -> final states [B, H]."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.hidden_size)
        for t in range(T):
            active = (lengths > t).unsqueeze(1)
            h = torch.where(active, self.step(x[:, t], h), h)
        return h


class ProtoNN(nn.Module):
    """ProtoNN (Gupta et al., ICML 2017): scores = Z exp(-gamma^2 ||W x - p_m||^2).

    W [d, D] projection (no bias), P [M, d] prototypes, Z [L, M] prototype labels,
    gamma a fixed scalar (a buffer, set from the data at initialisation).
    """

    def __init__(self, input_size, proj_dim, prototypes, classes, gamma=1.0):
        super().__init__()
        self.W = nn.Parameter(torch.randn(proj_dim, input_size) / input_size ** 0.5)
        self.P = nn.Parameter(torch.randn(prototypes, proj_dim))
        self.Z = nn.Parameter(torch.zeros(classes, prototypes))
        self.register_buffer("gamma", torch.tensor(float(gamma)))

    def forward(self, x):
        proj = x @ self.W.T                                            # [B, d]
        dist = ((proj.unsqueeze(1) - self.P.unsqueeze(0)) ** 2).sum(-1)  # [B, M]
        sim = torch.exp(-(self.gamma * self.gamma) * dist)
        return sim @ self.Z.T                                          # [B, L]


RECURRENT = (FastGRNN, nn.GRU, nn.LSTM)


class Net(nn.Module):
    """Named layers run in order; `input_shape` is one sample's shape (one timestep's
    for sequences). A recurrent first layer receives (x, lengths).

    Images come in as stored, [B, H, W, C] (channels last, the model format's layout),
    and are permuted to PyTorch's [B, C, H, W] before the first layer; the exporter
    undoes PyTorch's channel-first order where it matters (Conv weights, Flatten).
    """

    def __init__(self, layers, input_shape, sequence=False):
        super().__init__()
        self.layers = nn.ModuleDict(OrderedDict(layers))
        self.input_shape = list(input_shape)
        self.sequence = sequence
        first = next(iter(self.layers.values()))
        if sequence != isinstance(first, RECURRENT):
            raise ValueError("a sequence model starts with a recurrent layer, and only it does")
        for name, layer in list(self.layers.items())[1:]:
            if isinstance(layer, RECURRENT):
                raise ValueError(f"layer {name}: only the first layer may be recurrent")

    def forward(self, x, lengths=None):
        if len(self.input_shape) == 3:
            x = x.permute(0, 3, 1, 2)
        for layer in self.layers.values():
            if isinstance(layer, FastGRNN):
                x = layer(x, lengths)
            elif isinstance(layer, (nn.GRU, nn.LSTM)):
                x = run_torch_rnn(layer, x, lengths)
            else:
                x = layer(x)
        return x


def run_torch_rnn(rnn, x, lengths):
    """Final hidden state of each sample after its own last step (zero initial state)."""
    if rnn.num_layers != 1 or rnn.bidirectional or not rnn.batch_first:
        raise ValueError("only 1-layer, unidirectional, batch_first GRU/LSTM are supported")
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, state = rnn(packed)
    h = state[0] if isinstance(rnn, nn.LSTM) else state
    return h[-1]


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
