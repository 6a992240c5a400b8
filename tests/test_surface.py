"""Linear mode connectivity: interpolation, BatchNorm resetting and the error barrier."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from analysis.surface import error_barrier, interpolate, reset_bn_stats


@pytest.fixture
def bn_net(randomise_bn):
    """`bn_net(seed)`: a tiny conv net with BatchNorm whose statistics and affine parameters are random."""

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        net = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4, 3),
        )
        randomise_bn(net, seed)
        net[1].num_batches_tracked.fill_(seed + 7)
        return net.eval()

    return build


def _data(n: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, 6, 6, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_same_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name


def test_interpolate_endpoints_and_midpoint(bn_net):
    a, b = bn_net(0), bn_net(1)
    x, _ = _data()
    with torch.no_grad():
        assert torch.equal(interpolate(a, b, 0.0)(x), a(x))
        assert torch.equal(interpolate(a, b, 1.0)(x), b(x))
    mid = interpolate(a, b, 0.5).state_dict()
    sa, sb = a.state_dict(), b.state_dict()
    for name in ("0.weight", "1.running_mean", "1.running_var", "5.bias"):
        torch.testing.assert_close(mid[name], (sa[name] + sb[name]) / 2)
    assert mid["1.num_batches_tracked"].item() == 7


def test_reset_bn_stats_is_the_cumulative_average():
    net = nn.Sequential(nn.BatchNorm2d(3)).train()
    net[0].momentum = 0.3
    x = torch.randn(12, 3, 4, 4) * 2 + 1
    reset_bn_stats(net, x, batch_size=4)  # equal batches: the average of batch means is the mean
    torch.testing.assert_close(net[0].running_mean, x.mean((0, 2, 3)))
    assert not net.training and net[0].momentum == 0.3
    assert net[0].num_batches_tracked.item() == 3


@pytest.mark.parametrize("with_bn_images", [False, True])
def test_barrier_with_itself_is_zero_and_models_unchanged(with_bn_images: bool, bn_net):
    a, b = bn_net(0), bn_net(1).train()
    x, y = _data()
    bn_images = x if with_bn_images else None
    state_a, state_b = _state(a), _state(b)
    assert error_barrier(a, a, x, y, bn_images=bn_images)["barrier"] == 0.0
    out = error_barrier(a, b, x, y, n_points=5, bn_images=bn_images, batch_size=10)
    assert out["alphas"] == [0.0, 0.25, 0.5, 0.75, 1.0] and len(out["errors"]) == 5
    _assert_same_state(a, state_a)
    _assert_same_state(b, state_b)
    assert not a.training and b.training


def _two_unit_net(w: list[list[float]]) -> nn.Module:
    """x (N, 2) -> W relu(W x): two hidden units, no biases."""
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w))
        net[2].weight.copy_(torch.tensor(w))
    return net


def test_barrier_of_permuted_networks():
    # b is a with its two hidden units swapped: the same function. At alpha both weight matrices
    # are [[1-alpha, alpha], [alpha, 1-alpha]], so logit[y] - logit[1-y] = |x| (1 - 2 alpha)^2 on
    # x = |x| e_y: correct everywhere except at alpha = 1/2, where the logits tie and argmax says 0.
    a, b = _two_unit_net([[1, 0], [0, 1]]), _two_unit_net([[0, 1], [1, 0]])
    x = torch.tensor([[1.0, 0], [2, 0], [0, 1], [0, 3], [0, 0.5]])
    y = torch.tensor([0, 0, 1, 1, 1])
    out = error_barrier(a, b, x, y, n_points=11)
    assert out["errors"][0] == out["errors"][-1] == 0.0
    assert out["errors"][5] == pytest.approx(3 / 5)
    assert sum(out["errors"]) == pytest.approx(3 / 5)
    assert out["barrier"] == pytest.approx(3 / 5)


def _threshold_net(t: float) -> nn.Module:
    """x (N, 1) -> logits (0, x + t): class 1 iff x > -t."""
    net = nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0], [1.0]]))
        net.bias.copy_(torch.tensor([0.0, t]))
    return net


def test_barrier_is_nonnegative_when_the_midpoint_is_best():
    # Thresholds t = 2 - 4 alpha: a calls everything class 1 (error 1/4), b everything class 0
    # (error 3/4), the midpoint (t = 0) is perfect. The max includes the endpoints, so
    # barrier = max(1/4, 3/4) - (1/4 + 3/4) / 2 = 1/4 >= 0.
    a, b = _threshold_net(2.0), _threshold_net(-2.0)
    x = torch.tensor([[-1.0], [1.0], [0.5], [1.5]])
    y = torch.tensor([0, 1, 1, 1])
    out = error_barrier(a, b, x, y, n_points=11)
    assert out["errors"][0] == pytest.approx(1 / 4) and out["errors"][-1] == pytest.approx(3 / 4)
    assert out["errors"][5] == 0.0
    assert out["barrier"] == pytest.approx(1 / 4)
