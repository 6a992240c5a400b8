"""Per-example scores: EL2N, exact GraNd, the loss, input norm, and forgetting.

Each score function takes `images` (float (N, C, H, W), normalised as the model expects) and
`labels` (int64 (N,)) and returns a float tensor (N,) on the CPU. Models are evaluated in eval
mode (BatchNorm uses its running statistics, as in the authors' code) and are left in the mode
and with the weights they came with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

_SUPPORTED = (nn.Conv2d, nn.Linear, nn.BatchNorm2d)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batches(images: Tensor, labels: Tensor, batch_size: int, device: torch.device):
    for i in range(0, len(labels), batch_size):
        yield images[i : i + batch_size].to(device), labels[i : i + batch_size].to(device)


@torch.no_grad()
def el2n(model: nn.Module, images: Tensor, labels: Tensor, squared: bool = False, batch_size: int = 256) -> Tensor:
    """EL2N: ||softmax(f(x)) - onehot(y)||_2 per example (squared only if asked: it changes averaged ranks)."""
    device = _device(model)
    out = []
    with _eval_mode(model):
        for x, y in _batches(images, labels, batch_size, device):
            probs = model(x).float().softmax(dim=1)
            err = probs - F.one_hot(y, probs.shape[1]).float()
            sq = err.pow(2).sum(dim=1)
            out.append((sq if squared else sq.sqrt()).cpu())
    return torch.cat(out)


@torch.no_grad()
def loss(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 256) -> Tensor:
    """Per-example cross-entropy of `labels` under `model` (nats)."""
    device = _device(model)
    out = []
    with _eval_mode(model):
        for x, y in _batches(images, labels, batch_size, device):
            out.append(F.cross_entropy(model(x).float(), y, reduction="none").cpu())
    return torch.cat(out)


def input_norm(images: Tensor) -> Tensor:
    """L2 norm of each (normalised) input: the control for GraNd at initialisation (Kirsch, 2023)."""
    return images.flatten(1).float().norm(dim=1).cpu()


def grand(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 128) -> Tensor:
    """GraNd: the exact L2 norm of each example's cross-entropy gradient w.r.t. all trainable parameters.

    Computed layer by layer from each layer's input and output gradient ("ghost norms"), without
    a per-example backward pass: one forward and one input-gradient backward per batch.
    """
    layers = trainable_layers(model)
    device = _device(model)
    out = []
    with _eval_mode(model):
        for x, y in _batches(images, labels, batch_size, device):
            out.append(per_example_grad_sq_norms(model, layers, x, y, _ce_sum).sqrt().cpu())
    return torch.cat(out)


def _ce_sum(logits: Tensor, labels: Tensor) -> Tensor:
    return F.cross_entropy(logits.float(), labels, reduction="sum")


def trainable_layers(model: nn.Module) -> list[nn.Module]:
    """The layers holding trainable parameters; raise if any of them has no per-example rule."""
    layers = []
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if not own:
            continue
        if not isinstance(module, _SUPPORTED) or (isinstance(module, nn.Conv2d) and module.groups != 1):
            raise NotImplementedError(f"per-example gradient norms do not support layer {name!r} ({module})")
        layers.append(module)
    return layers


def layer_inputs_and_grads(
    model: nn.Module, layers: list[nn.Module], x: Tensor, y: Tensor, loss_fn
) -> list[tuple[nn.Module, Tensor, Tensor]]:
    """(layer, input, output gradient) of every layer in `layers` for `loss_fn(model(x), y)`.

    `loss_fn` must be a sum over examples, so that each example's rows of the output gradient are
    that example's own. Only input gradients are computed: no parameter `.grad` is touched.
    """
    captured: list[tuple[nn.Module, Tensor, Tensor]] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        captured.append((module, inputs[0].detach(), output))

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        with torch.enable_grad():
            loss = loss_fn(model(x), y)
            grads = torch.autograd.grad(loss, [o for _, _, o in captured])
    finally:
        for h in handles:
            h.remove()
    if len(captured) != len(layers):
        raise NotImplementedError("a layer with parameters ran more or less than once per forward pass")
    return [(module, a.float(), g.float()) for (module, a, _), g in zip(captured, grads)]


def per_example_grad_sq_norms(model: nn.Module, layers: list[nn.Module], x: Tensor, y: Tensor, loss_fn) -> Tensor:
    """Squared norms (B,) of the per-example gradients of `loss_fn(model(x), y)` (a sum over examples)."""
    total = torch.zeros(len(x), device=x.device)
    with torch.no_grad():
        for module, a, g in layer_inputs_and_grads(model, layers, x, y, loss_fn):
            total += _layer_sq_norms(module, a, g)
    return total


def _layer_sq_norms(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Per-example squared gradient norm of one layer's parameters from its input `a` and output grad `g`."""
    b = a.shape[0]
    sq = torch.zeros(b, device=a.device)
    if isinstance(module, nn.Linear):
        if module.weight.requires_grad:  # grad_i = g_i a_i^T, whose norm factorises
            sq += g.pow(2).sum(1) * a.pow(2).sum(1)
        if module.bias is not None and module.bias.requires_grad:
            sq += g.pow(2).sum(1)
    elif isinstance(module, nn.BatchNorm2d):  # eval mode: an affine map of the running-normalised input
        x_hat = (a - module.running_mean[:, None, None]) * torch.rsqrt(module.running_var[:, None, None] + module.eps)
        if module.weight is not None and module.weight.requires_grad:
            sq += (g * x_hat).sum((2, 3)).pow(2).sum(1)
        if module.bias is not None and module.bias.requires_grad:
            sq += g.sum((2, 3)).pow(2).sum(1)
    else:  # Conv2d: grad_i = G_i U_i^T with U_i the unfolded input (in*k*k, L) and G_i (out, L)
        gm = g.flatten(2)  # (B, out, L)
        if module.weight.requires_grad:
            u = F.unfold(a, module.kernel_size, module.dilation, module.padding, module.stride)  # (B, in*k*k, L)
            out_ch, fan_in, length = gm.shape[1], u.shape[1], u.shape[2]
            if out_ch * fan_in <= length * (out_ch + fan_in):  # materialise the per-example gradient
                sq += torch.bmm(gm, u.transpose(1, 2)).pow(2).sum((1, 2))
            else:  # ghost norm: <U^T U, G^T G> over positions, never forming the gradient
                sq += (torch.bmm(u.transpose(1, 2), u) * torch.bmm(gm.transpose(1, 2), gm)).sum((1, 2))
        if module.bias is not None and module.bias.requires_grad:
            sq += gm.sum(2).pow(2).sum(1)
    return sq


class ForgettingTracker:
    """Forgetting counts updated on the fly from each presentation's correctness (Toneva et al., 2019).

    A forgetting event is a correct -> incorrect transition between consecutive presentations of
    an example; every example starts as 'incorrect' before its first presentation.
    """

    def __init__(self, n: int, device: str | torch.device = "cpu") -> None:
        self.prev = torch.zeros(n, dtype=torch.bool, device=device)
        self.forgets = torch.zeros(n, dtype=torch.int32, device=device)
        self.learned = torch.zeros(n, dtype=torch.bool, device=device)

    def update(self, indices: Tensor, correct: Tensor) -> None:
        """Record one batch: `indices` (unique within the batch) and whether each was classified correctly."""
        self.forgets[indices] += (self.prev[indices] & ~correct).int()
        self.prev[indices] = correct
        self.learned[indices] |= correct

    def scores(self) -> Tensor:
        return forgetting_from_counts(self.forgets, self.learned)

    def state_dict(self) -> dict[str, Tensor]:
        return {"prev": self.prev, "forgets": self.forgets, "learned": self.learned}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        for name, value in state.items():
            getattr(self, name).copy_(value)


def forgetting_from_counts(forget_counts, ever_correct) -> Tensor:
    """Forgetting score: the number of forgetting events, +inf for never-learned examples (as the authors)."""
    scores = torch.as_tensor(forget_counts).float().cpu().clone()
    scores[~torch.as_tensor(ever_correct).bool().cpu()] = float("inf")
    return scores


def forgetting_scores(presentations: list[tuple[Tensor, Tensor]], n: int) -> Tensor:
    """Forgetting scores (N,) from a sequence of (indices, correct) presentations in training order."""
    tracker = ForgettingTracker(n)
    for indices, correct in presentations:
        tracker.update(torch.as_tensor(indices), torch.as_tensor(correct, dtype=torch.bool))
    return tracker.scores()
