"""The regeneration audit: stored runs recomputed with today's code, differences against the seed noise."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from analysis.audit import audit
from analysis.profiles import get_profile
from analysis.store import RunStore
from analysis.train import DataSpec, TrainConfig, run_training

TINY = TrainConfig(data=DataSpec("cifar10", train_per_class=20, test_examples=200), model="resnet18", width=8,
                   steps=6, batch_size=50, eval_every=3)


def test_audit_recomputes_stored_runs_and_flags_a_changed_number(results_dir):
    profile = replace(get_profile("smoke"), name="unit")
    store = RunStore("unit", results_dir)
    runs = [run_training(replace(TINY, seed=s), store).metrics for s in (0, 1)]
    table = audit(profile, store, runs=2)
    assert table["identical"].all() and (table["difference"] == 0).all()
    assert sorted(table["stored_test_acc"]) == sorted(m["final_test_acc"] for m in runs)
    # a stored number today's code does not give
    folder = store.path("train", replace(TINY, seed=0).key_dict())
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["final_test_acc"] += 0.1
    metrics["test_acc"][-1][1] += 0.1
    (folder / "metrics.json").write_text(json.dumps(metrics))
    row = audit(profile, store, runs=2).set_index("seed").loc[0]
    assert not row["identical"] and row["difference"] == pytest.approx(-0.1)
    assert TrainConfig.from_key_dict(replace(TINY, seed=0).key_dict()) == replace(TINY, seed=0)


def test_audit_of_an_empty_profile_says_what_to_run(results_dir):
    with pytest.raises(ValueError, match="reproduce --profile unit"):
        audit(replace(get_profile("smoke"), name="unit"), RunStore("unit", results_dir), runs=1)


def test_the_methods_page_shows_every_committed_audit(tmp_path):
    from analysis.audit import COLUMNS
    from analysis.reproduce import audit_markdown

    assert audit_markdown(tmp_path) == "No audit is committed yet."
    row = ["0123456789abcdef", "resnet18 w8", 3, 2, 0.5950, 0.5931, -0.0019, -0.0019 / 0.02, False]
    (tmp_path / "results" / "scarce").mkdir(parents=True)
    (tmp_path / "results" / "scarce" / "audit.csv").write_text(
        ",".join(COLUMNS) + "\n" + ",".join(map(str, row)) + "\n")
    lines = audit_markdown(tmp_path).splitlines()
    assert len(lines) == 3
    assert lines[2] == "| `scarce` | `01234567` | resnet18 w8 | 3 | 2 | 59.50% | 59.31% | -0.19 | -0.10 | no |"
