"""benchmarks/plan_book.py: the book's cost counted dry, on an empty store at `smoke`."""

from __future__ import annotations

import pytest

from analysis import chapters
from analysis.chapters import lmc
from analysis.models import build_model, multiply_adds
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


def test_a_run_counts_its_networks_multiply_adds_per_step(plan_book, monkeypatch):
    weighted = plan_book.plan("smoke")
    monkeypatch.setattr(plan_book, "step_cost", lambda model, width: 1)
    flat = plan_book.plan("smoke")
    # only the transfer page trains another network than the profile's (its VGG-11 targets)
    others = [page for page in flat.index if page != "transfer"]
    assert weighted.loc[others].values == pytest.approx(flat.loc[others].values)
    profile = get_profile("smoke")
    ((model, width),) = [m for m in profile.transfer.models if m[0] != profile.model]
    ratio = multiply_adds(build_model(model, 10, width)) / multiply_adds(build_model(profile.model, 10, profile.width))
    vgg_runs = (weighted.loc["transfer", "run-equivalents"] - flat.loc["transfer", "run-equivalents"]) / (ratio - 1)
    assert ratio > 1 and vgg_runs > 0 and vgg_runs == pytest.approx(round(vgg_runs))  # whole, full-length VGG runs
