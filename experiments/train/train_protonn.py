#!/usr/bin/env python3
"""Train ProtoNN (Gupta et al., ICML 2017) and export it.

  scores = Z exp(-gamma^2 ||W x - p_m||^2)

Initialisation as in the paper's code: W a random projection, prototypes from k-means
per class in the projected space (here: random class samples refined by a few Lloyd
steps), Z one-hot on each prototype's class, gamma = FACTOR / median distance from the
projected training points to their nearest prototype (the paper's code uses 2.5; with
cross-entropy a smaller factor keeps the kernel values away from 0 early on: 2.5 stayed
at chance in a quick trial, 0.5 and 1.0 trained). gamma then stays fixed (exported as
Scale(-gamma^2)); W, P and Z are trained with Adam on the cross-entropy of the softmax
of the scores. (A squared hinge on the raw scores, targets +-1, stayed near chance in a
quick trial.)
"""
import torch
from torch import nn

import common
from models import Net, ProtoNN


def init_protonn(x, y, dim, prototypes, classes, gamma_factor, gen):
    m = ProtoNN(x.shape[1], dim, prototypes, classes)
    with torch.no_grad():
        m.W.copy_(torch.randn(dim, x.shape[1], generator=gen) / x.shape[1] ** 0.5)
        proj = x @ m.W.T
        per_class = [prototypes // classes + (c < prototypes % classes) for c in range(classes)]
        P, labels = [], []
        for c, k in enumerate(per_class):
            pc = proj[y == c]
            centres = pc[torch.randperm(len(pc), generator=gen)[:k]].clone()
            for _ in range(10):                        # Lloyd steps within the class
                assign = torch.cdist(pc, centres).argmin(1)
                for j in range(k):
                    if (assign == j).any():
                        centres[j] = pc[assign == j].mean(0)
            P.append(centres)
            labels += [c] * k
        m.P.copy_(torch.cat(P))
        m.Z.copy_(nn.functional.one_hot(torch.tensor(labels), classes).T.float())
        d = torch.cdist(proj, m.P).min(1).values
        m.gamma.fill_(gamma_factor / d.median().item())
    return m


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--proj-dim", type=int, default=10)
    p.add_argument("--prototypes", type=int, default=20)
    p.add_argument("--gamma-factor", type=float, default=1.0)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    info = common.dataset_info(args.dataset)
    data = common.load_data(args.dataset)
    C = info["classes"]
    gen = torch.Generator().manual_seed(args.seed)
    pnn = init_protonn(data["train"]["x"], data["train"]["y"], args.proj_dim, args.prototypes, C,
                       args.gamma_factor, gen)
    print(f"gamma = {pnn.gamma.item():.4f}")
    net = Net([("protonn", pnn)], info["sample_shape"])
    epoch, seconds = common.train(net, data, args)
    common.finish(net, data, name=args.name or f"protonn-{args.dataset}",
                  description=f"ProtoNN: projection {args.proj_dim}, {args.prototypes} prototypes, "
                              f"gamma {pnn.gamma.item():.4g} ({args.dataset})",
                  dataset=args.dataset, command=common.command_line("train_protonn.py", p, args),
                  selected_epoch=epoch, seconds=seconds)


if __name__ == "__main__":
    main()
