"""Empirical NTK Gram matrix and kernel velocity."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from analysis.models import build_model
from analysis.representation import kernel_distance, kernel_velocity, ntk_gram


@pytest.mark.parametrize("bias", [False, True])
def test_ntk_of_a_linear_model(bias: bool):
    torch.manual_seed(0)
    x = torch.randn(10, 2, 3, 3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(18, 1, bias=bias))  # one logit: the trace is the kernel itself
    flat = x.flatten(1).double()
    expected = flat @ flat.T + (1.0 if bias else 0.0)
    k = ntk_gram(model, x, batch_size=4)
    assert k.dtype == torch.float64 and k.shape == (10, 10)
    torch.testing.assert_close(k, expected, rtol=1e-5, atol=1e-8)


def _naive_ntk(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The trace over logits of the full empirical NTK, from the per-logit Jacobian of one example at a time."""
    params = [p for p in model.parameters() if p.requires_grad]
    jacobians = []  # (C, parameters) per example
    for xi in x:
        logits = model(xi[None])[0]
        rows = [torch.cat([g.flatten() for g in torch.autograd.grad(logits[c], params, retain_graph=True)])
                for c in range(len(logits))]
        jacobians.append(torch.stack(rows).double())
    full = torch.einsum("icp,jdp->icjd", torch.stack(jacobians), torch.stack(jacobians))  # (N, C, N, C)
    return torch.einsum("icjc->ij", full)


def test_ntk_is_the_trace_over_logits_not_the_summed_logit_kernel():
    torch.manual_seed(0)
    x = torch.randn(5, 4)
    model = nn.Linear(4, 3, bias=False)  # f_c(x) = w_c . x: each logit's gradient is x in its own block
    k = ntk_gram(model, x, batch_size=2)
    torch.testing.assert_close(k, 3 * (x.double() @ x.double().T), rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(k, _naive_ntk(model, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,init,size", [("resnet18", "lecun", 8), ("airbench", "airbench", 16)])
def test_ntk_of_a_network_matches_per_example_autograd(name: str, init: str, size: int, randomise_bn):
    """Over the trainable parameters: airbench94's initialisation (the laptop profile's) fixes the stem and the
    BatchNorm scales."""
    torch.manual_seed(0)
    model = randomise_bn(build_model(name, 3, width=4, init=init))
    model.train()  # ntk_gram must evaluate in eval mode and then restore train mode
    x = torch.randn(6, 3, size, size)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    k = ntk_gram(model, x, batch_size=4)
    assert model.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    expected = _naive_ntk(model.eval(), x)
    assert ((k - expected).abs().max() / expected.abs().max()).item() < 1e-4
    torch.testing.assert_close(k, k.T)


def test_kernel_velocity():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(5, 5, generator=gen, dtype=torch.float64)
    k, other = a @ a.T, torch.eye(5, dtype=torch.float64)
    assert kernel_velocity(k, k) == pytest.approx(0.0, abs=1e-12)
    assert kernel_velocity(k, 3 * k) == pytest.approx(0.0, abs=1e-12)
    v = kernel_velocity(k, other)
    assert v > 0
    assert kernel_velocity(k, other, dt=4.0) == pytest.approx(v / 4)
    assert kernel_distance(k, other) == pytest.approx(v)
