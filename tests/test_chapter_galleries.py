"""The galleries page: per-class EL2N, the hardest class's share of the top scores, and the gallery rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import plots
from analysis.chapters import galleries
from analysis.data import CIFAR10_CLASSES
from analysis.profiles import get_profile


def scores_table() -> pd.DataFrame:
    """Ten images per class; class c scores c / 10 + position / 100, except that cat (3) scores highest of all
    on average and the single highest image is a truck's (9)."""
    labels = np.repeat(np.arange(10), 10)
    scores = (labels / 10 + np.tile(np.arange(10), 10) / 100).astype(np.float32)
    scores[labels == 3] += 1.0
    scores[99] = 2.0
    return pd.DataFrame({"label": labels, "el2n": scores})


def test_facts():
    profile = get_profile("smoke")
    facts = galleries.facts({"scores": scores_table()}, profile)
    per_class = facts["table"].data["mean EL2N"]
    assert per_class.index.name == "class"
    assert list(per_class.index[:3]) == ["airplane", "automobile", "bird"] and per_class.is_monotonic_increasing
    assert (facts["hardest_class"], facts["easiest_class"]) == ("cat", "airplane")
    # the top 10% are 10 images: the truck at 2.0 and nine cats
    assert facts["top_share"] == "90%" and facts["top"] == "10%"
    assert facts["top_note"] == "against 10% of the training set: a class-blind pruning rule keeps it over-represented"
    even = scores_table().assign(el2n=lambda t: np.where(t["label"] == 3, 5.0, 0.0) + np.arange(100) % 10 / 100)
    even.loc[even["label"] == 3, "el2n"] = [5.0] + [0.001] * 9  # cat highest on average, yet one cat in the top 10
    facts = galleries.facts({"scores": even}, profile)
    assert (facts["hardest_class"], facts["top_share"]) == ("cat", "10%")
    assert facts["top_note"] == "no more than its 10% of the training set"
    assert (facts["per_row"], facts["epoch"], facts["seeds"]) == ("8", f"{profile.score_epoch:g}",
                                                                 str(profile.score_seeds))
    assert galleries.verdicts({}, profile) == [] and galleries.CLAIMS == ()


def test_gallery_rows_and_their_drawing():
    table = scores_table()
    scores, labels = table["el2n"].to_numpy(), table["label"].to_numpy()
    rows = galleries.gallery(np.array([3, 12, 99]), scores, labels, CIFAR10_CLASSES)
    assert rows["class"].tolist() == ["airplane", "automobile", "truck"]
    assert rows["title"].tolist() == ["0.03", "0.12", "2.00"]
    by_class = pd.DataFrame({"class": np.repeat(["cat", "dog"], 4), "title": [f"{i}" for i in range(8)]})
    fig = plots.gallery(np.zeros((8, 3, 4, 4), dtype=np.uint8), by_class)
    assert len(fig.axes) == 8 and fig.axes[3].get_title() == "3"
    assert [t.get_text() for t in fig.axes[0].texts] == ["cat"] and [t.get_text() for t in fig.axes[4].texts] == ["dog"]
