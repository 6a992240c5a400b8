"""The seeds page: its table, the sentence comparing every seed count with random pruning, and its verdict."""

from __future__ import annotations

import pandas as pd

from analysis import prune
from analysis.chapters import seeds
from analysis.profiles import get_profile

SPREAD = (-0.002, 0.0, 0.002)  # three retraining seeds around each mean


def seed_table(means: dict[int, float], rhos: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame([{"score": "grand", "n_seeds": k, "seed": i, "test_acc": m + d, "spearman_to_all": rhos[k]}
                         for k, m in means.items() for i, d in enumerate(SPREAD)])


def random_table(mean: float) -> pd.DataFrame:
    return pd.DataFrame([{"method": "random", "seed": i, "test_acc": mean + d} for i, d in enumerate(SPREAD)])


RHOS = {1: 0.8, 2: 0.9, 4: 1.0}


def test_every_count_worse_than_random():
    text = seeds.context(seed_table({1: 0.60, 2: 0.62, 4: 0.63}, RHOS), random_table(0.70))
    assert text.startswith("Every GraNd subset here (60.00% to 63.00%) is worse than random pruning beyond two "
                           "standard errors, so more initialisations can only sharpen a selection that hurts")


def test_one_count_within_noise_of_random():
    # four seeds are only 0.3 points below random: within the half-point floor, so not every count is worse
    text = seeds.context(seed_table({1: 0.60, 2: 0.62, 4: 0.697}, RHOS), random_table(0.70))
    assert text == "GraNd subsets reach 60.00% to 69.70% across initialisation counts."


def test_facts():
    profile = get_profile("smoke")
    tables = {"seeds": seed_table({1: 0.60, 2: 0.62, 4: 0.63}, RHOS), "random": random_table(0.70),
              "single": pd.DataFrame()}
    facts = seeds.facts(tables, profile)
    table = facts["table"].data
    assert list(table.columns) == ["mean test accuracy", "Spearman to the all-seed mean"]
    assert table["Spearman to the all-seed mean"].to_dict() == RHOS
    assert abs(table.loc[2, "mean test accuracy"] - 0.62) < 1e-12
    assert (facts["random"], facts["seeds"], facts["fraction"]) == ("70.00%", str(profile.score_seeds),
                                                                    f"{profile.study_fraction:.0%}")


def test_the_page_judges_its_claim():
    profile = get_profile("smoke")
    single = pd.DataFrame([{"score": "grand", "epoch": profile.score_epoch, "seed": s, "spearman_to_mean": 0.75}
                           for s in range(2)])
    tables = {"seeds": seed_table({1: 0.60, 2: 0.62, 4: 0.63}, RHOS), "random": random_table(0.70), "single": single}
    verdicts = seeds.verdicts(tables, profile)
    assert [v.claim_id for v in verdicts] == list(seeds.CLAIMS) == ["single_run"]
    assert verdicts[0].verdict == "reproduced"  # Spearman 0.75 and one seed worse than four


def test_run_reads_the_single_seed_table_of_the_score_agreement_page(monkeypatch):
    profile = get_profile("smoke")
    calls = []
    monkeypatch.setattr(seeds, "seed_count_sweep", lambda p, score, executor: calls.append(("sweep", score)) or "S")
    monkeypatch.setattr(seeds.score_agreement, "score_agreement", lambda p, executor: ("matrix", "single"))
    monkeypatch.setattr(seeds, "retrain", lambda p, selections, executor: selections)
    tables = seeds.run(profile)
    assert calls == [("sweep", "grand")] and tables["seeds"] == "S" and tables["single"] == "single"
    [(labels, kept)] = tables["random"]
    assert labels == {"method": "random"} and kept.size == prune.kept_size(profile.num_train, profile.study_fraction)
