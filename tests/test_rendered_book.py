"""The rendered book as a reader sees it: every page served on localhost and opened in headless Chromium.

Runs where Chromium (Debian's `chromium`, which `.ci/run` installs) or Google Chrome is installed. Each page, in a
1280 px window: it renders without a Python traceback or an unrendered glue reference, its images load, it opens
with the scale banner, no figure is shown wider than it was drawn (upscaled, so blurred), its tables are styled by
`book/_static/tables.css` and none is pandas' raw HTML, and it names no path of the machine it was executed on. A
screenshot of every page is left under `_build/screenshots/` (CI keeps them as an artefact).
"""

from __future__ import annotations

import functools
import html
import http.server
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest

from analysis.chapters import EXECUTION_ORDER
from analysis.reproduce import build_book
from analysis.store import REPO_ROOT

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = [pytest.mark.chromium, pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")]
WIDTH = 1280  # px: the reader's window for every check and screenshot
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--window-size={WIDTH},2400"]
# Injected into the served copy of each page: once it has loaded, every image's natural and shown width and every
# table's numerals (tabular where tables.css applies) as data attributes, which --dump-dom returns.
PROBE = """<script>
addEventListener("load", () => {
  for (const img of document.images) {
    img.dataset.naturalWidth = img.naturalWidth;
    img.dataset.shownWidth = img.getBoundingClientRect().width;
  }
  const column = document.querySelector("article").getBoundingClientRect().right;
  for (const table of document.querySelectorAll("article table")) {
    table.dataset.numerals = getComputedStyle(table).fontVariantNumeric;
    table.dataset.overflow = Math.max(0, table.getBoundingClientRect().right - column);
  }
  document.body.dataset.probed = "yes";
});
</script>"""
LOCAL_PATH = re.compile(r"(?<![\w.])/(?:work|root|home|tmp)/")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The book built from the committed executed notebooks, a copy of it with `PROBE` in every page served on
    127.0.0.1."""
    if not all((REPO_ROOT / "book" / "chapters" / f"{n}.ipynb").exists() for n in EXECUTION_ORDER):
        pytest.skip("book/chapters has no executed notebooks yet: run `make reproduce`")
    served = tmp_path_factory.mktemp("site") / "html"
    shutil.copytree(build_book(), served)
    for page in EXECUTION_ORDER:
        path = served / "book" / "chapters" / f"{page}.html"
        path.write_text(path.read_text().replace("</body>", f"{PROBE}\n</body>", 1))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def dom(site, tmp_path_factory):
    """page -> (url, its DOM once loaded and probed), each page opened once."""
    @functools.cache
    def opened(page: str) -> tuple[str, str]:
        url = f"{site}/book/chapters/{page}.html"
        profile = tmp_path_factory.mktemp(f"chromium-{page}")
        out = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=15000",
                              "--dump-dom", url], capture_output=True, text=True, timeout=120)
        assert 'data-probed="yes"' in out.stdout, f"{page}: the page did not finish loading"
        return url, out.stdout

    return opened


def _attributes(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_page_renders_cleanly(dom, page, tmp_path):
    url, text = dom(page)
    assert "<main" in text or "bd-article" in text, f"{page} did not render"
    assert "Traceback (most recent call last)" not in text, f"{page} shows a Python traceback"
    assert not re.search(r"\{glue[:a-z]*\}|glue:text|Could not find glue", text), f"{page} has unrendered glue"
    for src in re.findall(r'<img[^>]+src="([^"]+)"', text):
        if src.startswith("data:"):
            assert len(src) > 100, f"{page}: empty inline image"
            continue
        target = urllib.parse.urljoin(url, src)
        with urllib.request.urlopen(target, timeout=10) as response:  # raises on 404: a broken image
            assert response.status == 200 and len(response.read()) > 100, f"{page}: broken image {src}"
    shots = REPO_ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'shot'}", f"--screenshot={shots / f'{page}.png'}",
                    url], capture_output=True, timeout=120, check=True)
    assert (shots / f"{page}.png").stat().st_size > 10_000


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_page_opens_with_the_scale_banner(dom, page):
    """The admonition of `chapter.banner`: titled "Scale of this page", its text starting with the profile and its
    command to re-run the page as typed."""
    found = re.search(r'<p class="admonition-title">Scale of this page</p>\s*<p>(.*?)</p>', dom(page)[1], re.S)
    assert found, f"{page} has no scale banner"
    text = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    assert re.match(r"Profile \w+: ", text), f"{page}: the banner names no profile"
    assert f"python -m analysis reproduce --only {page} --profile " in text, f"{page}: its re-run command is mangled"


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_no_figure_is_shown_wider_than_drawn(dom, page):
    images = [_attributes(tag) for tag in re.findall(r"<img[^>]*>", dom(page)[1])]
    shown = [a for a in images if float(a["data-shown-width"]) > 0]  # the launch buttons' logos are hidden
    upscaled = [f"{a['src'].rsplit('/', 1)[-1]}: {a['data-natural-width']} px drawn, {a['data-shown-width']} px shown"
                for a in shown if int(a["data-natural-width"]) < float(a["data-shown-width"]) - 0.5]
    assert not upscaled, f"{page} upscales (blurs) {upscaled}"


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_tables_are_styled_not_raw_pandas(dom, page):
    """Every table of the article has tables.css's tabular numerals; none is pandas' `DataFrame.to_html`, whose
    `border="1"` draws a grid around every cell."""
    tables = [_attributes(tag) for tag in re.findall(r"<table[^>]*>", dom(page)[1])]
    raw = [a.get("class", "") for a in tables if a.get("border")]
    assert not raw, f"{page} shows {len(raw)} raw pandas table(s) (border=1): glue a Styler"
    unstyled = [a.get("id", a.get("class", "")) for a in tables if "tabular-nums" not in a.get("data-numerals", "")]
    assert not unstyled, f"{page}: book/_static/tables.css does not apply to tables {unstyled}"


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_every_table_fits_the_column(dom, page):
    """A table wider than the article column is cut off at the reader's window: its sentences must wrap."""
    tables = [_attributes(tag) for tag in re.findall(r"<table[^>]*>", dom(page)[1])]
    wide = [f"{a.get('id', a.get('class', ''))}: {float(a['data-overflow']):.0f} px too wide" for a in tables
            if float(a.get("data-overflow", 0)) > 1]
    assert not wide, f"{page}: {wide}"


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_page_names_no_local_path(dom, page):
    found = sorted({m.group(0) + "..." for m in LOCAL_PATH.finditer(dom(page)[1])})
    assert not found, f"{page} shows paths of the machine it was executed on: {found}"
