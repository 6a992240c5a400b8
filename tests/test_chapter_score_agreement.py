"""The score-agreement page: Spearman matrix, Kirsch's pairs, and the sentence on GraNd at init by width."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import reference
from analysis.chapters import score_agreement
from analysis.chapters.score_agreement import WIDTH_MARGIN, width_conclusion
from analysis.profiles import PAPER, get_profile

KIRSCH_RHO = 0.80


def test_spearman_matrix_ranks_the_vectors():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    m = score_agreement.spearman_matrix({"a": x, "b": x ** 3, "c": -x})
    assert list(m.index) == list(m.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(m.to_numpy(), [[1, 1, -1], [1, 1, -1], [-1, -1, 1]])


def seed_mean(own: float, paper: float, own_width: int = 4) -> pd.Series:
    return pd.Series({own_width: own, 2 * own_width: (own + paper) / 2, PAPER.width: paper})


def test_rising_with_width_and_reaching_kirsch():
    text = width_conclusion(seed_mean(0.40, 0.78), 4, KIRSCH_RHO)
    assert text.startswith("The correlation rises with width and at width 64 comes within 0.05 of Kirsch's 0.80")


def test_rising_with_width_but_short_of_kirsch():
    text = width_conclusion(seed_mean(0.40, 0.60), 4, KIRSCH_RHO)
    assert text.startswith("The correlation rises with width, but at width 64 it still differs from Kirsch's 0.80 "
                           "by more than 0.05")


def test_not_rising_with_width():
    text = width_conclusion(seed_mean(0.50, 0.52), 4, KIRSCH_RHO)
    assert text == "The correlation does not rise with width, so width does not explain the gap to Kirsch's 0.80."


def test_the_margins():
    # exactly WIDTH_MARGIN higher does not count as rising; just above it does
    assert "does not rise" in width_conclusion(seed_mean(0.5, 0.5 + WIDTH_MARGIN), 4, KIRSCH_RHO)
    assert "rises" in width_conclusion(seed_mean(0.5, 0.5 + WIDTH_MARGIN + 0.001), 4, KIRSCH_RHO)
    # just inside WIDTH_MARGIN of Kirsch's value (either side) counts as reaching it, just outside does not
    assert "comes within" in width_conclusion(seed_mean(0.25, 0.5), 4, 0.5 + WIDTH_MARGIN - 0.001)
    assert "comes within" in width_conclusion(seed_mean(0.25, 0.5), 4, 0.5 - WIDTH_MARGIN + 0.001)
    assert "still differs" in width_conclusion(seed_mean(0.25, 0.5), 4, 0.5 + WIDTH_MARGIN + 0.001)


def test_the_paper_width_is_the_paper_profiles():
    assert PAPER.width == 64
    assert "at width 32" in width_conclusion(pd.Series({4: 0.4, 32: 0.78}), 4, KIRSCH_RHO, paper_width=32)


def tables(profile) -> dict[str, pd.DataFrame]:
    """Hand-made tables of the smoke profile (score epochs 0 and 0.5, two seeds, widths 4 to 64)."""
    names = ["el2n@0", "el2n@0.5", "grand@0", "grand@0.5", "forgetting", "input_norm"]
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    matrix.loc["grand@0", "input_norm"] = matrix.loc["input_norm", "grand@0"] = 0.4321
    matrix.loc["grand@0.5", "el2n@0.5"] = matrix.loc["el2n@0.5", "grand@0.5"] = 0.9
    single = pd.DataFrame([{"score": s, "epoch": e, "seed": i, "spearman_to_mean": rho}
                           for s, base in (("el2n", 0.9), ("grand", 0.7)) for e in profile.score_epochs.epochs
                           for i, rho in enumerate((base - 0.01, base + 0.01))])
    widths = score_agreement.init_widths(profile)
    rows = []
    for k, w in enumerate(widths):
        rows += [{"width": w, "seeds": 1, "seed": s, "spearman": 0.3 + 0.1 * k + d} for s, d in enumerate((0, 0.02))]
        rows.append({"width": w, "seeds": 2, "seed": np.nan, "spearman": 0.35 + 0.1 * k})
    return {"matrix": matrix, "single": single, "widths": pd.DataFrame(rows)}


def test_facts():
    profile = get_profile("smoke")
    facts = score_agreement.facts(tables(profile), profile)
    kirsch = reference.published()["kirsch_jax"]["spearman"]
    compared = facts["kirsch"].data
    assert compared.loc["grand_init_vs_input_norm", "our pair"] == "grand@0 vs input_norm"
    assert compared.loc["grand_20_vs_el2n_20", "our pair"] == "grand@0.5 vs el2n@0.5"
    assert compared.loc["grand_20_vs_el2n_20", "ours (smoke)"] == 0.9
    assert compared["Kirsch (JAX, 10 runs)"].to_dict() == {k: kirsch[k] for k in compared.index}
    assert (facts["rho_grand"], facts["rho_el2n"], facts["epoch"], facts["seeds"]) == ("0.70", "0.90", "0.5", "2")
    assert facts["init_norm"] == "0.432"
    assert facts["kirsch_init_norm"] == f"{kirsch['grand_init_vs_input_norm']:.3f}"
    assert facts["single_run_claim"] == reference.claim("single_run")
    # widths 4, 8, 16, 32, 64: one seed 0.31 at width 4 and 0.71 at 64 (mean of two); the seed mean 0.35 and 0.75
    assert (facts["w_own"], facts["w_own_one"], facts["w_own_mean"]) == ("4", "0.31", "0.35")
    assert (facts["w_paper_one"], facts["w_paper_mean"]) == ("0.71", "0.75")
    assert facts["w_examples"] == f"{min(profile.score_agreement.init_check_examples, profile.num_train):,}"
    assert facts["w_conclusion"] == width_conclusion(pd.Series({4: 0.35, 64: 0.75}), 4,
                                                     kirsch["grand_init_vs_input_norm"])
    assert score_agreement.verdicts(tables(profile), profile) == [] and score_agreement.CLAIMS == ()


@pytest.mark.parametrize("name", ["smoke", "paper"])
def test_init_widths_double_up_to_the_paper_width(name):
    widths = score_agreement.init_widths(get_profile(name))
    assert widths[0] == get_profile(name).width and widths[-1] == PAPER.width
    assert all(b == 2 * a for a, b in itertools.pairwise(widths))


def test_per_example_table_holds_each_examples_means_and_seeds():
    means = {"el2n@1": torch.tensor([0.5, 0.25]), "input_norm": torch.tensor([3.0, 4.0])}
    seeds = {"el2n@1": torch.tensor([[0.4, 0.2], [0.6, 0.3]])}
    table = score_agreement.per_example_table(torch.tensor([7, 3]), torch.tensor([1, 0]), means, seeds)
    assert list(table.columns) == ["label", "el2n@1 mean", "el2n@1 seed 0", "el2n@1 seed 1", "input_norm mean"]
    assert table.index.name == "index" and list(table.index) == [7, 3] and list(table["label"]) == [1, 0]
    assert table.loc[3, "el2n@1 seed 1"] == pytest.approx(0.3) and table.loc[7, "input_norm mean"] == 3.0
    assert table["el2n@1 mean"].dtype == np.float32
