"""What the scores see: the training images at both ends of the seed-averaged EL2N ranking, per class."""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd

from analysis.data import class_names
from analysis.profiles import Profile
from analysis.retraining import method_scores
from analysis.rules import Verdict
from analysis.store import RunStore

CLAIMS: tuple[str, ...] = ()
PER_ROW = 8  # images per class in each gallery
TOP_SHARE = 0.1  # the highest-scoring share of the training set whose class make-up the prose reports


def gallery(indices: np.ndarray, scores: np.ndarray, labels: np.ndarray, names: tuple) -> pd.DataFrame:
    """The rows of a gallery, in drawing order: training index, class, EL2N and the image's title."""
    return pd.DataFrame({"index": indices, "class": [names[c] for c in labels[indices]], "el2n": scores[indices],
                         "title": [f"{s:.2f}" for s in scores[indices]]})


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict:
    """Tables: `scores` (label and seed-averaged EL2N of every training image), `hardest` and `easiest` (the
    `PER_ROW` highest / lowest per class, class by class: index, class, el2n, title), and their images as
    uint8 (N, 3, H, W) arrays `hardest_images` and `easiest_images`."""
    scores = method_scores(profile, store, "el2n", executor=executor).numpy()
    data = profile.data().load()[0]
    images, labels = data.train_images.numpy(), data.train_labels.numpy()
    names = class_names(profile.dataset, data.num_classes)
    order = np.argsort(-scores, kind="stable")
    by_class = [order[labels[order] == c] for c in range(data.num_classes)]
    hardest = np.concatenate([idx[:PER_ROW] for idx in by_class])
    easiest = np.concatenate([idx[::-1][:PER_ROW] for idx in by_class])
    return {"scores": pd.DataFrame({"label": labels, "el2n": scores}),
            "hardest": gallery(hardest, scores, labels, names), "easiest": gallery(easiest, scores, labels, names),
            "hardest_images": images[hardest], "easiest_images": images[easiest]}


def facts(tables: dict, profile: Profile) -> dict:
    scores, labels = tables["scores"]["el2n"].to_numpy(), tables["scores"]["label"].to_numpy()
    names = class_names(profile.dataset, int(labels.max()) + 1)
    per_class = pd.Series(scores).groupby(labels).mean().set_axis(names).sort_values()
    order = np.argsort(-scores, kind="stable")
    top = labels[order[: round(TOP_SHARE * len(order))]]
    hardest = names.index(per_class.index[-1])
    top_share, class_share = np.mean(top == hardest), np.mean(labels == hardest)
    return {
        "table": per_class.rename("mean EL2N").rename_axis("class").to_frame().style.format("{:.3f}"),
        "hardest_class": str(per_class.index[-1]),
        "easiest_class": str(per_class.index[0]),
        "top_share": f"{top_share:.0%}",
        "top_note": (f"against {class_share:.0%} of the training set: a class-blind pruning rule keeps it "
                     "over-represented" if top_share > class_share else
                     f"no more than its {class_share:.0%} of the training set"),
        "per_row": str(PER_ROW),
        "top": f"{TOP_SHARE:.0%}",
        "epoch": f"{profile.score_epoch:g}",
        "seeds": str(profile.score_seeds),
    }


def verdicts(tables: dict, profile: Profile) -> list[Verdict]:
    return []
