"""How fast the neural tangent kernel moves, by EL2N group (the paper's Sec. 6): kernel velocity and distance
from the start of equal-count EL2N groups along several score runs (Fort et al., 2020)."""

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
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.store import Result, RunStore, array_digest, config_key
from analysis.train import TrainConfig, load_checkpoint, resolve_device

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


def _key(run: TrainConfig, step: int, idx: Tensor) -> dict:
    """The store key of the kernel of examples `idx` at `step` of `run`."""
    return {"train": config_key("train", run.key_dict()), "step": step, "examples": array_digest(idx), "kernel": KERNEL}


def kernel_runs(
    profile: Profile, store: RunStore, executor: Executor | None = None
) -> tuple[list[TrainConfig], list[Tensor]]:
    """The page's score runs and its groups' examples (`groups` of the EL2N seed mean at the score epoch).

    Every run is served, so that the page's compute counts it; a run with a kernel after step 0 not yet stored is
    trained again with its checkpoints, in parallel where `executor` allows (step 0 is rebuilt from the seed).
    """
    samples = groups(profile, compute_scores(profile, store, "el2n", profile.score_epoch, executor=executor)[0])
    runs = [score_run_config(profile, seed) for seed in range(profile.ntk.runs)]
    steps = [profile.step(e) for e in profile.ntk.epochs if e > 0]
    uncached = [r for r in runs if any(not store.has("ntk", _key(r, s, idx)) for s in steps for idx in samples)]
    score_runs(profile, store, runs, executor, checkpoints=uncached)
    return runs, samples


def study(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Kernel velocity and distance from the first kernel, per EL2N group, along each of `ntk.runs` score runs.

    The same examples in every run (`kernel_runs`). At each epoch of `ntk.epochs` a run's checkpoint gives each
    group's NTK Gram matrix (cached in the store). Rows: seed, epoch, group, velocity (kernel distance to the
    previous epoch's kernel per epoch; NaN at the first), distance_from_start (kernel distance from the first
    epoch's kernel).
    """
    runs, samples = kernel_runs(profile, store, executor)
    device = resolve_device()
    data, _ = runs[0].data.load(device)
    epochs = sorted(profile.ntk.epochs)
    steps = [profile.step(e) for e in epochs]

    @lru_cache(maxsize=1)
    def network(run: TrainConfig, step: int) -> nn.Module:
        return load_checkpoint(run, step, store, device=str(device))

    def gram(run: TrainConfig, step: int, idx: Tensor) -> Tensor:
        def compute() -> Result:
            images = data.normalize(data.train_images[idx.to(device)])
            return Result({"step": step}, {"gram": ntk_gram(network(run, step), images).numpy()})

        return torch.as_tensor(store.get_or_compute("ntk", _key(run, step, idx), compute, device=str(device))
                               .arrays["gram"])

    rows = []
    for seed, run in enumerate(runs):
        k = {e: [gram(run, s, idx) for idx in samples] for e, s in zip(epochs, steps, strict=True)}
        for i, epoch in enumerate(epochs):
            for g in range(len(samples)):
                velocity = (kernel_velocity(k[epochs[i - 1]][g], k[epoch][g], epoch - epochs[i - 1]) if i
                            else float("nan"))
                rows.append({"seed": seed, "epoch": epoch, "group": g, "velocity": velocity,
                             "distance_from_start": kernel_distance(k[epochs[0]][g], k[epoch][g])})
    return pd.DataFrame(rows)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `study` (seed, epoch, group, velocity, distance_from_start)."""
    return {"study": study(profile, store, executor)}


def velocity_table(study: pd.DataFrame) -> pd.DataFrame:
    """Kernel velocity, mean over runs, with one row per group and one column per epoch (NaN at the first epoch)."""
    return study.pivot_table(index="group", columns="epoch", values="velocity")


def context(study: pd.DataFrame, after: float, per_group: int) -> str:
    """What the velocities over training after epoch `after` say.

    The ratios are the highest group's velocity over the lowest group's at each epoch, as the verdict takes them
    (`rules.ntk_ratios`; over several runs their geometric mean). The clause on slowing down appears only
    when every group's mean velocity at the last epoch is below its mean velocity at the first epoch after
    `after`.
    """
    table = velocity_table(study)
    ratio = rules.ntk_ratios(study, after)
    late = table.loc[:, ratio.index]
    runs = study["seed"].nunique() if "seed" in study else 1
    return (
        f"After epoch {after:g}, the highest-EL2N group's kernel moves {ratio.min():.2f} to "
        f"{ratio.max():.2f} times as fast as the lowest group's"
        + (", while every group slows down" if (late.iloc[:, -1] < late.iloc[:, 0]).all()
           else "")
        + f": the fastest kernel moves {late.iloc[:, 0].max():.2g} per epoch at epoch {late.columns[0]:g} and "
        f"{late.iloc[:, -1].max():.2g} at epoch {late.columns[-1]:g}. "
        + (f"Each velocity comes from one training run and {per_group} examples per group; the page does not "
           "measure how much these ratios vary between runs or samples." if runs == 1 else
           f"Each velocity is the mean over {runs} training runs, on the same {per_group} examples per group in "
           "each, and each ratio the geometric mean of the runs' ratios; the verdict weighs how much the ratios "
           "vary between runs, not between samples of examples."))


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    study = tables["study"]
    return {
        "epochs": ", ".join(f"{e:g}" for e in profile.ntk.epochs),
        "per_group": str(profile.ntk.per_group),
        "groups": str(profile.ntk.groups),
        "runs": str(profile.ntk.runs),
        "after": f"{profile.score_epoch:g}",
        "table": velocity_table(study).rename_axis(index="EL2N group (0 = lowest)",
                                                   columns="kernel velocity at epoch (mean over runs)")
        .style.format("{:.3g}", na_rep="").format_index("{:g}", axis=1),
        "context": context(study, profile.score_epoch, profile.ntk.per_group),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.ntk(tables["study"], after=profile.score_epoch)]
