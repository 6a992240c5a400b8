"""Linear mode connectivity: the error barrier along the straight line between two networks.

Following Frankle et al. (2020), two networks are linearly connected when the error of their
weight interpolations never rises much above the error of the endpoints. Images are float
(N, C, H, W), normalised as the networks expect; labels are int64 (N,). `lmc_study` is the paper's
Sec. 6 experiment: children spawned from one parent run and trained on EL2N groups.
"""

from __future__ import annotations

import copy
from concurrent.futures import Executor

import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from analysis import prune
from analysis.profiles import Profile
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.store import Result, RunStore, config_key
from analysis.sweep import RunTask, run_all
from analysis.train import TrainConfig, autocast, child_config, load_checkpoint, resolve_device

LMC_SEEDS = (1, 2)  # the two children of each spawn point (the parent is seed 0)
LMC_TEST_IMAGES = 2000  # at most this many test images per barrier
BN_IMAGES = 1000  # training images of the group on which BatchNorm statistics are recomputed


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


@torch.no_grad()
def _error(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int) -> float:
    """Top-1 error of `model` in eval mode (the caller owns `model`: its mode is not restored)."""
    model.eval()
    device = next(model.parameters()).device
    wrong = torch.zeros((), dtype=torch.long, device=device)
    for i in range(0, len(labels), batch_size):
        with autocast(device):
            logits = model(images[i : i + batch_size].to(device))
        wrong += (logits.argmax(1) != labels[i : i + batch_size].to(device)).sum()
    return wrong.item() / max(len(labels), 1)


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


def lmc_groups(profile: Profile, scores: Tensor) -> dict[str, Tensor | None]:
    """Sorted training indices of the low- and high-EL2N groups and a random group, each of
    round(lmc_group_fraction * N) examples, and "full" (None: all the data)."""
    n = profile.num_train
    size = round(profile.lmc_group_fraction * n)
    pruned = 1 - size / n
    return {"low": prune.keep_easiest(scores, pruned), "high": prune.keep_hardest(scores, pruned),
            "random": prune.random_subset(n, size, seed=size), "full": None}


def _barriers(profile: Profile, children: list[TrainConfig], subset: Tensor | None, store: RunStore) -> list[dict]:
    """Barriers (eval_set, bn_reset, barrier) between two children's final networks, cached in the store."""
    device = resolve_device()
    data, _ = children[0].data.load(device)
    m = min(LMC_TEST_IMAGES, len(data.test_labels))

    def compute() -> Result:
        idx = (torch.arange(len(data.train_labels)) if subset is None else subset).to(device)
        own = data.normalize(data.train_images[idx]), data.train_labels[idx]
        test = data.normalize(data.test_images[:m]), data.test_labels[:m]
        bn = own[0][prune.random_subset(len(idx), min(BN_IMAGES, len(idx)), seed=0).to(device)]
        a, b = (load_checkpoint(c, c.steps, store, subset, str(device)) for c in children)
        rows = [{"eval_set": name, "bn_reset": reset,
                 "barrier": error_barrier(a, b, x, y, profile.lmc_points, bn if reset else None)["barrier"]}
                for name, (x, y) in (("test", test), ("own train", own)) for reset in (False, True)]
        return Result({"rows": rows})

    key = {"children": [config_key("train", c.key_dict()) for c in children], "n_points": profile.lmc_points,
           "test_images": m, "bn_images": BN_IMAGES}
    return store.get_or_compute("lmc", key, compute, device=str(device)).metrics["rows"]


def lmc_study(profile: Profile, executor: Executor | None = None) -> pd.DataFrame:
    """Error barriers between two children spawned from the seed-0 score run and trained on each EL2N group.

    For each spawn epoch of `lmc_spawn_epochs` and group of `lmc_groups` (EL2N seed mean at the
    score epoch), children of seeds `LMC_SEEDS` continue the parent from that epoch to the end of
    its budget on the group; all children train in one sweep. Barriers use `lmc_points`
    interpolations, on the first `LMC_TEST_IMAGES` test images and on the group's own training
    images, with BatchNorm statistics as trained and recomputed on `BN_IMAGES` of the group's images.
    Rows: spawn_epoch, group, eval_set ("test" | "own train"), bn_reset, barrier (error, 0-1).
    """
    parent = score_run_config(profile, 0)
    score_runs(profile, [parent], executor)
    groups = lmc_groups(profile, compute_scores(profile, "el2n", profile.score_epoch, executor=executor)[0])
    cells = {(e, g): [child_config(parent, profile.step(e), seed, subset) for seed in LMC_SEEDS]
             for e in profile.lmc_spawn_epochs for g, subset in groups.items()}
    run_all([RunTask(profile.name, c, None if groups[g] is None else groups[g].numpy())
             for (_, g), children in cells.items() for c in children], executor, desc="lmc children")
    store = RunStore(profile.name)
    return pd.DataFrame([{"spawn_epoch": e, "group": g, **row} for (e, g), children in cells.items()
                         for row in _barriers(profile, children, groups[g], store)])
