"""benchmarks/plan_book.py: the book's cost counted dry, on an empty store at `smoke`."""

from __future__ import annotations

import pytest

from analysis import chapters
from analysis.chapters import lmc
from analysis.profiles import get_profile


def test_an_empty_store_trains_everything_and_lmc_children_count_from_their_spawn_point(plan_book):
    profile = get_profile("smoke")
    table = plan_book.plan("smoke")
    assert list(table.index) == list(chapters.PAGES)
    # nothing is stored: every distinct run is still to train, and a run shared by pages counts once
    assert table["to train (run-equivalents)"].sum() <= table["run-equivalents"].sum()
    assert (table["new runs"] <= table["runs"]).all() and table["new runs"].sum() > 0
    # the LMC page: the score runs its EL2N groups come from (the parent among them; earlier pages served them
    # first) and its children, each from its spawn step
    children = sum(2 * lmc.pairs(profile, e, g) * (1 - profile.step(e) / profile.steps)
                   for e in profile.lmc.spawn_epochs for g in ("low", "high", "random", "full"))
    assert table.loc["lmc", "run-equivalents"] == pytest.approx(profile.score_seeds + children)
    assert table.loc["lmc", "to train (run-equivalents)"] == pytest.approx(children)
