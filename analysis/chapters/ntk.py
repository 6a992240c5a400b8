"""How fast the neural tangent kernel moves, by EL2N group (the paper's Sec. 6): kernel velocity and distance
from the start of equal-count EL2N groups along the seed-0 score run (Fort et al., 2020)."""

from __future__ import annotations

from concurrent.futures import Executor
from functools import lru_cache

import pandas as pd
import torch
from torch import Tensor, nn

from analysis import prune, rules
from analysis.profiles import Profile
from analysis.representation import kernel_distance, kernel_velocity, ntk_gram
from analysis.rules import Verdict
from analysis.score_runs import compute_scores, score_run_config
from analysis.store import Result, RunStore, array_digest, config_key
from analysis.train import load_checkpoint, resolve_device

CLAIMS = ("ntk",)
KERNEL = "trace over logits"  # which empirical NTK `representation.ntk_gram` computes (part of each kernel's key)


def groups(profile: Profile, scores: Tensor) -> list[Tensor]:
    """`ntk_per_group` sorted training indices from each of `ntk_groups` equal-count groups of the
    ascending score ranking (group 0: lowest scores), drawn with seed 0."""
    ascending = prune.hardest_first(scores).flip(0)
    picks = []
    for members in torch.tensor_split(ascending, profile.ntk.groups):
        chosen = prune.random_subset(len(members), min(profile.ntk.per_group, len(members)), seed=0)
        picks.append(members[chosen].sort().values)
    return picks


def study(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Kernel velocity and distance from the first kernel, per EL2N group, over the seed-0 score run.

    Groups: `groups` of the EL2N seed mean at the score epoch. At each epoch of `ntk_epochs`
    the run's checkpoint gives each group's NTK Gram matrix (cached in the store). Rows: epoch,
    group, velocity (kernel distance to the previous epoch's kernel per epoch; NaN at the first),
    distance_from_start (kernel distance from the first epoch's kernel).
    """
    run = score_run_config(profile, 0)
    samples = groups(profile, compute_scores(profile, store, "el2n", profile.score_epoch, executor=executor)[0])
    device = resolve_device()
    data, _ = run.data.load(device)
    train = config_key("train", run.key_dict())

    @lru_cache(maxsize=1)
    def network(step: int) -> nn.Module:
        return load_checkpoint(run, step, store, device=str(device))

    def gram(step: int, idx: Tensor) -> Tensor:
        def compute() -> Result:
            images = data.normalize(data.train_images[idx.to(device)])
            return Result({"step": step}, {"gram": ntk_gram(network(step), images).numpy()})

        key = {"train": train, "step": step, "examples": array_digest(idx), "kernel": KERNEL}
        return torch.as_tensor(store.get_or_compute("ntk", key, compute, device=str(device)).arrays["gram"])

    kernels = {e: [gram(profile.step(e), idx) for idx in samples] for e in sorted(profile.ntk.epochs)}
    epochs = list(kernels)
    rows = []
    for i, epoch in enumerate(epochs):
        for g in range(len(samples)):
            k = kernels[epoch][g]
            velocity = kernel_velocity(kernels[epochs[i - 1]][g], k, epoch - epochs[i - 1]) if i else float("nan")
            rows.append({"epoch": epoch, "group": g, "velocity": velocity,
                         "distance_from_start": kernel_distance(kernels[epochs[0]][g], k)})
    return pd.DataFrame(rows)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `study` (epoch, group, velocity, distance_from_start)."""
    return {"study": study(profile, store, executor)}


def velocity_table(study: pd.DataFrame) -> pd.DataFrame:
    """Kernel velocity with one row per group and one column per epoch (NaN at the first epoch)."""
    return study.pivot_table(index="group", columns="epoch", values="velocity")


def context(table: pd.DataFrame, after: float, per_group: int) -> str:
    """What the velocities from epoch `after` on say (`table`: `velocity_table`).

    The ratios are the highest group's velocity over the lowest group's at each epoch. The clause
    on slowing down appears only when every group's velocity at the last epoch is below its velocity
    at the first epoch from `after` on.
    """
    late = table.loc[:, table.columns >= after]
    ratio = late.loc[late.index.max()] / late.loc[late.index.min()]
    return (
        f"From epoch {late.columns[0]:g} on, the highest-EL2N group's kernel moves {ratio.min():.2f} to "
        f"{ratio.max():.2f} times as fast as the lowest group's"
        + (", while every group slows down as the learning rate decays" if (late.iloc[:, -1] < late.iloc[:, 0]).all()
           else "")
        + f": the fastest kernel moves {late.iloc[:, 0].max():.2g} per epoch at epoch {late.columns[0]:g} and "
        f"{late.iloc[:, -1].max():.2g} at epoch {late.columns[-1]:g}. Each velocity comes from one training run and "
        f"{per_group} examples per group; the page does not measure how much these ratios vary between "
        "runs or samples.")


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    table = velocity_table(tables["study"])
    return {
        "epochs": ", ".join(f"{e:g}" for e in profile.ntk.epochs),
        "per_group": str(profile.ntk.per_group),
        "groups": str(profile.ntk.groups),
        "after": f"{profile.score_epoch:g}",
        "table": table.rename_axis(index="EL2N group (0 = lowest)", columns="kernel velocity at epoch")
        .style.format("{:.3g}", na_rep="").format_index("{:g}", axis=1),
        "context": context(table, profile.score_epoch, profile.ntk.per_group),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.ntk(tables["study"], after=profile.score_epoch)]
