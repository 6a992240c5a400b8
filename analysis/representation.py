"""The empirical neural tangent kernel and its velocity over training (Fort et al., 2020).

The kernel is built from exact per-example gradients computed layer by layer from each layer's
input and output gradient (as for GraNd in `analysis.scores`), never by a per-example backward.
`ntk_study` is the paper's Sec. 6 experiment: how fast the kernel of each EL2N group moves.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from analysis import prune
from analysis.profiles import Profile
from analysis.score_runs import compute_scores, score_run_config
from analysis.scores import layer_inputs_and_grads, trainable_layers
from analysis.store import Result, RunStore, array_digest, config_key
from analysis.train import load_checkpoint, resolve_device


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
    return max(0.0, 1.0 - (a @ b / (a.norm() * b.norm())).item())  # no -1e-16 from rounding


def kernel_velocity(k_t: Tensor, k_next: Tensor, dt: float = 1.0) -> float:
    """Kernel velocity: the kernel distance between consecutive kernels per unit of time `dt`."""
    return kernel_distance(k_t, k_next) / dt


def ntk_groups(profile: Profile, scores: Tensor) -> list[Tensor]:
    """`ntk_per_group` sorted training indices from each of `ntk_groups` equal-count groups of the
    ascending score ranking (group 0: lowest scores), drawn with seed 0."""
    ascending = prune.hardest_first(scores).flip(0)
    picks = []
    for members in torch.tensor_split(ascending, profile.ntk_groups):
        chosen = prune.random_subset(len(members), min(profile.ntk_per_group, len(members)), seed=0)
        picks.append(members[chosen].sort().values)
    return picks


def ntk_study(profile: Profile) -> pd.DataFrame:
    """Kernel velocity and distance from the first kernel, per EL2N group, over the seed-0 score run.

    Groups: `ntk_groups` of the EL2N seed mean at the score epoch. At each epoch of `ntk_epochs`
    the run's checkpoint gives each group's NTK Gram matrix (cached in the store). Rows: epoch,
    group, velocity (kernel distance to the previous epoch's kernel per epoch; NaN at the first),
    distance_from_start (kernel distance from the first epoch's kernel).
    """
    run = score_run_config(profile, 0)
    groups = ntk_groups(profile, compute_scores(profile, "el2n", profile.score_epoch)[0])
    store, device = RunStore(profile.name), resolve_device()
    data, _ = run.data.load(device)
    train = config_key("train", run.key_dict())

    @lru_cache(maxsize=1)
    def network(step: int) -> nn.Module:
        return load_checkpoint(run, step, store, device=str(device))

    def gram(step: int, idx: Tensor) -> Tensor:
        def compute() -> Result:
            images = data.normalize(data.train_images[idx.to(device)])
            return Result({"step": step}, {"gram": ntk_gram(network(step), images).numpy()})

        key = {"train": train, "step": step, "examples": array_digest(idx)}
        return torch.as_tensor(store.get_or_compute("ntk", key, compute, device=str(device)).arrays["gram"])

    kernels = {e: [gram(profile.step(e), idx) for idx in groups] for e in sorted(profile.ntk_epochs)}
    epochs = list(kernels)
    rows = []
    for i, epoch in enumerate(epochs):
        for g in range(len(groups)):
            k = kernels[epoch][g]
            velocity = kernel_velocity(kernels[epochs[i - 1]][g], k, epoch - epochs[i - 1]) if i else float("nan")
            rows.append({"epoch": epoch, "group": g, "velocity": velocity,
                         "distance_from_start": kernel_distance(kernels[epochs[0]][g], k)})
    return pd.DataFrame(rows)
