"""Per-example scores: EL2N, exact GraNd, the loss, input norm, and forgetting; and whether each example is
classified correctly (its mean: the network's accuracy when the scores are read).

Each score function takes `images` (float (N, C, H, W), normalised as the model expects) and
`labels` (int64 (N,)) and returns a float tensor (N,) on the CPU. Models are evaluated in eval
mode (BatchNorm uses its running statistics, as in the authors' code) and are left in the mode
and with the weights they came with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from analysis.per_example import layer_inputs_and_grads as layer_inputs_and_grads  # re-exported
from analysis.per_example import per_example_grad_sq_norms, trainable_layers


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
def _per_example(model: nn.Module, images: Tensor, labels: Tensor, of_logits: Callable[[Tensor, Tensor], Tensor],
                 batch_size: int) -> Tensor:
    """`of_logits(logits, labels)` for every example, batch by batch, the model in eval mode."""
    batches = _batches(images, labels, batch_size, _device(model))
    with _eval_mode(model):
        return torch.cat([of_logits(model(x).float(), y).cpu() for x, y in batches])


def el2n(model: nn.Module, images: Tensor, labels: Tensor, squared: bool = False, batch_size: int = 256) -> Tensor:
    """EL2N: ||softmax(f(x)) - onehot(y)||_2 per example (squared only if asked: it changes averaged ranks)."""
    def of_logits(logits: Tensor, y: Tensor) -> Tensor:
        probs = logits.softmax(dim=1)
        sq = (probs - F.one_hot(y, probs.shape[1]).float()).pow(2).sum(dim=1)
        return sq if squared else sq.sqrt()

    return _per_example(model, images, labels, of_logits, batch_size)


def loss(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 256) -> Tensor:
    """Per-example cross-entropy of `labels` under `model` (nats)."""
    return _per_example(model, images, labels, partial(F.cross_entropy, reduction="none"), batch_size)


def correct(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 256) -> Tensor:
    """1.0 where `model` classifies the example as its label (top-1), else 0.0."""
    return _per_example(model, images, labels, lambda logits, y: (logits.argmax(dim=1) == y).float(), batch_size)


def input_norm(images: Tensor) -> Tensor:
    """L2 norm of each (normalised) input: the control for GraNd at initialisation (Kirsch, 2023)."""
    return images.flatten(1).float().norm(dim=1).cpu()


def grand(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 128) -> Tensor:
    """GraNd: the exact L2 norm of each example's cross-entropy gradient w.r.t. all trainable parameters.

    Computed layer by layer from each layer's input and output gradient, without a per-example
    backward pass: one forward and one input-gradient backward per batch, each layer's norm by the
    cheaper of materialising its per-example gradients or a "ghost norm" (`analysis.per_example`).
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
