"""The empirical neural tangent kernel and its velocity over training (Fort et al., 2020).

The kernel is built from exact per-example gradients computed layer by layer from each layer's
input and output gradient by the same rules as GraNd (`analysis.per_example`), never by a
per-example backward. The paper's Sec. 6 experiment (how fast the kernel of each EL2N group moves) is the
ntk page, `analysis.chapters.ntk`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from analysis.per_example import layer_grads, trainable_layers, visit_layer_grads


def _logit(c: int) -> Callable[[Tensor, object], Tensor]:
    """The loss whose per-example gradients are those of logit `c`: the sum over examples of that logit."""
    def summed(logits: Tensor, _labels: object) -> Tensor:
        return logits[:, c].float().sum()
    return summed


def _num_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters(recurse=False) if p.requires_grad)


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


def _group_grads(model: nn.Module, group: list[nn.Module], images: Tensor, batch_size: int, c: int) -> Tensor:
    """Per-example gradients (N, parameters of `group`) of logit `c`, layer after layer."""
    offsets, total = {}, 0
    for layer in group:
        offsets[layer] = total
        total += _num_params(layer)
    device = next(model.parameters()).device
    p = torch.empty(len(images), total, device=device)
    for i in range(0, len(images), batch_size):
        rows = p[i : i + batch_size]

        def store(module: nn.Module, a: Tensor, g: Tensor, rows: Tensor = rows) -> None:
            rows[:, offsets[module] : offsets[module] + _num_params(module)] = layer_grads(module, a, g)

        visit_layer_grads(model, group, images[i : i + batch_size].to(device), None, _logit(c), store)
    return p


def ntk_gram(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """Empirical NTK Gram matrix (N, N), float64 on the CPU, over all trainable parameters, in eval mode.

    K_ij = sum over classes c of <d f_c(x_i)/d theta, d f_c(x_j)/d theta>: the trace over logits of the
    full (N*C) x (N*C) empirical NTK, the kernel whose distance Fort et al. (2020) track. (The gradient of
    the summed logits would see only the all-ones direction of the logits, which softmax cross-entropy
    ignores.) For each class, layers are processed in groups of at most the largest layer's parameter
    count; the per-example gradients P (N, group params) of all N examples are gathered batch by batch
    (one forward and one partial backward per batch, group and class) and K += P P^T. Peak memory is
    about N x (largest layer's parameter count) float32 values, plus one batch's activations. `images`
    are float (N, C, H, W), normalised as the model expects; the model's mode is restored.
    """
    layers = trainable_layers(model)
    device = next(model.parameters()).device
    n = len(images)
    k = torch.zeros(n, n, dtype=torch.float64, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            classes = model(images[:1].to(device)).shape[1]
        for c in range(classes):
            for group in _groups(layers):
                _add_gram(k, _group_grads(model, group, images, batch_size, c), batch_size)
    finally:
        model.train(was_training)
    return k.cpu()


def kernel_distance(k_0: Tensor, k_t: Tensor) -> float:
    """1 - cosine similarity of the flattened kernels: 0 for kernels equal up to a positive scale."""
    a, b = k_0.double().flatten(), k_t.double().flatten()
    return max(0.0, 1.0 - (a @ b / (a.norm() * b.norm())).item())  # no -1e-16 from rounding


def kernel_velocity(k_t: Tensor, k_next: Tensor, dt: float = 1.0) -> float:
    """Kernel velocity: the kernel distance between consecutive kernels per unit of time `dt`."""
    return kernel_distance(k_t, k_next) / dt
