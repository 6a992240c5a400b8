"""The score-agreement page: Spearman matrix, Kirsch's pairs, and the sentence on GraNd at init by width."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import reference, statistics
from analysis.chapters import score_agreement
from analysis.chapters.score_agreement import WIDTH_MARGIN, width_conclusion
from analysis.profiles import PAPER, get_profile

KIRSCH_RHO = 0.80


def test_spearman_matrix_ranks_the_vectors():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    m = score_agreement.spearman_matrix({"a": x, "b": x ** 3, "c": -x})
    assert list(m.index) == list(m.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(m.to_numpy(), [[1, 1, -1], [1, 1, -1], [-1, -1, 1]])


SMOKE, LAPTOP = get_profile("smoke"), get_profile("laptop")


def seed_mean(own: float, paper: float, model: str = "resnet18", own_width: int = 4,
              paper_net: float | None = None) -> pd.Series:
    """Seed-mean Spearman by (model, width): `own` at the profile's width, `paper` at the paper's width, and
    `paper_net` on the paper's network where the profile's is another."""
    means = {(model, own_width): own, (model, 2 * own_width): (own + paper) / 2, (model, PAPER.width): paper}
    return pd.Series(means | ({} if paper_net is None else {(PAPER.model, PAPER.width): paper_net}))


def test_rising_with_width_and_reaching_kirsch():
    text = width_conclusion(seed_mean(0.40, 0.78), SMOKE, KIRSCH_RHO)
    assert text.startswith("The correlation rises with width and at width 64 comes within 0.05 of Kirsch's 0.80")


def test_rising_with_width_but_short_of_kirsch_names_what_remains():
    text = width_conclusion(seed_mean(0.40, 0.60), SMOKE, KIRSCH_RHO)
    assert text.startswith("The correlation rises with width, but at width 64 it still differs from Kirsch's 0.80 "
                           "by more than 0.05")
    assert f"fewer initialisations than his 10 ({SMOKE.score_seeds})" in text and "a sample of 64 images" in text


def test_not_rising_with_width():
    text = width_conclusion(seed_mean(0.50, 0.52), SMOKE, KIRSCH_RHO)
    assert text == "The correlation does not rise with width, so width does not explain the gap to Kirsch's 0.80."


def test_the_margins():
    # exactly WIDTH_MARGIN higher does not count as rising; just above it does
    assert "does not rise" in width_conclusion(seed_mean(0.5, 0.5 + WIDTH_MARGIN), SMOKE, KIRSCH_RHO)
    assert "rises" in width_conclusion(seed_mean(0.5, 0.5 + WIDTH_MARGIN + 0.001), SMOKE, KIRSCH_RHO)
    # just inside WIDTH_MARGIN of Kirsch's value (either side) counts as reaching it, just outside does not
    assert "comes within" in width_conclusion(seed_mean(0.25, 0.5), SMOKE, 0.5 + WIDTH_MARGIN - 0.001)
    assert "comes within" in width_conclusion(seed_mean(0.25, 0.5), SMOKE, 0.5 - WIDTH_MARGIN + 0.001)
    assert "still differs" in width_conclusion(seed_mean(0.25, 0.5), SMOKE, 0.5 + WIDTH_MARGIN + 0.001)


def test_at_the_paper_width_only_the_match_is_judged():
    paper = get_profile("paper")
    means = pd.Series({(PAPER.model, PAPER.width): 0.78})
    assert width_conclusion(means, paper, KIRSCH_RHO) == ("At the paper's width the seed mean comes within 0.05 of "
                                                          "Kirsch's 0.80: our GraNd reproduces his control.")
    text = width_conclusion(means, paper, 0.9)
    assert "differs from Kirsch's 0.90" in text and "fewer initialisations" not in text  # 10 runs, as his


def test_another_network_is_judged_on_its_own_widths_and_the_paper_network_against_kirsch():
    means = seed_mean(0.30, 0.45, "airbench", 24, paper_net=0.78)
    text = width_conclusion(means, LAPTOP, KIRSCH_RHO)
    assert text.startswith("On our network the correlation rises with width (0.30 at width 24, 0.45 at 64). On the "
                           "paper's network, ResNet-18 width 64, the seed mean comes within 0.05 of Kirsch's 0.80")
    flat = width_conclusion(seed_mean(0.30, 0.32, "airbench", 24, paper_net=0.60), LAPTOP, KIRSCH_RHO)
    assert flat.startswith("On our network the correlation does not rise with width")
    assert "still differs from Kirsch's 0.80 by more than 0.05" in flat


def tables(profile) -> dict[str, pd.DataFrame]:
    """Hand-made tables of a profile (its score epochs, two seeds, the networks of `init_networks`)."""
    e = f"{profile.score_epoch:g}"
    names = [f"{s}@{t:g}" for s in ("el2n", "grand") for t in profile.score_epochs.epochs] + ["forgetting",
                                                                                             "input_norm"]
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    matrix.loc["grand@0", "input_norm"] = matrix.loc["input_norm", "grand@0"] = 0.4321
    matrix.loc[f"grand@{e}", f"el2n@{e}"] = matrix.loc[f"el2n@{e}", f"grand@{e}"] = 0.9
    single = pd.DataFrame([{"score": s, "epoch": e, "seed": i, "spearman_to_mean": rho}
                           for s, base in (("el2n", 0.9), ("grand", 0.7)) for e in profile.score_epochs.epochs
                           for i, rho in enumerate((base - 0.01, base + 0.01))])
    rows = []
    for k, (model, w) in enumerate(score_agreement.init_networks(profile)):
        rows += [{"model": model, "width": w, "seeds": 1, "seed": s, "spearman": 0.3 + 0.1 * k + d}
                 for s, d in enumerate((0, 0.02))]
        rows.append({"model": model, "width": w, "seeds": 2, "seed": np.nan, "spearman": 0.35 + 0.1 * k})
    return {"matrix": matrix, "single": single, "widths": pd.DataFrame(rows)}


def test_facts():
    profile = get_profile("smoke")
    facts = score_agreement.facts(tables(profile), profile)
    kirsch = reference.published()["kirsch_jax"]["spearman"]
    compared = facts["kirsch"].data
    assert compared.loc["GraNd@0 vs input norm", "our pair"] == "GraNd@0 vs input norm"
    assert compared.loc["GraNd@20 vs EL2N@20", "our pair"] == "GraNd@0.5 vs EL2N@0.5"
    assert compared.loc["GraNd@20 vs EL2N@20", "ours (smoke)"] == 0.9
    assert compared["Kirsch (JAX, 10 runs)"].tolist() == [kirsch[k] for k in (
        "grand_init_vs_input_norm", "grand_init_vs_grand_20", "grand_init_vs_forgetting", "grand_20_vs_el2n_20",
        "forgetting_vs_el2n_20")]
    assert (facts["rho_grand"], facts["rho_el2n"], facts["epoch"], facts["seeds"]) == ("0.70", "0.90", "0.5", "2")
    assert facts["init_norm"] == "0.432"
    assert facts["kirsch_init_norm"] == f"{kirsch['grand_init_vs_input_norm']:.3f}"
    assert facts["single_run_claim"] == reference.claim("single_run")
    # widths 4, 8, 16, 32, 64: one seed 0.31 at width 4 and 0.71 at 64 (mean of two); the seed mean 0.35 and 0.75
    # the width study scores 64 of the 1,000 images; the sentence points to the table's coefficient on all of them
    assert facts["w_measured"] == ("on our network (ResNet-18) at its width 4 one initialisation gives Spearman 0.31 "
                                   "and the seed mean 0.35 (0.43 on all 1,000 training images, in the table above); "
                                   "at width 64, 0.71 and 0.75")
    every = replace(SMOKE, score_agreement=replace(SMOKE.score_agreement, init_check_examples=SMOKE.num_train))
    assert "in the table above" not in score_agreement.facts(tables(every), every)["w_measured"]
    assert facts["w_examples"] == "64"  # smoke's init_check_examples
    means = pd.Series({("resnet18", 4): 0.35, ("resnet18", 64): 0.75})
    assert facts["w_conclusion"] == width_conclusion(means, profile, kirsch["grand_init_vs_input_norm"])
    assert facts["kirsch_runs"] == "10" and "Kirsch (JAX, 10 runs)" in compared.columns
    assert score_agreement.verdicts(tables(profile), profile) == [] and score_agreement.CLAIMS == ()


def test_pairs_far_from_kirsch_are_named():
    compared = pd.DataFrame({"our pair": ["a vs b", "c vs d", "e vs f"], "Kirsch": [0.9, 0.5, 0.3],
                             "ours": [0.6, 0.45, 0.55]}, index=["A vs B", "C vs D", "E vs F"])
    assert score_agreement.kirsch_gaps(compared) == (
        "Ours differ from his by more than 0.2 for 2 of the 3 pairs (a vs b, 0.60 against his 0.90; e vs f, 0.55 "
        "against his 0.30): his coefficients come from the authors' ResNet-18 at the paper's score epoch, ours from "
        "this profile's network at its own.")
    assert score_agreement.kirsch_gaps(compared.iloc[[1]]) == "Every pair is within 0.2 of Kirsch's coefficient."


def test_facts_of_a_profile_on_another_network_name_the_paper_network():
    facts = score_agreement.facts(tables(LAPTOP), LAPTOP)  # airbench at widths 24, 48, 64, then ResNet-18 width 64
    assert facts["w_measured"] == ("on our network (airbench94-shaped network) at its width 24 one initialisation "
                                   "gives Spearman 0.31 and the seed mean 0.35 (0.43 on all 50,000 training images, in "
                                   "the table above); at width 64, 0.51 and 0.55; on the paper's network (ResNet-18 "
                                   "width 64), 0.61 and 0.65")
    assert facts["w_conclusion"].startswith("On our network the correlation rises with width (0.35 at width 24")


@pytest.mark.parametrize("name", ["smoke", "scarce", "paper", "laptop"])
def test_init_networks_double_the_width_up_to_the_paper_network(name):
    profile = get_profile(name)
    networks = score_agreement.init_networks(profile)
    own = [w for m, w in networks if m == profile.model]
    assert own[0] == profile.width and own[-1] == PAPER.width and networks[-1] == (PAPER.model, PAPER.width)
    assert all(b == min(2 * a, PAPER.width) for a, b in itertools.pairwise(own))
    assert len(networks) == len(own) + (profile.model != PAPER.model)


def test_per_example_table_holds_each_examples_means_and_seeds():
    means = {"el2n@1": torch.tensor([0.5, 0.25]), "input_norm": torch.tensor([3.0, 4.0])}
    seeds = {"el2n@1": torch.tensor([[0.4, 0.2], [0.6, 0.3]])}
    table = score_agreement.per_example_table(torch.tensor([7, 3]), torch.tensor([1, 0]), means, seeds)
    assert list(table.columns) == ["label", "el2n@1 mean", "el2n@1 seed 0", "el2n@1 seed 1", "input_norm mean"]
    assert table.index.name == "index" and list(table.index) == [7, 3] and list(table["label"]) == [1, 0]
    assert table.loc[3, "el2n@1 seed 1"] == pytest.approx(0.3) and table.loc[7, "input_norm mean"] == 3.0
    assert table["el2n@1 mean"].dtype == np.float32


def test_a_profile_wider_than_the_paper_checks_both_widths():
    wide = replace(PAPER, width=128)
    assert score_agreement.init_networks(wide) == (("resnet18", 64), ("resnet18", 128))
    means = pd.Series({("resnet18", 64): 0.9, ("resnet18", 128): 0.95})
    assert width_conclusion(means, wide, 0.92).startswith("At the paper's width the seed mean comes within 0.05")


def test_spearman_brown_predicts_the_agreement_with_a_larger_mean():
    # runs of pairwise correlation 0.3: one against the mean of 3 others has 0.3 / sqrt(0.3 + 0.7 / 3)
    rho = 0.3 / math.sqrt(0.3 + 0.7 / 3)
    others, including = statistics.spearman_brown(rho, 3, 10)
    assert others == pytest.approx(0.3 / math.sqrt(0.3 + 0.07)) and including == pytest.approx(math.sqrt(0.37))
    assert statistics.spearman_brown(0.5, 1, 1) == pytest.approx((0.5, 1.0))  # one other run: the pair
    assert score_agreement.predicted(rho, get_profile("laptop")) == ("0.49 against a mean of 10 runs without it, "
                                                                    "0.61 with it")
    assert score_agreement.predicted(rho, replace(get_profile("laptop"), score_seeds=1)).startswith("cannot")
