"""One module per book page, named as its notebook (`notebooks/<name>.ipynb`).

Each page module has the same three functions and one constant:
- `run(profile, executor) -> dict[str, DataFrame]`: the page's sweep, through the run store;
- `facts(tables, profile) -> dict`: every number, table and sentence choice the page's prose shows;
- `verdicts(tables, profile) -> list[Verdict]`: its claims judged by `analysis.rules`;
- `CLAIMS`: the ids of the claims it judges (empty for pages that show evidence without a verdict).

`PARTS` is the book's table of contents: `_toc.yml` is checked against it by the tests.
"""

from __future__ import annotations

import importlib
from types import ModuleType

LANDING = "scorecard"  # the landing page: every recorded verdict
PARTS: dict[str, tuple[str, ...]] = {
    "Core figures": ("pruning_curves", "score_epochs", "score_agreement", "seeds", "transfer", "galleries"),
    "When and why": ("regime", "noise", "offsets"),
    "Training dynamics": ("lmc", "ntk"),
}
PAGES: tuple[str, ...] = tuple(name for part in PARTS.values() for name in part)
EXECUTION_ORDER: tuple[str, ...] = (*PAGES, LANDING)  # the landing page collects the others' verdicts


def module(name: str) -> ModuleType:
    """The page module called `name`."""
    if name not in EXECUTION_ORDER:
        raise ValueError(f"Unknown page {name!r}: choose from {', '.join(EXECUTION_ORDER)}.")
    return importlib.import_module(f"analysis.chapters.{name}")
