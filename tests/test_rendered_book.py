"""The rendered book as a reader sees it: every page served on localhost and opened in headless Chromium.

Runs when Chromium is installed (CI installs Debian's `chromium`). Fails on a broken image, a
Python traceback or an unrendered glue reference; leaves a screenshot of every page under
`_build/screenshots/` to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from analysis.chapters import EXECUTION_ORDER
from analysis.reproduce import build_book
from analysis.store import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.chromium, pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def site():
    """The book built from the committed executed notebooks, served on 127.0.0.1."""
    if not all((REPO_ROOT / "book" / "chapters" / f"{n}.ipynb").exists() for n in EXECUTION_ORDER):
        pytest.skip("book/chapters has no executed notebooks yet: run `make reproduce`")
    html = build_book()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _dom(url: str, tmp: Path) -> str:
    out = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    return out.stdout


@pytest.mark.parametrize("page", EXECUTION_ORDER)
def test_page_renders_cleanly(site, page, tmp_path):
    base = site
    url = f"{base}/book/chapters/{page}.html"
    dom = _dom(url, tmp_path / "profile")
    assert "<main" in dom or "bd-article" in dom, f"{page} did not render"
    assert "Traceback (most recent call last)" not in dom, f"{page} shows a Python traceback"
    assert not re.search(r"\{glue[:a-z]*\}|glue:text|Could not find glue", dom), f"{page} has unrendered glue"
    for src in re.findall(r'<img[^>]+src="([^"]+)"', dom):
        if src.startswith("data:"):
            assert len(src) > 100, f"{page}: empty inline image"
            continue
        target = urllib.parse.urljoin(url, src)
        with urllib.request.urlopen(target, timeout=10) as response:  # raises on 404: a broken image
            assert response.status == 200 and len(response.read()) > 100, f"{page}: broken image {src}"
    shots = REPO_ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'shot'}", "--window-size=1280,2400",
                    f"--screenshot={shots / f'{page}.png'}", url], capture_output=True, timeout=120, check=True)
    assert (shots / f"{page}.png").stat().st_size > 10_000
