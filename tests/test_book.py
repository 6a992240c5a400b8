"""End to end: execute every notebook at the smoke profile into a copy of the book, build it, check the pages."""

from __future__ import annotations

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


@pytest.mark.book
def test_book_builds_at_smoke(tmp_path, monkeypatch, capfd):
    # the kernels import `analysis` from the repository even where it is not installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))))
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "book", tmp_path / "book", ignore=shutil.ignore_patterns("chapters"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    chapters = tmp_path / "book" / "chapters"
    for name in EXECUTION_ORDER:
        reproduce.execute(name, "smoke", chapters)
    capfd.readouterr()
    html = reproduce.build_book(tmp_path)
    log = capfd.readouterr()

    glue_warnings = [line for line in (log.out + log.err).splitlines() if "glue" in line.lower()]
    assert not glue_warnings, "\n".join(glue_warnings)
    assert (html / "book" / "about.html").is_file()
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
