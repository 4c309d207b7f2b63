#!/usr/bin/env python3
"""Train one of the small feed-forward digit classifiers and export it.

  --arch lenet   (digits-image [8,8,1]) Conv 1->8 3x3 pad 1, ReLU, MaxPool 2,
                 Conv 8->16 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 64->10
  --arch dscnn   (digits-image) Conv 1->8 3x3 pad 1, ReLU, depthwise 3x3 pad 1, ReLU6,
                 pointwise Conv 8->16 1x1, ReLU, AvgPool 2, MaxPool 2, Flatten, Linear 64->10
  --arch mlp     (digits [64]) Linear 64->32, ReLU, Linear 32->16, Tanh, Linear 16->10
"""
from torch import nn

import common
from models import Net

ARCHS = {
    "lenet": ("digits-image", lambda: [
        ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(64, 10))],
        "LeNet-style CNN: conv3x3(8) relu maxpool2 conv3x3(16) relu maxpool2 dense(10)"),
    "dscnn": ("digits-image", lambda: [
        ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("relu1", nn.ReLU()),
        ("dwconv", nn.Conv2d(8, 8, 3, padding=1, groups=8)), ("relu6", nn.ReLU6()),
        ("pwconv", nn.Conv2d(8, 16, 1)), ("relu2", nn.ReLU()),
        ("avgpool", nn.AvgPool2d(2)), ("maxpool", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(64, 10))],
        "depthwise-separable CNN: conv3x3(8) relu dw3x3 relu6 pw1x1(16) relu avgpool2 maxpool2 dense(10)"),
    "mlp": ("digits", lambda: [
        ("fc1", nn.Linear(64, 32)), ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(32, 16)), ("tanh2", nn.Tanh()),
        ("fc3", nn.Linear(16, 10))],
        "MLP: dense(32) relu dense(16) tanh dense(10)"),
}


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--arch", choices=sorted(ARCHS), required=True)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    dataset, layers, description = ARCHS[args.arch]
    info = common.dataset_info(dataset)
    data = common.load_data(dataset)
    net = Net(layers(), info["sample_shape"])
    epoch, seconds = common.train(net, data, args)
    common.finish(net, data, name=args.name or f"{args.arch}-digits",
                  description=f"{description} (sklearn digits)", dataset=dataset,
                  command=common.command_line("train_cnn.py", p, args),
                  selected_epoch=epoch, seconds=seconds)


if __name__ == "__main__":
    main()
