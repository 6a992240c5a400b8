"""What every page notebook does around its page module: open the page, glue its facts, record its verdicts.

A notebook calls `page(NAME, PROFILE, EXECUTOR, RESULTS)` once (its parameters); every number in its prose is glued from
there (myst-nb `glue`), never typed by hand. Glue keys are the fact names of the page module,
`<claim id>_<field>` for each verdict (field: verdict, ours, paper, reason, claim), and `protocol` (the page's
departures from the paper's protocol, `departures`), `profile`, `hardware`, `compute`, `date` and `banner` (the scale
of the page, shown at its top). A figure is glued by `figure` under its name, its caption under `<name>_caption`.
"""

from __future__ import annotations

import gzip
import io
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown
from matplotlib.figure import Figure

from analysis import chapters, reference
from analysis.chapters import scorecard
from analysis.plots import describe, finish, text_table, use_style
from analysis.profiles import Profile, get_profile, protocol_table
from analysis.rules import Verdict
from analysis.score_runs import score_run_config
from analysis.store import REPO_ROOT, RunStore, atomic_write, results_root
from analysis.sweep import make_executor

VERDICT_FIELDS = ("verdict", "ours", "paper", "reason", "claim")


class _Text:
    """Text for `{glue:text}` in prose, shown exactly as given.

    myst-nb passes a glued plain representation through `ast.literal_eval`, which would turn
    "1,000" into "(1, 0)"; a one-line string literal evaluates back to the text itself.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)


def glue(name: str, value, display: bool = False) -> None:
    """myst-nb's glue; strings are glued as bare text."""
    from myst_nb import glue as myst_glue

    myst_glue(name, _Text(value) if isinstance(value, str) else value, display=display)


def hardware() -> str:
    """The machine this kernel runs on, in words."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    threads = torch.get_num_threads()
    return f"CPU ({platform.machine()}, {threads} thread{'s' if threads != 1 else ''})"


def stored_full_data(profile: Profile, store: RunStore) -> list[float]:
    """Final test accuracies (0-1) of the profile's full-data runs (its score runs) already in `store`; trains none."""
    results = (store.load("train", score_run_config(profile, seed).key_dict()) for seed in range(profile.score_seeds))
    return [r.metrics["final_test_acc"] for r in results if r is not None]


def duration(seconds: float) -> str:
    """A compute time in words: minutes below two hours, hours from there."""
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def banner(profile: Profile, full_test_acc: list[float], published_full: dict[str, float]) -> str:
    """One paragraph on the scale a page was computed at: the profile, its data and network, our full-data test
    accuracy (mean of `full_test_acc`, 0-1, over the seeds stored) beside the published full-data accuracies
    (`published_full`: source -> percent, as `reference.full_data_accuracy`)."""
    if full_test_acc:
        n = len(full_test_acc)
        seeds = (f"mean of {n} seeds" if n == profile.score_seeds > 1 else "one seed" if n == profile.score_seeds
                 else f"{n} of its {profile.score_seeds} seeds stored so far")
        ours = f"Our full-data network reaches {np.mean(full_test_acc):.1%} test accuracy ({seeds})"
    else:
        ours = "Its full-data runs are not stored yet, so this page states no full-data accuracy"
    theirs = "".join(f"{reference.SOURCES.get(name, name)}, {acc:.2f}%; " for name, acc in published_full.items())
    scale = describe(profile)
    return (f"{scale[0].upper()}{scale[1:]}. {ours}. Published full-data test accuracy on CIFAR-10: "
            f"{theirs}the paper (ResNet-18, 200 epochs) draws its own in a figure only.")


def judged_at(profile: Profile, full_test_acc: list[float]) -> str:
    """Where a page's verdicts hold, in words, to open its verdict section: the profile, its training set, and our
    full-data test accuracy (mean of `full_test_acc`, 0-1) where stored."""
    data = f"{profile.num_train:,} training images"
    accuracy = f"; full-data test accuracy {np.mean(full_test_acc):.1%}" if full_test_acc else ""
    return f"Judged at profile {profile.name} ({data}{accuracy})"


PAGE_ROWS = {"fractions pruned": "pruning_curves"}  # rows of `protocol_table` that are one page's own study setting


def departures(profile: Profile, name: str) -> pd.DataFrame:
    """The rows of `protocol_table(profile)` where `profile` departs from the paper (setting, paper, this page), less
    the other pages' own settings (`PAGE_ROWS`): the protocol table of page `name`; the full one is on Methods."""
    rows = [row for row in protocol_table(profile) if row[1] != row[2] and PAGE_ROWS.get(row[0], name) == name]
    return pd.DataFrame(rows, columns=["setting", "paper", f"this page ({profile.name})"])


def rerun(name: str, profile: Profile) -> str:
    """The command that re-executes page `name` alone at `profile` (results come from the run store)."""
    return f"Re-run this page alone: python -m analysis reproduce --only {name} --profile {profile.name}"


GZIP_ROWS = 10_000  # per-example tables (50,000 rows a score at the laptop profile) are written compressed


def write_tables(tables: dict, folder: Path) -> list[Path]:
    """Each table (DataFrame) of a page as `<folder>/<name>.csv` (`.csv.gz` beyond `GZIP_ROWS` rows), written
    atomically, for readers to download. The same table always gives the same bytes."""
    written = []
    for key, table in tables.items():
        if isinstance(table, pd.DataFrame):
            text, compress = table.to_csv(), len(table) > GZIP_ROWS
            data = _gzip(text) if compress else text.encode()
            path = folder / f"{key}.csv{'.gz' if compress else ''}"
            written.append(atomic_write(path, lambda tmp, data=data: tmp.write_bytes(data)))
    return written


def _gzip(text: str) -> bytes:
    """gzip without a timestamp or a file name in its header."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as f:
        f.write(text.encode())
    return out.getvalue()


def downloads(paths: list[Path]) -> str:
    """Where a page's tables are, in words: relative to the repository where they are inside it."""
    if not paths:
        return "This page has no tables to download."
    folder = paths[0].parent
    where = folder.relative_to(REPO_ROOT) if folder.is_relative_to(REPO_ROOT) else Path(
        "<results root>", *folder.parts[-3:])
    return f"Its tables as CSV: {where}/ ({', '.join(p.name for p in paths)})."


def figure(name: str, fig: Figure, caption: str) -> None:
    """Glue `fig` as `name` and its `caption` as `<name>_caption`, for a ```{glue:figure}``` of the prose; the
    figure is not shown where it is made."""
    glue(name, finish(fig))
    glue(f"{name}_caption", caption)
    plt.close(fig)


@dataclass(frozen=True)
class Page:
    """An opened page: its profile, the tables its figures draw, and what its prose says."""

    name: str
    profile: Profile
    tables: dict[str, pd.DataFrame]
    facts: dict
    verdicts: list[Verdict]


def page(name: str, profile: str | None = None, executor: str | None = None, results: str | None = None) -> Page:
    """Run page `name` at `profile` through the run store under `results` (default: `results_root()`), glue its
    facts and verdicts, and record the verdicts."""
    use_style()
    prof, module = get_profile(profile), chapters.module(name)
    store = RunStore(prof.name, Path(results) if results else results_root())
    tables = module.run(prof, store, make_executor(executor))
    facts, verdicts = module.facts(tables, prof), module.verdicts(tables, prof)
    for key, value in facts.items():
        glue(key, value)
    for verdict in verdicts:
        scorecard.record(store, verdict)
        for field in VERDICT_FIELDS:
            glue(f"{verdict.claim_id}_{field}", getattr(verdict, field))
    own = departures(prof, name)
    glue("protocol", text_table(own.style.hide(axis="index")) if len(own) else
         Markdown("None: this is the paper's protocol."))
    glue("profile", prof.name)
    written = write_tables(tables, store.root / "tables" / name)
    full = stored_full_data(prof, store)
    glue("judged_at", judged_at(prof, full))
    glue("banner", f"{banner(prof, full, reference.full_data_accuracy())} "
                   f"{rerun(name, prof)}. {downloads(written)}")
    glue("hardware", hardware())
    glue("compute", duration(store.compute_seconds()))
    glue("date", datetime.now(UTC).strftime("%Y-%m-%d"))
    return Page(name, prof, tables, facts, verdicts)

