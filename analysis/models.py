"""The networks for 32x32 images, looked up by name: `build_model("resnet18", 10, width=16)`.

ResNets are the paper's low-resolution variants (3x3 stride-1 stem, no max-pool); `airbench` is
the shape of Keller Jordan's airbench94, a network built to train fast on CIFAR-10. `width` is the
number of channels of the first stage (64 in the paper's ResNets and in airbench94); every later
stage scales with it.

Initialisation (`init`): "lecun" is the authors' Flax default (truncated-normal weights of variance
1/fan_in, zero biases; BatchNorm scale 1, shift 0); "torch" keeps PyTorch's defaults (weights and
biases uniform in +-1/sqrt(fan_in)), which make the logits at initialisation several times smaller;
"airbench" (the airbench network only) is airbench94's data-dependent initialisation, for training in
few epochs: LeCun-normal, then each 3x3 convolution's first filters the identity (`dirac_`), every
BatchNorm's scale fixed at 1 (only its shift trains), and the stem fixed to whiten 2x2 patches of the
training images (`whiten_stem`, which the trainer calls with the run's own images).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn as nn
from torch import Tensor

INITS = ("lecun", "torch", "airbench")


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

    With `init="lecun"` or `"torch"` the stem trains from a random initialisation and every BatchNorm learns
    its scale; `init="airbench"` gives airbench94's initialisation (`airbench_init`).
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

    @property
    def stem(self) -> nn.Conv2d:
        return self.features[0]

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


@torch.no_grad()
def airbench_init(model: Airbench) -> Airbench:
    """airbench94's initialisation, in place, after `lecun_init`: each 3x3 convolution's first `in_channels` filters
    pass their input channel through unchanged (an implicit residual), every BatchNorm's scale is fixed at 1 (it
    no longer trains), and the stem's weights no longer train (`whiten_stem` sets them from data)."""
    lecun_init(model)
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3):
            nn.init.dirac_(module.weight[: module.in_channels])
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.requires_grad_(False)
    model.stem.weight.requires_grad_(False)
    return model


@torch.no_grad()
def whiten_stem(model: Airbench, images: Tensor, eps: float = 5e-4) -> None:
    """Set the stem of an `init="airbench"` network to whiten its 2x2 input patches, in place.

    `images` (N, 3, H, W) are normalised training images. The 12 eigenvectors of the patches' covariance, each
    divided by the square root of its eigenvalue plus `eps`, and their negatives make the 24 filters, so the
    first 12 channels' responses to the patches have (nearly) unit covariance. Computed in float64.
    """
    stem = model.stem
    c, k = stem.in_channels, stem.kernel_size[0]
    patches = images.double().unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, c * k * k)
    eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    filters = (eigenvectors / torch.sqrt(eigenvalues + eps)).T.flip(0).reshape(-1, c, k, k)
    stem.weight.copy_(torch.cat([filters, -filters]).to(stem.weight))


def multiply_adds(model: nn.Module, size: int = 32) -> int:
    """Multiply-adds of one `size` x `size` image's forward pass through `model`'s convolutions and linear layers
    (what a training step's time scales with on a CPU)."""
    total = 0

    def count(module: nn.Module, _, out: Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            total += out[0].numel() * module.in_channels // module.groups * math.prod(module.kernel_size)
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, size, size))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return total


def build_model(name: str, num_classes: int, width: int = 64, init: str = "lecun") -> nn.Module:
    """A freshly initialised network from the registry (`MODELS`), initialised by `init` (see `INITS`)."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}: choose one of {sorted(MODELS)}.")
    if init not in INITS:
        raise ValueError(f"Unknown initialisation {init!r}: choose one of {', '.join(INITS)}.")
    if init == "airbench" and name != "airbench":
        raise ValueError(f"init='airbench' is the airbench network's own initialisation, not {name!r}'s: use 'lecun'.")
    model = MODELS[name](num_classes, width)
    return {"lecun": lecun_init, "airbench": airbench_init}.get(init, lambda m: m)(model)
