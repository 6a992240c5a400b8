"""End to end: execute every notebook at the smoke profile into a copy of the book, build it, check the pages."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from IPython.core.formatters import PlainTextFormatter
from myst_nb.core.variables import format_plain_text

from analysis import chapter, reproduce
from analysis.chapters import EXECUTION_ORDER

REPO = Path(__file__).resolve().parents[1]
WITHOUT_FIGURES = {"scorecard"}  # the landing page is prose and a table


def _figures(page: Path) -> list[str]:
    """The page's <img> sources that are inline PNGs or PNG files present in the build."""
    sources = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page.read_text())
    return [s for s in sources
            if s.startswith("data:image/png") or (s.endswith(".png") and (page.parent / s).resolve().is_file())]


@pytest.mark.parametrize("text", ["1,000", "9, 18, 35, 70", "0.50", "None", "it's \"quoted\"\n", "long " * 60])
def test_glued_text_renders_exactly_as_given(text):
    plain = PlainTextFormatter()(chapter._Text(text))  # what glue stores as text/plain
    assert format_plain_text(plain, "") == text  # what {glue:text} puts in the page


def test_a_page_to_download_holds_no_warnings_progress_bars_or_machine_paths(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("page = chapter.page('galleries')", metadata={"tags": ["hide-input"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=f"{REPO}/.venv/tqdm/auto.py: TqdmWarning"),
                    nbformat.v4.new_output("stream", name="stdout", text="kept")]
    nb.cells = [nbformat.v4.new_code_cell("PROFILE = 'smoke'", metadata={"tags": ["parameters"]}), cell]
    nb.metadata["papermill"] = {"input_path": str(REPO / "notebooks" / "galleries.ipynb"),
                                "output_path": "/elsewhere/book/.galleries.running.ipynb"}
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    reproduce._clean_page(path)
    text = path.read_text()
    assert str(REPO) not in text and "/elsewhere" not in text and "TqdmWarning" not in text
    cleaned = nbformat.read(path, as_version=4)
    assert "remove-cell" in cleaned.cells[0].metadata["tags"]
    assert [o["text"] for o in cleaned.cells[1].outputs] == ["kept"]
    assert cleaned.metadata["papermill"]["input_path"] == "notebooks/galleries.ipynb"


def _stored(store: Path) -> dict[str, dict]:
    """Every stored result's numbers (its metrics without provenance, and array digests) by folder; verdicts and
    scratch left out."""
    out = {}
    for folder in sorted(store.glob("*/[!.]*")):
        if folder.parent.name not in ("verdicts", "scratch") and (folder / "metrics.json").exists():
            metrics = json.loads((folder / "metrics.json").read_text())
            metrics.pop("provenance", None)
            arrays = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.npy"))}
            out[str(folder.relative_to(store))] = {**metrics, **arrays}
    return out


@pytest.mark.book
def test_book_builds_at_smoke_from_the_committed_results(tmp_path, results_dir, monkeypatch, capfd):
    """Every page re-executes from the committed smoke results, computing nothing they do not hold (runs whose
    checkpoints a fresh clone lacks are retrained to the same numbers), and the book builds."""
    # the kernels import `analysis` from the repository even where it is not installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))))
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "book", tmp_path / "book", ignore=shutil.ignore_patterns("chapters"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    shutil.copytree(REPO / "results" / "smoke", results_dir / "smoke", ignore=shutil.ignore_patterns("scratch"))
    committed = _stored(results_dir / "smoke")
    chapters = tmp_path / "book" / "chapters"
    for name in EXECUTION_ORDER:
        reproduce.execute(name, "smoke", chapters, results=results_dir)
    after = _stored(results_dir / "smoke")
    assert sorted(set(after) - set(committed)) == [], "pages computed results the committed store lacks: " \
        "re-execute the smoke pages (`make reproduce PROFILE=smoke`) and commit results/smoke"
    changed = [k for k in committed if after.get(k) != committed[k]]
    assert not changed, f"today's code recomputed other numbers for {changed}"
    capfd.readouterr()
    html = reproduce.build_book(tmp_path)
    log = capfd.readouterr()

    glue_warnings = [line for line in (log.out + log.err).splitlines() if "glue" in line.lower()]
    assert not glue_warnings, "\n".join(glue_warnings)
    assert all((html / "book" / f"{name}.html").is_file() for name in ("about", "methods", "discussion"))
    for name in EXECUTION_ORDER:
        nb = nbformat.read(chapters / f"{name}.ipynb", as_version=4)
        errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
        page = html / "book" / "chapters" / f"{name}.html"
        assert page.is_file(), f"no page for {name}"
        text = page.read_text()
        assert "glue:" not in text and "Could not find" not in text, f"unrendered glue on {name}"
        if name not in WITHOUT_FIGURES:
            assert _figures(page), f"no figure on {name}"
