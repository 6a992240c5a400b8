"""Label noise (the paper's Sec. 5): do scores find the corrupted labels, and does skipping them help?

A share `noise_fraction` of the training labels is permuted (`analysis.data.corrupt_labels`); the
score runs and every retraining run see the noisy labels, the test set stays clean.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from torch import Tensor

from analysis import prune
from analysis.experiments import retrain
from analysis.profiles import Profile
from analysis.score_runs import compute_scores


def noise_detection_report(scores: Tensor, is_noisy: Tensor, bins: int = 10) -> dict:
    """How well high `scores` (N,) flag the examples of the bool mask `is_noisy` (N,).

    Returns `auroc` (Mann-Whitney U / (n_noisy n_clean), average ranks for ties, +inf allowed; NaN
    without both kinds), `k` (= n_noisy) and `precision_at_k` (noisy share of the k highest scores,
    ties by lower index first as `prune.hardest_first`; NaN for k = 0), `noise_rate`, and over
    `bins` equal-count bins of ascending score: `bin_counts` (bins,) and `bin_noisy_fraction` (bins,).
    """
    values = torch.as_tensor(scores, dtype=torch.float64).cpu()
    noisy = torch.as_tensor(is_noisy, dtype=torch.bool).cpu().numpy()
    n, k = len(noisy), int(noisy.sum())
    ranks = rankdata(values.numpy())
    auroc = (ranks[noisy].sum() - k * (k + 1) / 2) / (k * (n - k)) if 0 < k < n else float("nan")
    order = prune.hardest_first(values).numpy()
    precision = float(noisy[order[:k]].mean()) if k else float("nan")
    parts = np.array_split(order[::-1], bins)
    return {
        "auroc": float(auroc), "k": k, "precision_at_k": precision, "noise_rate": k / n,
        "bin_counts": np.array([len(p) for p in parts]),
        "bin_noisy_fraction": np.array([noisy[p].mean() if len(p) else np.nan for p in parts]),
    }


def noise_offsets(n_noisy: int, n: int, size: int) -> list[int]:
    """Window offsets 0, n_noisy/2, n_noisy, 2 n_noisy, clipped so a window of `size` fits in `n` (unique)."""
    return sorted({min(round(m * n_noisy), n - size) for m in (0.0, 0.5, 1.0, 2.0)})


def noise_study(profile: Profile, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """The label-noise study at `profile.noise_fraction`, as four tables.

    - `distributions`: score, epoch, noisy, value: per-example EL2N and GraNd (seed means) at
      initialisation, the score epoch and the end of training;
    - `bins`: score, bin (0 = lowest scores), count, noisy_fraction, noise_rate at the score epoch;
    - `detection`: detector, epoch, auroc, precision_at_k for EL2N, GraNd and the loss at each
      score epoch and the end, and forgetting (end of training);
    - `pruning`: selection, offset, seed, test_acc, train_acc, kept: keeping `study_fraction` pruned
      by highest EL2N, windows skipping the top `offset`, highest GraNd at init, and random
      (`secondary_seeds` retraining seeds each).
    """
    noise = profile.noise_fraction
    _, is_noisy = profile.data(noise).load("cpu")
    n, n_noisy = len(is_noisy), int(is_noisy.sum())

    def mean(score: str, epoch: float) -> Tensor:
        return compute_scores(profile, score, epoch, label_noise=noise, executor=executor)[0]

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

    epochs = sorted({*profile.score_epochs, profile.score_epoch, profile.epochs})
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
    selections.append(({"selection": "random", "offset": np.nan}, prune.random_subset(n, size, seed=size)))
    pruning = retrain(profile, selections, profile.secondary_seeds, executor, desc="noisy pruning", label_noise=noise)
    return {"distributions": distributions, "bins": pd.DataFrame(bins), "detection": pd.DataFrame(detection),
            "pruning": pruning}
