"""Linear mode connectivity of EL2N groups (the paper's Sec. 6): error barriers between pairs of children
spawned from one parent run and trained on the lowest-EL2N, highest-EL2N, a random or all the data."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd
import torch
from torch import Tensor

from analysis import prune, rules
from analysis.profiles import Profile
from analysis.rules import Verdict
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.store import Result, RunStore, config_key
from analysis.surface import error_barrier
from analysis.sweep import RunTask, run_all
from analysis.train import TrainConfig, child_config, load_checkpoint, resolve_device

CLAIMS = ("lmc",)
TEST_IMAGES = 2000  # at most this many test images per barrier
BN_IMAGES = 1000  # training images of the group on which BatchNorm statistics are recomputed


def groups(profile: Profile, scores: Tensor) -> dict[str, Tensor | None]:
    """Sorted training indices of the low- and high-EL2N groups and a random group, each of
    round(lmc_group_fraction * N) examples, and "full" (None: all the data)."""
    n = profile.num_train
    size = round(profile.lmc.group_fraction * n)
    pruned = 1 - size / n
    return {"low": prune.keep_easiest(scores, pruned), "high": prune.keep_hardest(scores, pruned),
            "random": prune.random_subset(n, size, seed=size), "full": None}


def pairs(profile: Profile, spawn_epoch: float, group: str) -> int:
    """Pairs of children of a cell: `lmc.pairs` where the verdict compares (low and high groups, spawn points after
    the first), one elsewhere."""
    judged = group in ("low", "high") and spawn_epoch > min(profile.lmc.spawn_epochs)
    return profile.lmc.pairs if judged else 1


def child_seeds(pair: int) -> tuple[int, int]:
    """Seeds of the two children of pair `pair` (0, 1, ...): 1 and 2, then 3 and 4, ... (the parent is seed 0)."""
    return 2 * pair + 1, 2 * pair + 2


def _barriers(profile: Profile, children: list[TrainConfig], subset: Tensor | None, store: RunStore) -> list[dict]:
    """Barriers (eval_set, bn_reset, barrier) between two children's final networks, cached in the store."""
    device = resolve_device()
    data, _ = children[0].data.load(device)
    m = min(TEST_IMAGES, len(data.test_labels))

    def compute() -> Result:
        idx = (torch.arange(len(data.train_labels)) if subset is None else subset).to(device)
        own = data.normalize(data.train_images[idx]), data.train_labels[idx]
        test = data.normalize(data.test_images[:m]), data.test_labels[:m]
        bn = own[0][prune.random_subset(len(idx), min(BN_IMAGES, len(idx)), seed=0).to(device)]
        a, b = (load_checkpoint(c, c.steps, store, subset, str(device)) for c in children)
        rows = [{"eval_set": name, "bn_reset": reset,
                 "barrier": error_barrier(a, b, x, y, profile.lmc.points, bn if reset else None)["barrier"]}
                for name, (x, y) in (("test", test), ("own train", own)) for reset in (False, True)]
        return Result({"rows": rows})

    key = {"children": [config_key("train", c.key_dict()) for c in children], "n_points": profile.lmc.points,
           "test_images": m, "bn_images": BN_IMAGES}
    return store.get_or_compute("lmc", key, compute, device=str(device)).metrics["rows"]


def study(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Error barriers between pairs of children spawned from the seed-0 score run and trained on each EL2N group.

    For each spawn epoch of `lmc.spawn_epochs` and group of `groups` (EL2N seed mean at the score epoch), `pairs`
    pairs of children (seeds `child_seeds`) continue the parent from that epoch to the end of its budget on the
    group; all children train in one sweep. Barriers use `lmc.points` interpolations, on the first `TEST_IMAGES`
    test images and on the group's own training images, with BatchNorm statistics as trained and recomputed on
    `BN_IMAGES` of the group's images.
    Rows: spawn_epoch, group, pair, eval_set ("test" | "own train"), bn_reset, barrier (error, 0-1).
    """
    parent = score_run_config(profile, 0)
    subsets = groups(profile, compute_scores(profile, store, "el2n", profile.score_epoch, executor=executor)[0])
    cells = {(e, g, k): [child_config(parent, profile.step(e), seed, subset) for seed in child_seeds(k)]
             for e in profile.lmc.spawn_epochs for g, subset in subsets.items() for k in range(pairs(profile, e, g))}
    unrun = any(not store.has("train", c.key_dict()) for children in cells.values() for c in children)
    score_runs(profile, store, [parent], executor, checkpoints=unrun)  # children start from the parent's checkpoints
    run_all([RunTask(store, c, None if subsets[g] is None else subsets[g].numpy())
             for (_, g, _), children in cells.items() for c in children], executor, desc="lmc children")
    return pd.DataFrame([{"spawn_epoch": e, "group": g, "pair": k, **row} for (e, g, k), children in cells.items()
                         for row in _barriers(profile, children, subsets[g], store)])


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `study` (spawn_epoch, group, pair, eval_set, bn_reset, barrier)."""
    return {"study": study(profile, store, executor)}


def barrier_table(study: pd.DataFrame) -> pd.DataFrame:
    """Mean barriers over pairs, with rows (eval_set, bn_reset, group) and one column per spawn epoch."""
    return study.pivot_table(index=["eval_set", "bn_reset", "group"], columns="spawn_epoch", values="barrier")


def context(study: pd.DataFrame) -> str:
    """What the barriers after the first spawn point say, BatchNorm recomputed.

    The last clause says the paper's pattern holds when, on the groups' own training images, the high-EL2N
    barrier lies above the low-EL2N one at every spawn point after the first, by the verdict's rule
    (`rules.lmc_gaps`); with one pair per group it says the page cannot tell.
    """
    table = barrier_table(study)
    later = table.loc[:, table.columns > table.columns.min()]
    test = later.loc[("test", True)]
    own = rules.lmc_gaps(study, "own train")
    if own.empty:
        return "The page has no spawn point after the first: nothing to compare."
    n_pairs = int(own["pairs"].min())
    spawns = ", ".join(f"{e:g}" for e in later.columns)
    return (
        f"On test error, every group's mean barrier at spawn epochs {spawns} is at most {test.max().max():.1%}, and "
        f"the high and low groups differ by at most {(test.loc['high'] - test.loc['low']).abs().max():.1%}. On each "
        "group's own training images (BatchNorm recomputed) the high-EL2N children's barriers are "
        + ", ".join(f"{v:.1%}" for v in own["high"]) + " against " + ", ".join(f"{v:.1%}" for v in own["low"])
        + " for the low-EL2N children at those epochs"
        + (", from one pair of children each: too few to tell whether they differ." if n_pairs < 2
           else f" (means of {n_pairs} pairs)" + (": there, the paper's pattern holds at every spawn point (95% "
                                                "interval)." if all(h is True for h in own["held"]) else "."))
    )


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    study = tables["study"]
    table = barrier_table(study)
    return {
        "runs": str(2 * len(study.groupby(["spawn_epoch", "group", "pair"]))),
        "group": f"{profile.lmc.group_fraction:.0%}",
        "points": str(profile.lmc.points),
        "pairs": str(profile.lmc.pairs),
        "test": f"{TEST_IMAGES:,} test images",
        "bn": f"{BN_IMAGES:,} training images",
        "table": table.rename_axis(index=["evaluated on", "BatchNorm recomputed", "EL2N group"], columns="spawn epoch")
        .style.format("{:.1%}").format_index("{:g}", axis=1),
        "context": context(study),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.lmc(tables["study"])]
