"""Sliding windows over the EL2N ranking (the paper's Figure 5): which window of the ranking is best to keep?

Each window keeps `window_fraction` of the training set; offset k skips the k highest-EL2N examples.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd

from analysis import prune, rules
from analysis.profiles import Profile, Variant
from analysis.retraining import RandomSubset, full_data, retrain, seed_noise
from analysis.rules import Verdict
from analysis.score_runs import compute_scores
from analysis.statistics import SeedNoise
from analysis.store import RunStore

CLAIMS = ("window_cifar10",)


def window_size(profile: Profile) -> int:
    """Examples kept by every window (and by the random subset it is compared with)."""
    return round(profile.offsets.window_fraction * profile.num_train)


def offset_sweep(profile: Profile, store: RunStore, label_noise: float = 0.0,
                 executor: Executor | None = None) -> pd.DataFrame:
    """Figure 5: windows of `window_fraction` of the EL2N ranking at increasing offsets from the hardest end.

    Rows: offset (examples skipped; NaN for random), selection (window or random), seed, test_acc, train_acc,
    kept. Offsets whose window would run past the easiest example are left out.
    """
    n = profile.num_train
    size = window_size(profile)
    scores = compute_scores(profile, store, "el2n", profile.score_epoch, variant=Variant(label_noise=label_noise),
                            executor=executor)[0]
    selections = [({"offset": round(o * n), "selection": "window"}, prune.keep_window(scores, round(o * n),
                                                                                           size))
                  for o in profile.offsets.starts if round(o * n) + size <= n]
    selections.append(({"offset": np.nan, "selection": "random"}, RandomSubset(size)))
    return retrain(profile, store, selections, seeds=profile.secondary_seeds, executor=executor, desc="windows",
                   variant=Variant(label_noise=label_noise))


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `offsets` (see `offset_sweep`) and `full` (the full-data runs)."""
    return {"offsets": offset_sweep(profile, store, executor=executor),
            "full": full_data(profile, store, executor=executor),
            "seed_noise": seed_noise(profile, store).table()}


def context(offsets: pd.DataFrame, profile: Profile) -> str:
    """Where the best window sits, on the mean over all seeds: if accuracy rises with every offset step (more
    than two offsets), the easiest window tested, with what the profile's amount of data leads one to expect;
    otherwise the best window's offset."""
    means = offsets[offsets["selection"] == "window"].groupby("offset")["test_acc"].mean()
    if len(means) > 2 and means.is_monotonic_increasing:
        expected = (f"Sorscher et al. (2022) predict this for scarce data, and these are {profile.num_train:,} images"
                    if profile.train_per_class else
                    "This profile trains on the whole training set, where Sorscher et al. (2022) expect harder "
                    "examples to pay")
        return (f"Accuracy rises with every step of the offset, from {means.iloc[0]:.2%} for the hardest window to "
                f"{means.iloc[-1]:.2%} for the last one tested ({means.index[-1]:,.0f} skipped): the best window is "
                f"the easiest one tested, not one that skips a small tail. {expected}; the regime page varies the "
                "amount of data.")
    return (f"On the mean over all seeds the best window skips the top {means.idxmax():,.0f} examples "
            f"({means.idxmax() / profile.num_train:.1%}); the verdict chooses on one seed and judges on the others.")


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    offsets, full = tables["offsets"], tables["full"]
    windows = offsets[offsets["selection"] == "window"]
    random = offsets[offsets["selection"] == "random"]
    table = windows.groupby("offset")["test_acc"].agg(["mean", "count"]).rename(
        columns={"mean": "test accuracy", "count": "runs"})
    table.index = pd.Index([f"{o:,.0f} ({o / profile.num_train:.0%})" for o in table.index],
                           name="examples skipped (share)")
    return {
        "table": table.style.format({"test accuracy": "{:.2%}"}),
        "runs": str(len(offsets)),
        "window": f"{window_size(profile):,}",
        "window_share": f"{profile.offsets.window_fraction:.0%}",
        "random": f"{random['test_acc'].mean():.2%}",
        "full": f"{full['test_acc'].mean():.2%}",
        "context": context(offsets, profile),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.window_cifar10(tables["offsets"], profile.num_train, SeedNoise.of(tables["seed_noise"]))]
