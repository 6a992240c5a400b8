"""The landing page: every verdict recorded at a profile, one row per claim, in book order."""

from __future__ import annotations

import json
from concurrent.futures import Executor
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from analysis import chapters, rules
from analysis.plots import text_table
from analysis.profiles import Profile
from analysis.reference import published
from analysis.rules import Verdict
from analysis.store import RunStore, atomic_write

CLAIMS: tuple[str, ...] = ()
COLUMNS = ["claim_id", "claim", "ours", "paper", "verdict", "reason", "chapter"]
COLORS = {rules.REPRODUCED: "#1a7f37", rules.PARTLY: "#9a6700", rules.NOT: "#cf222e", rules.INCONCLUSIVE: "#57606a"}
# The paper's claims no page tests, and why (every other claim of `published_results.yaml` belongs to a page).
NOT_ATTEMPTED = {
    "cifar100_quarter": "CIFAR-100 (ResNet-50, the paper's Figure 1 middle) is not in this project's data and a "
                        "ResNet-50 sweep is beyond a CPU's budget; its loader is tested on files in the official "
                        "format and the `paper` profile runs it on a GPU cluster.",
}


def _folder(store: RunStore) -> Path:
    return store.root / "verdicts"


def record(store: RunStore, verdict: Verdict) -> None:
    """Store one verdict atomically under `results/<profile>/verdicts/<claim id>.json` (pages call it via
    `analysis.chapter.page`)."""
    text = json.dumps({**asdict(verdict), "claim": verdict.claim}, indent=1)
    atomic_write(_folder(store) / f"{verdict.claim_id}.json", lambda tmp: tmp.write_text(text))


def recorded(store: RunStore) -> pd.DataFrame:
    """Every verdict recorded in `store` (by `record`), one row per claim, in book order."""
    folder = _folder(store)
    card = pd.DataFrame([json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))], columns=COLUMNS)
    order = {name: i for i, name in enumerate(chapters.EXECUTION_ORDER)}
    return card.sort_values("chapter", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


def pending(card: pd.DataFrame) -> list[str]:
    """Pages that judge claims but have none of them on the scorecard `card` yet, in book order."""
    judged = set(card["chapter"])
    return [name for name in chapters.PAGES if chapters.module(name).CLAIMS and name not in judged]


def not_attempted() -> pd.DataFrame:
    """The claims no page tests, as scorecard rows (verdict inconclusive, the reason saying why)."""
    rows = [{**asdict(v), "claim": v.claim} for v in (rules.not_attempted(c, why) for c, why in NOT_ATTEMPTED.items())]
    return pd.DataFrame(rows, columns=COLUMNS)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `card`, the recorded verdicts, then the claims not attempted."""
    return {"card": pd.concat([recorded(store), not_attempted()], ignore_index=True)}


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    card = tables["card"].assign(page=lambda c: [f'<a href="{name}.html">{name}</a>' for name in c["chapter"]])
    table = (text_table(card[["claim", "ours", "paper", "verdict", "page"]].style.hide(axis="index"))
             .map(lambda v: f"color: {COLORS.get(v, 'inherit')}; font-weight: bold", subset=["verdict"]))
    kirsch = published()["kirsch_jax"]
    half = kirsch["test_accuracy"]["fraction_pruned"].index(0.5)
    todo = pending(tables["card"])
    return {
        **{f"kirsch_{key}": f"{kirsch['test_accuracy'][method][half]:.2f}%"
           for key, method in (("el2n", "el2n_20"), ("random", "random"), ("grand_init", "grand_init"))},
        "kirsch_rho": f"{kirsch['spearman']['grand_init_vs_input_norm']:.2f}",
        "table": table,
        "claims": str(len(card)),
        "pending": (f"Not yet run at this profile: {', '.join(todo)}. Those pages still show an earlier profile "
                    "(each page names its own), and their claims are missing from the table.") if todo
        else f"Every chapter has run at the {profile.name} profile.",
        **{key: str(int((card["verdict"] == verdict).sum()))
           for key, verdict in (("reproduced", rules.REPRODUCED), ("partly", rules.PARTLY), ("not", rules.NOT),
                                ("inconclusive", rules.INCONCLUSIVE))},
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return []
