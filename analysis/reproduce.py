"""The driver: execute every study notebook with papermill at one profile, then build the book.

Executed notebooks are the book's pages (`book/chapters/<name>.ipynb`); the book itself never
executes code. Results are cached in the run store, so re-executing a finished profile takes
minutes; `force` deletes the profile's stored results first and recomputes everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from analysis.chapters import EXECUTION_ORDER
from analysis.profiles import get_profile
from analysis.store import REPO_ROOT, RunStore, results_root


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


def build_book(root: Path = REPO_ROOT) -> Path:
    """`jupyter-book build` of the repository's book (execution off); returns the HTML folder."""
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root), "--quiet"], check=True)
    return root / "_build" / "html"


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
