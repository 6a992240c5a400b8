"""Label noise (the paper's Sec. 5): do scores find the corrupted labels, and does skipping them help?

A share `noise_fraction` of the training labels is permuted (`analysis.data.corrupt_labels`); the
score runs and every retraining run see the noisy labels, the test set stays clean.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd
from torch import Tensor

from analysis import prune, rules
from analysis.noise import noise_detection_report, noise_offsets
from analysis.plots import method_name
from analysis.profiles import Profile, Variant
from analysis.retraining import RandomSubset, full_data, retrain, seed_noise
from analysis.rules import Verdict
from analysis.score_runs import compute_scores
from analysis.statistics import SeedNoise, compare, noise_table
from analysis.store import RunStore

CLAIMS = ("noise_tail",)


def noise_study(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """The label-noise study at `profile.noise.fraction`, as four tables.

    - `distributions`: score, epoch, noisy, value: per-example EL2N and GraNd (seed means) at
      initialisation, the score epoch and the end of training;
    - `bins`: score, bin (0 = lowest scores), count, noisy_fraction, noise_rate at the score epoch;
    - `detection`: detector, epoch, auroc, precision_at_k for EL2N, GraNd and the loss at each
      score epoch and the end, and forgetting (end of training);
    - `pruning`: selection, offset, seed, test_acc, train_acc, kept: keeping `study_fraction` pruned
      by highest EL2N, windows skipping the top `offset`, highest GraNd at init, and random
      (`secondary_seeds` retraining seeds each); and the control, selection `clean`: the same windows
      on clean labels (clean scores, clean training), so a gain from skipping the noisy tail can be told
      from the gain skipping the hardest examples brings without noise.
    """
    noise = profile.noise.fraction
    _, is_noisy = profile.data(noise).load("cpu")
    n, n_noisy = len(is_noisy), int(is_noisy.sum())

    def mean(score: str, epoch: float) -> Tensor:
        return compute_scores(profile, store, score, epoch, variant=Variant(label_noise=noise), executor=executor)[0]

    noisy = is_noisy.numpy()
    distributions = pd.concat([
        pd.DataFrame({"score": s, "epoch": e, "noisy": noisy, "value": mean(s, e).numpy()})
        for s in ("el2n", "grand") for e in (0.0, profile.score_epoch, profile.epochs)
    ], ignore_index=True)

    bins = []
    for s in ("el2n", "grand"):
        r = noise_detection_report(mean(s, profile.score_epoch), is_noisy)
        bins += [{"score": s, "bin": b, "count": int(c), "noisy_fraction": float(f), "noise_rate": r["noise_rate"]}
                 for b, (c, f) in enumerate(zip(r["bin_counts"], r["bin_noisy_fraction"]))]

    epochs = sorted({*profile.score_epochs.epochs, profile.score_epoch, profile.epochs})
    detectors = [(s, e, mean(s, e)) for s in ("el2n", "grand", "loss") for e in epochs]
    detectors.append(("forgetting", profile.epochs, mean("forgetting", profile.epochs)))
    detection = []
    for name, epoch, scores in detectors:
        r = noise_detection_report(scores, is_noisy)
        detection.append({"detector": name, "epoch": epoch, "auroc": r["auroc"], "precision_at_k": r["precision_at_k"]})

    size = prune.kept_size(n, profile.study_fraction)
    el2n = mean("el2n", profile.score_epoch)
    selections = [({"selection": "el2n", "offset": o}, prune.keep_window(el2n, o, size))
                  for o in noise_offsets(n_noisy, n, size)]
    selections.append(({"selection": "grand_init", "offset": 0}, prune.keep_hardest(mean("grand", 0.0),
                                                                                    profile.study_fraction)))
    selections.append(({"selection": "random", "offset": np.nan}, RandomSubset(size)))
    pruning = retrain(profile, store, selections, profile.secondary_seeds, executor, desc="noisy pruning",
                      variant=Variant(label_noise=noise))
    clean = compute_scores(profile, store, "el2n", profile.score_epoch, executor=executor)[0]
    control = retrain(profile, store, [({"selection": "clean", "offset": o}, prune.keep_window(clean, o, size))
                                for o in noise_offsets(n_noisy, n, size)],
                      profile.secondary_seeds, executor, desc="clean-label control")
    pruning = pd.concat([pruning, control], ignore_index=True)
    return {"distributions": distributions, "bins": pd.DataFrame(bins), "detection": pd.DataFrame(detection),
            "pruning": pruning}


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `distributions`, `bins`, `detection`, `pruning` (see `noise_study`), `full` (full-data runs on
    the noisy labels) and `seed_noise` (clean and noisy labels' runs, by `label_noise`)."""
    tables = noise_study(profile, store, executor)
    noisy = Variant(label_noise=profile.noise.fraction)
    return {**tables, "full": full_data(profile, store, executor, noisy),
            "seed_noise": noise_table({0.0: seed_noise(profile, store), noisy.label_noise: seed_noise(
                profile, store, noisy)}, "label_noise")}


def noise_rate(bins: pd.DataFrame) -> float:
    """The share of training labels the corruption actually changed (from the EL2N bins)."""
    return bins.loc[bins["score"] == "el2n", "noise_rate"].iloc[0]


def context(pruning: pd.DataFrame, rate: float, n_train: int, noise: SeedNoise) -> str:
    """What the EL2N windows under noise show beyond the verdict.

    Two sentences, each when it holds: accuracy rises with every offset step (more than two offsets; with the
    clean-label control's windows beside it, where they were trained), and every window stays below random pruning
    beyond two standard errors. Otherwise: the best window's offset.
    """
    windows = pruning[pruning["selection"] == "el2n"]
    by_offset = windows.groupby("offset")["test_acc"].mean()
    clean = pruning[pruning["selection"] == "clean"].groupby("offset")["test_acc"].mean()
    random_acc = pruning.loc[pruning["selection"] == "random", "test_acc"]
    sentences = []
    if len(by_offset) > 2 and by_offset.is_monotonic_increasing:
        sentences.append(
            f"Accuracy rises with every step of the offset up to the largest tested ({by_offset.index[-1]:,.0f} "
            f"skipped, {by_offset.index[-1] / (rate * n_train):.1f} times the number of noisy examples): past the "
            "noisy tail, skipping more of the hardest examples still raises it."
            + (f" With clean labels the same windows go from {clean.iloc[0]:.2%} ({clean.index[0]:,.0f} skipped) to "
               f"{clean.iloc[-1]:.2%} ({clean.index[-1]:,.0f} skipped)." if len(clean) > 1 else ""))
    if all(compare(windows.loc[windows["offset"] == o, "test_acc"], random_acc, noise.vs_random) < 0
           for o in by_offset.index):
        sentences.append(f"Every EL2N window stays below random pruning ({random_acc.mean():.2%}) beyond two "
                         "standard errors, so the noisy tail is only part of why keeping the highest EL2N hurts at "
                         "this scale.")
    return " ".join(sentences) or f"The best window skips the top {by_offset.idxmax():,.0f} examples."


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    bins, detection, pruning, full = tables["bins"], tables["detection"], tables["pruning"], tables["full"]
    el2n_bins = bins[bins["score"] == "el2n"]
    rate = noise_rate(bins)
    at_score = detection[detection["epoch"] == profile.score_epoch].set_index("detector")
    detect = (detection.pivot_table(index="detector", columns="epoch", values=["auroc", "precision_at_k"])
              .rename(columns={"auroc": "AUROC", "precision_at_k": "precision at k"}, level=0)
              .rename(columns="epoch {:g}".format, level=1).rename_axis(index="detector", columns=[None, None]))
    prune_table = (pruning.assign(offset=pruning["offset"].map("{:,.0f}".format).replace("nan", "–"))
                   .groupby(["selection", "offset"], sort=False)["test_acc"].mean().to_frame("test accuracy")
                   .rename_axis(["selection", "examples skipped"]))
    return {
        "runs": str(len(pruning)),
        "noise": f"{profile.noise.fraction:.0%}",
        "rate": f"{rate:.1%}",
        "top": f"{el2n_bins['noisy_fraction'].iloc[-1]:.0%}",
        "auroc": f"{at_score.loc['el2n', 'auroc']:.2f}",
        "score_epoch": f"{profile.score_epoch:g}",
        "study_fraction": f"{profile.study_fraction:.0%}",
        "detection": detect.style.format("{:.2f}", na_rep="").format_index(method_name),
        "context": context(pruning, rate, profile.num_train,
                           SeedNoise.by(tables["seed_noise"], "label_noise")[profile.noise.fraction]),
        "pruning": prune_table.style.format("{:.2%}").format_index(method_name, level=0),
        "full": f"{full['test_acc'].mean():.2%}",
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    noise = SeedNoise.by(tables["seed_noise"], "label_noise")
    return [rules.noise_tail(tables["bins"], tables["pruning"], noise[profile.noise.fraction], noise[0.0])]
