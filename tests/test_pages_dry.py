"""Every page's notebook runs at the `laptop` and `paper` profiles on stand-in training (benchmarks/plan_book.py's
`dry_training`): a page must not fail on a profile's shapes only after hours of its sweep.

Only the shapes are tested here: the numbers are drawn. The notebooks' code cells run in this process, in
execution order (the scorecard reads the verdicts the other pages record), with the results in a fresh folder and
the tables' downloads not written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import pytest

from analysis import chapter
from analysis.profiles import get_profile
from analysis.reference import published
from analysis.reproduce import EXECUTION_ORDER
from analysis.store import RunStore

REPO = Path(__file__).resolve().parents[1]


GLUED = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`|```\{glue(?::\w+)?\}\s+(\S+)")  # inline roles and directives


def cells(name: str, kind: str) -> list[dict]:
    return [c for c in json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())["cells"]
            if c["cell_type"] == kind]


def referenced(name: str) -> set[str]:
    """The glued names the prose of `notebooks/<name>.ipynb` shows."""
    return {a or b for c in cells(name, "markdown") for a, b in GLUED.findall("".join(c["source"]))}


@pytest.mark.parametrize("profile", ["laptop", "paper"])
def test_every_page_runs_on_stand_in_training(plan_book, profile, results_dir, monkeypatch, capsys):
    matplotlib.use("Agg")
    store = RunStore(profile, results_dir)
    glued: set[str] = set()
    real_glue = chapter.glue
    monkeypatch.setattr(chapter, "glue", lambda key, *args, **kwargs: (glued.add(key), real_glue(key, *args, **kwargs)))
    monkeypatch.setattr(chapter, "write_tables", lambda *args: [])  # the downloads: tested at smoke, slow at 50,000
    with plan_book.dry_training(get_profile(profile), store):
        for name in EXECUTION_ORDER:
            glued.clear()
            namespace: dict = {}
            for cell in cells(name, "code"):
                exec(compile("".join(cell["source"]), f"{name}.ipynb", "exec"), namespace)
                if "parameters" in cell["metadata"].get("tags", []):
                    namespace.update(PROFILE=profile, EXECUTOR=None, RESULTS=str(results_dir))
            assert namespace["page"].profile.name == profile
            assert not referenced(name) - glued, f"{name} at {profile}: prose shows names never glued"
    capsys.readouterr()  # glue's displays
    card = namespace["page"].tables["card"]  # the scorecard, last: every page's verdicts
    assert sorted(card["claim_id"]) == sorted(c["id"] for c in published()["paper"]["claims"])
