"""The paper's networks for 32x32 images, looked up by name: `build_model("resnet18", 10, width=16)`.

ResNets are the low-resolution variants (3x3 stride-1 stem, no max-pool). `width` is the number
of channels of the first stage (64 in the paper); every later stage scales with it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn
from torch import Tensor


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.shortcut = _shortcut(in_ch, ch, stride)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int) -> None:
        super().__init__()
        out_ch = ch * self.expansion
        self.conv1 = nn.Conv2d(in_ch, ch, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.conv3 = nn.Conv2d(ch, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        nn.init.zeros_(self.bn3.weight)  # each residual branch starts as the identity (paper's ResNet-50)
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class ResNet(nn.Module):
    """Low-resolution ResNet: 3x3 stride-1 stem, four stages, global average pool, linear head."""

    def __init__(self, block: type[nn.Module], depths: list[int], num_classes: int, width: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        stages, in_ch = [], width
        for i, depth in enumerate(depths):
            ch = width * 2**i
            for j in range(depth):
                stages.append(block(in_ch, ch, 2 if (i > 0 and j == 0) else 1))
                in_ch = ch * block.expansion
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))))


class VGG(nn.Module):
    """VGG with BatchNorm for 32x32 inputs; `cfg` lists conv widths (as multiples of width/64) and 'M' pools."""

    def __init__(self, cfg: list, num_classes: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                ch = v * width // 64
                layers += [nn.Conv2d(in_ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
                in_ch = ch
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


_VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

MODELS: dict[str, Callable[[int, int], nn.Module]] = {
    "resnet18": lambda classes, width: ResNet(BasicBlock, [2, 2, 2, 2], classes, width),
    "resnet50": lambda classes, width: ResNet(Bottleneck, [3, 4, 6, 3], classes, width),
    "vgg11": lambda classes, width: VGG(_VGG11, classes, width),
    "vgg16": lambda classes, width: VGG(_VGG16, classes, width),
}


def build_model(name: str, num_classes: int, width: int = 64) -> nn.Module:
    """A freshly initialised network from the registry (`MODELS`)."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}: choose one of {sorted(MODELS)}.")
    return MODELS[name](num_classes, width)
