"""The networks for 32x32 images, looked up by name: `build_model("resnet18", 10, width=16)`.

ResNets are the paper's low-resolution variants (3x3 stride-1 stem, no max-pool); `airbench` is
the shape of Keller Jordan's airbench94, a network built to train fast on CIFAR-10. `width` is the
number of channels of the first stage (64 in the paper's ResNets and in airbench94); every later
stage scales with it.

Initialisation (`init`): "lecun" is the authors' Flax default (truncated-normal weights of variance
1/fan_in, zero biases; BatchNorm scale 1, shift 0); "torch" keeps PyTorch's defaults (weights and
biases uniform in +-1/sqrt(fan_in)), which make the logits at initialisation several times smaller.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn as nn
from torch import Tensor

INITS = ("lecun", "torch")


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


class Airbench(nn.Module):
    """The airbench94 shape: a 2x2 stem conv (24 channels, no padding) with GELU; three groups of conv3x3 ->
    max-pool 2 -> BatchNorm -> GELU -> conv3x3 -> BatchNorm -> GELU of widths (width, 4 width, 4 width);
    a global max-pool; a bias-free linear head whose output is divided by 9.

    Unlike airbench94, the stem is trained from a random initialisation (no data whitening) and every
    BatchNorm learns its scale.
    """

    STEM = 24  # airbench94's whitening width: 2 * 3 channels * 2x2 patch

    def __init__(self, num_classes: int, width: int) -> None:
        super().__init__()
        widths = (width, 4 * width, 4 * width)
        layers: list[nn.Module] = [nn.Conv2d(3, self.STEM, 2, padding=0), nn.GELU()]
        in_ch = self.STEM
        for ch in widths:
            layers += [nn.Conv2d(in_ch, ch, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(ch), nn.GELU(),
                       nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.GELU()]
            in_ch = ch
        self.features = nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.fc = nn.Linear(in_ch, num_classes, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x)) / 9


_VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

MODELS: dict[str, Callable[[int, int], nn.Module]] = {
    "resnet18": lambda classes, width: ResNet(BasicBlock, [2, 2, 2, 2], classes, width),
    "resnet50": lambda classes, width: ResNet(Bottleneck, [3, 4, 6, 3], classes, width),
    "vgg11": lambda classes, width: VGG(_VGG11, classes, width),
    "vgg16": lambda classes, width: VGG(_VGG16, classes, width),
    "airbench": Airbench,
}


@torch.no_grad()
def lecun_init(model: nn.Module) -> nn.Module:
    """Flax's default initialisation, in place: conv and linear weights from a normal truncated at two
    standard deviations and rescaled to variance 1/fan_in (`lecun_normal`), biases zero."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            fan_in = module.weight[0].numel()
            std = math.sqrt(1.0 / fan_in) / 0.87962566103423978  # the std of a unit normal truncated at +-2
            nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def build_model(name: str, num_classes: int, width: int = 64, init: str = "lecun") -> nn.Module:
    """A freshly initialised network from the registry (`MODELS`), initialised by `init` (see `INITS`)."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}: choose one of {sorted(MODELS)}.")
    if init not in INITS:
        raise ValueError(f"Unknown initialisation {init!r}: choose one of {', '.join(INITS)}.")
    model = MODELS[name](num_classes, width)
    return lecun_init(model) if init == "lecun" else model
