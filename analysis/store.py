"""The run store: every run's result under `results/<profile>/<kind>/<key>/`, keyed by its config.

A result is a folder holding `config.json`, `metrics.json` (with provenance) and one `.npy` per
per-example array. It is written to a temporary folder and renamed into place, so a result is
either complete or absent. Bulky artefacts (checkpoints, resume states) go to `scratch/`, which
is never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

RESULTS_ENV = "DATADIET_RESULTS"
REPO_ROOT = Path(__file__).resolve().parents[1]


def results_root() -> Path:
    """$DATADIET_RESULTS, else `results/` at the repository root: for entry points (CLI, notebook parameters),
    which hand the package a `RunStore`."""
    return Path(os.environ.get(RESULTS_ENV, REPO_ROOT / "results"))


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` on a temporary file beside `path` (with the same suffix, so writers that add one, like
    `np.save`, keep its name), then rename it into place: `path` is either complete or untouched. Returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def config_key(kind: str, config: dict) -> str:
    """A short stable hash of a complete, JSON-serialisable config."""
    canonical = json.dumps({"kind": kind, **config}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def array_digest(array: np.ndarray | torch.Tensor) -> str:
    """A short hash of an array's contents, to key configs that hold index sets."""
    data = array.cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16]


def _git(*args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    except OSError:
        return None


def numerics() -> dict:
    """What besides its config decides a result's exact numbers here: the thread count (it changes reduction
    orders) and the instruction set torch chose its CPU kernels for (AVX2, AVX512...)."""
    return {"threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def code_state() -> dict:
    """The checkout's commit now, and whether the package's code (analysis/) differs from it (None: unknown)."""
    head = _git("rev-parse", "HEAD")
    in_repo = head is not None and head.returncode == 0
    diff = _git("diff", "--quiet", "HEAD", "--", "analysis") if in_repo else None
    return {"git_commit": head.stdout.strip() if in_repo else "unknown",
            "code_modified": diff.returncode == 1 if diff is not None and diff.returncode in (0, 1) else None}


# The code this process runs, read when the package is imported: a result stored at the end of a long run records
# the code it was computed with, even if the checkout has changed since.
LOADED_CODE = code_state()


def provenance(device: str, wall_time_s: float) -> dict:
    """Where and how a result was made."""
    return {
        **LOADED_CODE,
        "torch": torch.__version__,
        "device": device,
        "host_cpu": platform.processor() or platform.machine(),
        **numerics(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "wall_time_s": round(wall_time_s, 3),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass
class Result:
    """Metrics (JSON-serialisable) and per-example arrays of one run."""

    metrics: dict
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # compute time spent on it in earlier sessions, when it was resumed from a saved state
    earlier_seconds: float = 0.0


class RunStore:
    """Results of one profile, cached by config, under `root/<profile>`; one object per profile, passed to
    whatever reads or writes results. It remembers the compute time of every result it served (`used`)."""

    def __init__(self, profile: str, root: Path) -> None:
        self.profile = profile
        self.root = Path(root) / profile
        self.used: dict[str, float] = {}  # folder -> measured compute seconds

    def __repr__(self) -> str:
        return f"RunStore({self.profile!r}, {str(self.root.parent)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunStore) and (self.profile, self.root) == (other.profile, other.root)

    def __hash__(self) -> int:
        return hash((self.profile, self.root))

    def __getstate__(self) -> dict:  # what a worker process needs; the ledger stays with its owner
        return {"profile": self.profile, "root": self.root}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, used={})

    def path(self, kind: str, config: dict) -> Path:
        return self.root / kind / config_key(kind, config)

    def scratch(self, kind: str, config: dict | str) -> Path:
        """A folder for bulky artefacts of one run (checkpoints), by its config or its key; never committed."""
        return self.root / "scratch" / kind / (config if isinstance(config, str) else config_key(kind, config))

    def has(self, kind: str, config: dict) -> bool:
        """Whether a result of `config` is stored, without reading it."""
        return (self.path(kind, config) / "metrics.json").exists()

    def load(self, kind: str, config: dict) -> Result | None:
        if not self.has(kind, config):
            return None
        folder = self.path(kind, config)
        metrics = json.loads((folder / "metrics.json").read_text())
        arrays = {p.stem: np.load(p) for p in sorted(folder.glob("*.npy"))}
        return Result(metrics, arrays)

    def configs(self, kind: str) -> Iterator[tuple[dict, dict]]:
        """(config, metrics) of every stored result of `kind`."""
        for folder in sorted((self.root / kind).glob("[!.]*")):
            if (folder / "metrics.json").exists():
                config, metrics = (json.loads((folder / f"{name}.json").read_text()) for name in ("config", "metrics"))
                yield config, metrics

    def drop_dependents(self, key: str) -> list[Path]:
        """Delete every stored result whose config names result `key` (scores, kernels, children of a run): they
        were computed from a result that has changed. Returns the folders deleted."""
        dropped = [folder for folder in sorted(self.root.glob("*/[!.]*"))
                   if folder.parent.name != "scratch" and (folder / "config.json").exists()
                   and key in (folder / "config.json").read_text()]
        for folder in dropped:
            shutil.rmtree(folder)
        return dropped

    def save(self, kind: str, config: dict, result: Result, replace: bool = False) -> None:
        """Write atomically: a temporary folder renamed into place (over a stored result only if `replace`)."""
        folder = self.path(kind, config)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            (tmp / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True, default=str))
            (tmp / "metrics.json").write_text(json.dumps(result.metrics, indent=1, default=float))
            for name, array in result.arrays.items():
                np.save(tmp / f"{name}.npy", array)
            if folder.exists() and replace:  # the stored result stays until the new one is complete
                old = folder.with_name(f".{folder.name}.replaced.{os.getpid()}")
                os.rename(folder, old)
                os.rename(tmp, folder)
                shutil.rmtree(old)
                return
            if folder.exists():  # a concurrent writer finished first: identical config, keep theirs
                shutil.rmtree(tmp)
                return
            os.rename(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def get_or_compute(
        self, kind: str, config: dict, compute: Callable[[], Result], device: str = "cpu",
        force: bool = False,
    ) -> Result:
        """The stored result of `config`, or compute, stamp with provenance, store and return it.

        `force` recomputes; the stored result is replaced only once the new one is complete."""
        if not force and (cached := self.load(kind, config)) is not None:
            self.note_use(kind, config, cached.metrics)
            return cached
        start = time.perf_counter()
        result = compute()
        result.metrics["provenance"] = provenance(device, result.earlier_seconds + time.perf_counter() - start)
        self.save(kind, config, result, replace=force)
        self.note_use(kind, config, result.metrics)
        return result

    def note_use(self, kind: str, config: dict, metrics: dict) -> None:
        """Remember that this store served the result of `config` (see `compute_seconds`)."""
        self.used[str(self.path(kind, config))] = metrics.get("provenance", {}).get("wall_time_s", 0.0)

    def compute_seconds(self) -> float:
        """Total measured compute time of the distinct results this store has served."""
        return sum(self.used.values())
