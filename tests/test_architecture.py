"""The package's shape: layers import only downwards, the table of contents is the page list, and
notebooks hold no logic."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from analysis import chapters, reference
from analysis.chapters import scorecard

REPO = Path(__file__).resolve().parents[1]
# Each module's layer; a module may import only modules of its own layer or below.
LAYERS = {
    0: {"data", "models", "per_example", "scores", "prune", "store", "train", "sweep", "reference", "statistics",
        "noise", "surface", "representation"},
    1: {"profiles", "score_runs", "retraining"},
    2: {"rules"},
    3: {f"chapters.{name}" for name in chapters.EXECUTION_ORDER} | {"chapters", "plots"},
    4: {"chapter", "reproduce", "audit", "cli", "__main__"},
}
LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}


def _modules() -> dict[str, Path]:
    root = REPO / "analysis"
    found = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__") if name != "__init__" else ""] = path
    found.pop("", None)
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis"):
            base = node.module.removeprefix("analysis").lstrip(".")
            names |= {f"{base}.{a.name}".lstrip(".") if f"{base}.{a.name}".lstrip(".") in LAYER_OF else base
                      for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.removeprefix("analysis.") for a in node.names if a.name.startswith("analysis.")}
    return {n for n in names if n}


def test_every_module_has_a_layer():
    assert set(_modules()) == set(LAYER_OF), "add new modules to LAYERS (and to the README's architecture section)"


@pytest.mark.parametrize("module", sorted(LAYER_OF))
def test_no_module_imports_one_above_its_layer(module):
    above = {m for m in _imports(_modules()[module]) if LAYER_OF.get(m, 99) > LAYER_OF[module]}
    assert not above, f"{module} (layer {LAYER_OF[module]}) imports {above}"


def test_toc_lists_the_pages_in_order():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    assert toc["root"] == f"book/chapters/{chapters.LANDING}"
    parts = {p["caption"]: tuple(c["file"].removeprefix("book/chapters/") for c in p["chapters"]
                                 if c["file"].startswith("book/chapters/")) for p in toc["parts"]}
    assert {k: v for k, v in parts.items() if v} == chapters.PARTS


@pytest.mark.parametrize("name", chapters.EXECUTION_ORDER)
def test_each_page_has_its_module_and_a_notebook_without_logic(name):
    module = chapters.module(name)
    assert callable(module.run) and callable(module.facts) and callable(module.verdicts)
    assert isinstance(module.CLAIMS, tuple)
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    tree = ast.parse(code)
    defined = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.Lambda | ast.ClassDef)]
    assert not defined, f"{name}.ipynb defines {defined}: move it into analysis/"
    opened = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "page"]
    assert len(opened) == 1 and opened[0].args[0].value == name, "one chapter.page(NAME, ...) call per notebook"


def test_every_claim_is_judged_by_one_page_or_listed_as_not_attempted():
    claims = [c for name in chapters.EXECUTION_ORDER for c in chapters.module(name).CLAIMS]
    assert len(claims) == len(set(claims))
    published = [c["id"] for c in reference.published()["paper"]["claims"]]
    assert sorted(claims + list(scorecard.NOT_ATTEMPTED)) == sorted(published)
