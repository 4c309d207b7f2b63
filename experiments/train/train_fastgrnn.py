#!/usr/bin/env python3
"""Train a FastGRNN sequence classifier (FastGRNN -> Linear) and export it.

  python3 experiments/train/train_fastgrnn.py --dataset japanesevowels --hidden 16 \
      --epochs 300 --lr 0.01
Optional low rank: --w-rank R (W = W1 W2), --u-rank R (U = U1 U2).
"""
import common
from models import FastGRNN, Net
from torch import nn


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--w-rank", type=int)
    p.add_argument("--u-rank", type=int)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    info = common.dataset_info(args.dataset)
    data = common.load_data(args.dataset)
    F, C = info["sample_shape"][0], info["classes"]
    net = Net([("rnn", FastGRNN(F, args.hidden, w_rank=args.w_rank, u_rank=args.u_rank)),
               ("fc", nn.Linear(args.hidden, C))], [F], sequence=True)
    epoch, seconds = common.train(net, data, args)
    ranks = "".join(f", {m} rank {r}" for m, r in (("W", args.w_rank), ("U", args.u_rank)) if r)
    common.finish(net, data, name=args.name or f"fastgrnn-{args.dataset}",
                  description=f"FastGRNN, {F} inputs, {args.hidden} hidden{ranks}, {C} classes "
                              f"({args.dataset})",
                  dataset=args.dataset, command=common.command_line("train_fastgrnn.py", p, args),
                  selected_epoch=epoch, seconds=seconds)


if __name__ == "__main__":
    main()
