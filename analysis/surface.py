"""Linear mode connectivity: the error barrier along the straight line between two networks.

Following Frankle et al. (2020), two networks are linearly connected when the error of their
weight interpolations never rises much above the error of the endpoints. Images are float
(N, C, H, W), normalised as the networks expect; labels are int64 (N,). The paper's Sec. 6
experiment (children spawned from one parent run and trained on EL2N groups) is the lmc page,
`analysis.chapters.lmc`.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from analysis.train import count_correct


def interpolate(model_a: nn.Module, model_b: nn.Module, alpha: float) -> nn.Module:
    """A new network (a copy of `model_a`) with every float parameter and buffer set to (1-alpha)*a + alpha*b.

    BatchNorm running statistics are interpolated like the weights; integer buffers
    (`num_batches_tracked`) are copied from `model_a`.
    """
    model = copy.deepcopy(model_a)
    state_b = model_b.state_dict()
    mixed = {
        name: (1 - alpha) * value + alpha * state_b[name].to(value.device) if value.is_floating_point() else value
        for name, value in model_a.state_dict().items()
    }
    model.load_state_dict(mixed)
    return model


@torch.no_grad()
def reset_bn_stats(model: nn.Module, images: Tensor, batch_size: int = 500) -> None:
    """Recompute every BatchNorm's running statistics on `images`, then leave `model` in eval mode.

    The statistics are the cumulative average (momentum=None) of the per-batch mean and unbiased
    variance over `images`, in train mode; each layer's momentum is restored afterwards. A network
    without BatchNorm is left untouched.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    device = next(model.parameters()).device
    model.train()
    try:
        for i in range(0, len(images), batch_size):
            model(images[i : i + batch_size].to(device))
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.eval()


def _error(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int) -> float:
    """Top-1 error of `model` in eval mode (the caller owns `model`: its mode is not restored)."""
    return (len(labels) - count_correct(model, images, labels, batch_size)) / max(len(labels), 1)


def error_barrier(
    model_a: nn.Module,
    model_b: nn.Module,
    images: Tensor,
    labels: Tensor,
    n_points: int = 11,
    bn_images: Tensor | None = None,
    batch_size: int = 1000,
) -> dict:
    """Error of the interpolations at alphas = linspace(0, 1, n_points), and the error barrier.

    barrier = max_alpha err(alpha) - (err(0) + err(1)) / 2. The maximum runs over the endpoints
    too, so the barrier is never negative. With `bn_images`, each interpolated network (endpoints
    included) has its BatchNorm statistics recomputed on them before it is evaluated. `model_a`
    and `model_b` are left unchanged. Returns {"alphas": list, "errors": list, "barrier": float}.
    """
    alphas = torch.linspace(0, 1, n_points, dtype=torch.float64).tolist()
    errors = []
    for alpha in alphas:
        model = interpolate(model_a, model_b, alpha)
        if bn_images is not None:
            reset_bn_stats(model, bn_images)
        errors.append(_error(model, images, labels, batch_size))
    barrier = max(errors) - (errors[0] + errors[-1]) / 2
    return {"alphas": alphas, "errors": errors, "barrier": barrier}
