"""The empirical neural tangent kernel and its velocity over training (Fort et al., 2020).

The kernel is built from exact per-example gradients computed layer by layer from each layer's
input and output gradient (as for GraNd in `analysis.scores`), never by a per-example backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from analysis.scores import layer_inputs_and_grads, trainable_layers


def _sum_logits(logits: Tensor, _labels: object) -> Tensor:
    return logits.float().sum()


def _num_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters(recurse=False) if p.requires_grad)


def _layer_grads(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Per-example gradients (B, params) of one layer's trainable parameters from its input `a` and output grad `g`."""
    b = a.shape[0]
    parts = []
    if isinstance(module, nn.Linear):
        if module.weight.requires_grad:  # grad_i = g_i a_i^T (summed over any middle dimensions)
            parts.append(torch.einsum("b...o,b...i->boi", g, a).reshape(b, -1))
        if module.bias is not None and module.bias.requires_grad:
            parts.append(g.reshape(b, -1, g.shape[-1]).sum(1))
    elif isinstance(module, nn.BatchNorm2d):  # eval mode: an affine map of the running-normalised input
        x_hat = (a - module.running_mean[:, None, None]) * torch.rsqrt(module.running_var[:, None, None] + module.eps)
        if module.weight is not None and module.weight.requires_grad:
            parts.append((g * x_hat).sum((2, 3)))
        if module.bias is not None and module.bias.requires_grad:
            parts.append(g.sum((2, 3)))
    else:  # Conv2d: grad_i = G_i U_i^T with U_i the unfolded input (in*k*k, L) and G_i (out, L)
        gm = g.flatten(2)
        if module.weight.requires_grad:
            u = F.unfold(a, module.kernel_size, module.dilation, module.padding, module.stride)
            parts.append(torch.bmm(gm, u.transpose(1, 2)).reshape(b, -1))
        if module.bias is not None and module.bias.requires_grad:
            parts.append(gm.sum(2))
    return torch.cat(parts, dim=1)


def _groups(layers: list[nn.Module]) -> list[list[nn.Module]]:
    """Consecutive layers packed so that no group holds more parameters than the largest single layer."""
    budget = max(_num_params(layer) for layer in layers)
    groups: list[list[nn.Module]] = [[]]
    size = 0
    for layer in layers:
        n = _num_params(layer)
        if groups[-1] and size + n > budget:
            groups.append([])
            size = 0
        groups[-1].append(layer)
        size += n
    return groups


def _add_gram(k: Tensor, p: Tensor, block: int) -> None:
    """k += p @ p^T in float64, converting only `block` rows of the float32 p (N, D) at a time."""
    for i in range(0, len(p), block):
        pi = p[i : i + block].double()
        for j in range(0, len(p), block):
            k[i : i + block, j : j + block] += pi @ p[j : j + block].double().T


def ntk_gram(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """Empirical NTK Gram matrix (N, N), float64 on the CPU, over all trainable parameters, in eval mode.

    K_ij = <d F(x_i)/d theta, d F(x_j)/d theta> with F(x) the sum of the logits of f(x): one scalar,
    hence one gradient, per example, so the kernel is an N x N matrix rather than (N*C) x (N*C).
    Layers are processed in groups of at most the largest layer's parameter count; for each group
    the per-example gradients P (N, group params) of all N examples are gathered batch by batch (one
    forward and one partial backward per batch and group) and K += P P^T. Peak memory is thus about
    N x (largest layer's parameter count) float32 values, plus one batch's activations. `images` are
    float (N, C, H, W), normalised as the model expects; the model's mode is restored.
    """
    layers = trainable_layers(model)
    device = next(model.parameters()).device
    n = len(images)
    k = torch.zeros(n, n, dtype=torch.float64, device=device)
    was_training = model.training
    model.eval()
    try:
        for group in _groups(layers):
            offsets, total = {}, 0
            for layer in group:
                offsets[layer] = total
                total += _num_params(layer)
            p = torch.empty(n, total, device=device)
            for i in range(0, n, batch_size):
                x = images[i : i + batch_size].to(device)
                captured = layer_inputs_and_grads(model, group, x, None, _sum_logits)
                with torch.no_grad():
                    for module, a, g in captured:
                        start = offsets[module]
                        p[i : i + len(x), start : start + _num_params(module)] = _layer_grads(module, a, g)
            _add_gram(k, p, batch_size)
            del p
    finally:
        model.train(was_training)
    return k.cpu()


def kernel_distance(k_0: Tensor, k_t: Tensor) -> float:
    """1 - cosine similarity of the flattened kernels: 0 for kernels equal up to a positive scale."""
    a, b = k_0.double().flatten(), k_t.double().flatten()
    return 1.0 - (a @ b / (a.norm() * b.norm())).item()


def kernel_velocity(k_t: Tensor, k_next: Tensor, dt: float = 1.0) -> float:
    """Kernel velocity: the kernel distance between consecutive kernels per unit of time `dt`."""
    return kernel_distance(k_t, k_next) / dt
