#!/usr/bin/env python3
"""Train a PyTorch GRU or LSTM sequence classifier (RNN -> Linear) and export it.

  python3 experiments/train/train_rnn.py --cell gru --dataset italypowerdemand \
      --hidden 16 --epochs 200 --lr 0.01
"""
import common
from models import Net
from torch import nn


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--cell", choices=("gru", "lstm"), required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--hidden", type=int, default=16)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    info = common.dataset_info(args.dataset)
    data = common.load_data(args.dataset)
    F, C = info["sample_shape"][0], info["classes"]
    cls = nn.GRU if args.cell == "gru" else nn.LSTM
    net = Net([("rnn", cls(F, args.hidden, batch_first=True)), ("fc", nn.Linear(args.hidden, C))],
              [F], sequence=True)
    epoch, seconds = common.train(net, data, args)
    common.finish(net, data, name=args.name or f"{args.cell}-{args.dataset}",
                  description=f"{args.cell.upper()}, {F} inputs, {args.hidden} hidden, {C} classes "
                              f"({args.dataset})",
                  dataset=args.dataset, command=common.command_line("train_rnn.py", p, args),
                  selected_epoch=epoch, seconds=seconds)


if __name__ == "__main__":
    main()
