"""The network registry: shapes, lookup, bad names, and the initialisations."""

import math

import pytest
import torch
import torch.nn as nn

from analysis.models import MODELS, build_model, multiply_adds, whiten_stem


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_maps_images_to_logits(name):
    model = build_model(name, 7, width=8).eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)


def test_fast_network_has_the_airbench94_shape():
    model = build_model("airbench", 10, width=16)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs[:2]] == [
        (3, 24, (2, 2), (0, 0)), (24, 16, (3, 3), (1, 1))]
    assert [c.out_channels for c in convs[1:]] == [16, 16, 64, 64, 64, 64]
    assert model.fc.bias is None and model.fc.in_features == 64
    x = torch.randn(3, 3, 32, 32)
    assert torch.allclose(model(x), model.fc(model.features(x)) / 9)


def test_unknown_names_say_what_to_choose():
    with pytest.raises(ValueError, match="choose one of"):
        build_model("resnet19", 10)
    with pytest.raises(ValueError, match="lecun"):
        build_model("resnet18", 10, init="xavier")


def test_lecun_init_is_flax_default_and_torch_init_is_pytorch_default():
    torch.manual_seed(0)
    lecun = build_model("resnet18", 10, width=16, init="lecun")
    torch.manual_seed(0)
    default = build_model("resnet18", 10, width=16, init="torch")
    conv = lecun.stages[-1].conv1.weight  # 128 x 128 x 3 x 3 weights
    fan_in = conv[0].numel()
    assert conv.std().item() == pytest.approx(1 / math.sqrt(fan_in), rel=0.02)  # variance 1/fan_in
    assert conv.abs().max().item() <= 2 / math.sqrt(fan_in) / 0.8796 * 1.0001  # truncated at two of its sigmas
    assert torch.count_nonzero(lecun.fc.bias) == 0
    # PyTorch's default: uniform(+-1/sqrt(fan_in)), variance 1/(3 fan_in), and a non-zero bias
    assert default.stages[-1].conv1.weight.std().item() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.02)
    assert torch.count_nonzero(default.fc.bias) > 0


def test_airbench_init_passes_channels_through_and_freezes_scales_and_stem():
    model = build_model("airbench", 10, width=16, init="airbench")
    conv = model.features[2]  # 24 -> 16 channels: its 16 filters are the identity on the first 16 input channels
    x = torch.randn(2, 24, 8, 8)
    assert torch.equal(conv(x), x[:, :16])
    wide = model.features[9]  # 16 -> 64: the first 16 filters pass the input through, the others are random
    y = wide(x[:, :16])
    assert torch.equal(y[:, :16], x[:, :16]) and y[:, 16:].abs().sum() > 0
    scales = [m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert scales and not any(s.requires_grad for s in scales)
    assert not model.stem.weight.requires_grad and model.stem.bias.requires_grad
    with pytest.raises(ValueError, match="use 'lecun'"):
        build_model("resnet18", 10, init="airbench")


def test_whitened_stem_decorrelates_the_patches_it_was_fit_on():
    """The first 12 channels' responses to the 2x2 patches have covariance eigenvalue / (eigenvalue + eps): the
    identity where the data's variance dwarfs eps; the other 12 are their negatives."""
    torch.manual_seed(0)
    mixing = torch.randn(3, 3) + 2 * torch.eye(3)  # correlated colour channels
    images = torch.einsum("ij,njhw->nihw", mixing, torch.randn(200, 3, 16, 16))
    model = build_model("airbench", 10, width=8, init="airbench")
    whiten_stem(model, images)
    w = model.stem.weight.double()
    responses = torch.nn.functional.conv2d(images.double(), w).permute(0, 2, 3, 1).reshape(-1, 24)
    cov = responses[:, :12].T @ responses[:, :12] / len(responses)
    assert torch.allclose(cov, torch.eye(12, dtype=torch.float64), atol=5e-3)
    assert torch.equal(w[12:], -w[:12])


def test_multiply_adds_counts_convolutions_and_linear_layers_per_image():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1, groups=2),
                        nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
    assert multiply_adds(net) == 32 * 32 * 4 * 3 * 9 + 16 * 16 * 8 * 2 * 9 + 8 * 16 * 16 * 10
    assert net.training
    # convolutions dominate and scale with width squared
    wide, narrow = (multiply_adds(build_model("resnet18", 10, w)) for w in (16, 8))
    assert wide / narrow == pytest.approx(4, rel=0.02)
