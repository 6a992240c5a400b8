"""What every chapter notebook does around its study: set up, glue numbers into the prose, record the verdict.

Numbers in a chapter's prose are glued from here (myst-nb `glue`), never typed by hand.
"""

from __future__ import annotations

import platform
from concurrent.futures import Executor
from datetime import UTC, datetime

import pandas as pd
import torch

from analysis.plots import use_style
from analysis.profiles import Profile, get_profile, protocol_table
from analysis.store import compute_seconds
from analysis.sweep import make_executor
from analysis.verdicts import Verdict, record


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


def start(profile: str, executor: str | None = None) -> tuple[Profile, Executor]:
    """The chapter's profile and executor, with the book's plotting style."""
    use_style()
    return get_profile(profile), make_executor(executor)


def glue_protocol(prefix: str, profile: Profile) -> pd.DataFrame:
    """Glue `<prefix>_protocol`: the paper's protocol beside this profile's, and return it."""
    table = pd.DataFrame(protocol_table(profile), columns=["setting", "paper", f"this page ({profile.name})"])
    glue(f"{prefix}_protocol", table.set_index("setting"), display=False)
    return table


def glue_run_info(prefix: str, profile: Profile) -> None:
    """Glue `<prefix>_profile`, `_hardware`, `_compute` (measured compute behind the page) and `_date`."""
    glue(f"{prefix}_profile", profile.name)
    glue(f"{prefix}_hardware", hardware())
    glue(f"{prefix}_compute", f"{compute_seconds() / 60:.1f} min")
    glue(f"{prefix}_date", datetime.now(UTC).strftime("%Y-%m-%d"))


def conclude(prefix: str, profile: Profile, verdict: Verdict) -> None:
    """Record `verdict` for the scorecard and glue `<prefix>_verdict`, `_ours`, `_paper`, `_reason`, `_claim`."""
    record(profile.name, verdict)
    for field in ("verdict", "ours", "paper", "reason", "claim"):
        glue(f"{prefix}_{field}", getattr(verdict, field))
