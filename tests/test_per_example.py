"""Layer-wise per-example gradients and norms against per-example autograd, for every rule and computation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from analysis import per_example
from analysis.models import build_model
from analysis.per_example import (
    layer_grads,
    norm_method,
    per_example_grad_sq_norms,
    trainable_layers,
    visit_layer_grads,
)

LAYERS = {
    "conv3x3": lambda: nn.Conv2d(3, 5, 3, padding=1),
    "conv3x3_stride2_nobias": lambda: nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False),
    "conv_rect_dilated": lambda: nn.Conv2d(3, 4, (3, 2), padding=(2, 1), dilation=2),
    "conv2x2_unpadded": lambda: nn.Conv2d(3, 4, 2),
    "conv1x1": lambda: nn.Conv2d(3, 6, 1),
    "conv1x1_stride2": lambda: nn.Conv2d(3, 6, 1, stride=2, bias=False),
    "linear_over_positions": lambda: nn.Sequential(nn.Flatten(2), Transpose(), nn.Linear(3, 4)),
    "batchnorm": lambda: nn.BatchNorm2d(3),
}


class Transpose(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


def _weighted_sum(out: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (out * weights[: len(out)]).sum()


def _naive(model: nn.Module, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(len(x)):
        grads = torch.autograd.grad(_weighted_sum(model(x[i : i + 1]), weights[i : i + 1]), params)
        rows.append(torch.cat([g.flatten() for g in grads]))
    return torch.stack(rows)


@pytest.mark.parametrize("method", ["materialise", "ghost"])
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_every_rule_and_computation_matches_per_example_autograd(kind, method, monkeypatch, randomise_bn):
    monkeypatch.setattr(per_example, "norm_method", lambda *_: method)
    monkeypatch.setattr(per_example, "_CHUNK_FLOATS", 1000)  # several chunks of examples
    torch.manual_seed(0)
    model = randomise_bn(LAYERS[kind]()).eval().to(memory_format=torch.channels_last)
    x = torch.randn(5, 3, 7, 6).contiguous(memory_format=torch.channels_last)
    weights = torch.randn_like(model(x))
    expected = _naive(model, x, weights)
    layers = trainable_layers(model)
    sq = per_example_grad_sq_norms(model, layers, x, weights, _weighted_sum)
    torch.testing.assert_close(sq, expected.pow(2).sum(1), rtol=1e-5, atol=1e-6)
    grads = []
    visit_layer_grads(model, layers, x, weights, _weighted_sum, lambda m, a, g: grads.append(layer_grads(m, a, g)))
    torch.testing.assert_close(torch.cat(grads, 1), expected, rtol=1e-5, atol=1e-6)
    assert all(p.grad is None for p in model.parameters())


def test_the_cost_model_materialises_early_layers_and_ghosts_late_ones():
    model = build_model("resnet18", 10, 16)
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((m, i[0].shape, o.shape)))
             for m in trainable_layers(model) if isinstance(m, nn.Conv2d)]
    model(torch.randn(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    methods = [norm_method(*s) for s in shapes]
    assert methods[:11] == ["materialise"] * 11  # 32x32 and 16x16 resolution
    assert methods[-5:] == ["ghost"] * 5  # 4x4 resolution


def test_a_layer_used_twice_or_not_at_all_is_refused():
    layer = nn.Linear(3, 3)
    x, y = torch.randn(4, 3), torch.zeros(4)
    with pytest.raises(NotImplementedError, match="more or less than once"):
        visit_layer_grads(nn.Sequential(layer, layer), [layer], x, y, lambda out, _: out.sum(), print)
    unused = nn.Linear(3, 1)
    model = nn.Sequential(nn.Linear(3, 3))
    model.add_module("unused", unused)
    model.forward = lambda inp: unused(inp).detach() + model[0](inp).sum(1, keepdim=True)
    with pytest.raises(NotImplementedError, match="does not affect the loss"):
        visit_layer_grads(model, trainable_layers(model), x, y, lambda out, _: out.sum(), lambda *_: None)
    assert not layer._forward_hooks and not unused._forward_hooks


def test_layers_followed_by_in_place_activations():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3),
                          nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(16, 3)).eval()
    model[1].running_mean.uniform_(-1, 1)  # so that the in-place ReLU zeroes some of BatchNorm's outputs
    x = torch.randn(5, 3, 6, 6)
    weights = torch.randn(5, 3)
    sq = per_example_grad_sq_norms(model, trainable_layers(model), x, weights, _weighted_sum)
    torch.testing.assert_close(sq, _naive(model, x, weights).pow(2).sum(1), rtol=1e-5, atol=1e-6)


def test_batchnorm_in_training_mode_is_refused():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    with pytest.raises(ValueError, match=r"model.eval\(\)"):
        per_example_grad_sq_norms(model, trainable_layers(model), torch.randn(2, 3, 5, 5), None, lambda o, _: o.sum())


def test_layer_inputs_and_grads_are_each_layers_input_and_output_gradient():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(36, 2)).eval()
    x = torch.randn(3, 3, 5, 5)
    outputs = []
    hooks = [model[k].register_forward_hook(lambda m, i, o: outputs.append((m, i[0], o))) for k in (0, 1, 4)]
    loss = model(x).sum()
    for h in hooks:
        h.remove()
    expected = dict(zip([m for m, _, _ in outputs], torch.autograd.grad(loss, [o for _, _, o in outputs])))
    inputs = {m: a for m, a, _ in outputs}
    captured = per_example.layer_inputs_and_grads(model, trainable_layers(model), x, None, lambda out, _: out.sum())
    assert [m for m, _, _ in captured] == [model[4], model[1], model[0]]  # backward order
    for m, a, g in captured:
        torch.testing.assert_close(a, inputs[m].detach())
        torch.testing.assert_close(g, expected[m])


def _logsumexp_sum(out: torch.Tensor, _) -> torch.Tensor:
    return out.logsumexp(1).sum()


@pytest.mark.parametrize("channels", [3, 8, 13])
@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.contiguous_format])
def test_gradients_through_batchnorm_are_bitwise_pytorchs(channels, memory_format, randomise_bn):
    """The BatchNorm tap replaces the layer's backward, so stored scores stay bitwise reproducible only if the
    gradient it passes on is bitwise the native one, frozen scale included."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.GELU(),
                          nn.Conv2d(channels, 2, 3), nn.Flatten(), nn.Linear(2 * 36, 3))
    model = randomise_bn(model, seed=channels).eval().to(memory_format=memory_format)
    model[1].weight.requires_grad_(channels != 8)  # airbench's BatchNorms train their shift only
    x = torch.randn(6, 3, 8, 8).contiguous(memory_format=memory_format)
    outputs = []
    hook = model[0].register_forward_hook(lambda m, i, o: outputs.append(o))
    expected = torch.autograd.grad(_logsumexp_sum(model(x), None), outputs)[0]
    hook.remove()
    captured = per_example.layer_inputs_and_grads(model, trainable_layers(model), x, None, _logsumexp_sum)
    assert captured[-1][0] is model[0]
    assert torch.equal(captured[-1][2], expected)
