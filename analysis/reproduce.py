"""The driver: execute every study notebook with papermill at one profile, then build the book.

Executed notebooks are the book's pages (`book/chapters/<name>.ipynb`); the book itself never
executes code. Results are cached in the run store, so re-executing a finished profile takes
minutes; `force` deletes the profile's stored results first and recomputes everything. The few
tables of the markdown pages (`book/*.md`) that code decides are written into them by
`refresh_pages`, which every build runs first.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from analysis.chapters import EXECUTION_ORDER, scorecard
from analysis.profiles import PAPER, PROFILES, get_profile, protocol_table
from analysis.reference import claim
from analysis.store import REPO_ROOT, RunStore, atomic_write, results_root


def execute(name: str, profile: str, out_dir: Path, executor: str | None = None, results: Path | None = None) -> Path:
    """Run `notebooks/<name>.ipynb` with papermill into `out_dir/<name>.ipynb`."""
    import papermill

    out = out_dir / f"{name}.ipynb"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{name}.running.ipynb"
    # the kernel imports `analysis` from this checkout even where the package is not installed
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), *paths)))
    parameters = {"PROFILE": profile}
    if executor:
        parameters["EXECUTOR"] = executor
    if results:
        parameters["RESULTS"] = str(results)
    papermill.execute_notebook(
        str(REPO_ROOT / "notebooks" / f"{name}.ipynb"), str(tmp), parameters=parameters,
        kernel_name="python3", cwd=str(REPO_ROOT / "notebooks"), progress_bar=False,
    )
    _clean_page(tmp)
    os.replace(tmp, out)  # a page appears only once its notebook ran to the end
    return out


def _clean_page(path: Path) -> None:
    """Make an executed notebook a page to download: parameter cells (ours and papermill's injected one) tagged
    so the page does not show them, stderr (warnings, progress bars) dropped, and this machine's paths made
    relative to the repository."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if {"parameters", "injected-parameters"} & set(tags) and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = str(Path(meta[key]).relative_to(REPO_ROOT)) if Path(meta[key]).is_relative_to(
                REPO_ROOT) else Path(meta[key]).name
    nbformat.write(nb, path)


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A markdown table of `rows` under the header `head`."""
    return "\n".join("| " + " | ".join(row) + " |" for row in [head, ["---"] * len(head), *rows])


def protocol_markdown() -> str:
    """The methods page's protocol table: `protocol_table` of every profile, beside the paper's, in markdown."""
    profiles = [p for p in PROFILES.values() if p is not PAPER]
    tables = [protocol_table(p) for p in profiles]
    head = ["setting", "paper", *(f"`{p.name}`" for p in profiles)]
    rows = [[setting, paper, *(table[i][2] for table in tables)] for i, (setting, paper, _) in enumerate(tables[0])]
    return markdown_table(head, rows)


def not_attempted_markdown() -> str:
    """The discussion page's list of the claims no page tests, and why (`scorecard.NOT_ATTEMPTED`)."""
    return "\n".join(f"- *{claim(c)}* (`{c}`): {why}" for c, why in scorecard.NOT_ATTEMPTED.items())


def audit_markdown(root: Path = REPO_ROOT) -> str:
    """The methods page's audit table: every committed `results/<profile>/audit.csv` (`analysis.audit`)."""
    head = ["profile", "run", "network", "seed", "threads", "stored", "today", "difference", "in seed SDs",
            "bitwise identical"]
    rows = []
    for name in PROFILES:
        path = root / "results" / name / "audit.csv"
        if path.exists():
            rows += [[f"`{name}`", f"`{r.run[:8]}`", r.model, str(r.seed), str(r.threads),
                      f"{r.stored_test_acc:.2%}", f"{r.recomputed_test_acc:.2%}", f"{100 * r.difference:+.2f}",
                      f"{r.in_seed_sds:+.2f}", "yes" if r.identical else "no"]
                     for r in pd.read_csv(path).itertuples()]
    return markdown_table(head, rows) if rows else "No audit is committed yet."


# The generated regions of the markdown pages: page -> region -> the function that writes it.
GENERATED = {
    "book/methods.md": {"protocol": protocol_markdown, "audit": audit_markdown},
    "book/discussion.md": {"not attempted": not_attempted_markdown},
}
BEGIN = "% generated by analysis.reproduce.refresh_pages ({}): change the code, not this text"
END = "% end of generated text"


def generated(text: str, region: str, body: str) -> str:
    """`text` with its generated `region` (between `BEGIN` and `END` comment lines) replaced by `body`."""
    pattern = re.compile(rf"^{re.escape(BEGIN.format(region))}\n.*?^{re.escape(END)}$", re.S | re.M)
    new, count = pattern.subn(lambda _: f"{BEGIN.format(region)}\n\n{body}\n\n{END}", text)
    if count != 1:
        raise ValueError(f"{count} generated regions {region!r} found: write one, between the lines "
                         f"{BEGIN.format(region)!r} and {END!r}")
    return new


def refresh_pages(root: Path = REPO_ROOT) -> list[Path]:
    """Rewrite the generated regions of the markdown pages under `root` from today's code; the pages changed."""
    changed = []
    for page, regions in GENERATED.items():
        path = root / page
        text = old = path.read_text()
        for region, write in regions.items():
            text = generated(text, region, write())
        if text != old:
            atomic_write(path, lambda tmp, text=text: tmp.write_text(text))
            changed.append(path)
    return changed


def build_book(root: Path = REPO_ROOT) -> Path:
    """`jupyter-book build` of the repository's book (execution off), its generated tables refreshed first;
    returns the HTML folder."""
    refresh_pages(root)
    # An incremental build never copies a static file again, so an edited book/_static/tables.css would not reach
    # the pages: where one differs from its built copy, the HTML is built afresh
    html = root / "_build" / "html"
    built = html / "_static"
    if built.exists() and any(not (built / own.name).exists() or not filecmp.cmp(own, built / own.name, shallow=False)
                              for own in (root / "book" / "_static").iterdir()):
        shutil.rmtree(html)
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root), "--quiet"], check=True)
    return html


def reproduce(profile: str, only: list[str] | None = None, force: bool = False, executor: str | None = None,
              out_dir: Path | None = None, book: bool = True, results: Path | None = None) -> None:
    """Execute the notebooks (all, or `only`) at `profile` with their results under `results` (default:
    `results_root()`), then build the book."""
    get_profile(profile)  # fail fast on an unknown profile
    names = list(only or EXECUTION_ORDER)
    unknown = sorted(set(names) - set(EXECUTION_ORDER))
    if unknown:
        raise ValueError(f"Unknown notebook(s) {unknown}: choose from {', '.join(EXECUTION_ORDER)}.")
    if force:
        shutil.rmtree(RunStore(profile, results or results_root()).root, ignore_errors=True)
    out_dir = out_dir or REPO_ROOT / "book" / "chapters"
    start = time.perf_counter()
    for name in (bar := tqdm(names, desc=f"reproduce ({profile})", unit="notebook")):
        bar.set_postfix_str(name)
        execute(name, profile, out_dir, executor, results)
    print(f"executed {len(names)} notebook(s) at profile {profile} in {time.perf_counter() - start:.0f}s")
    if book:
        print(f"book: {build_book() / 'index.html'}")
