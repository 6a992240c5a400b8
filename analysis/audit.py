"""The regeneration audit: recompute a random sample of a profile's stored training runs with today's code.

A stored result is a reproducibility claim. The audit retrains each sampled run from its stored config,
with the thread count its provenance records, into a throwaway store, and reports the difference in final
test accuracy against the single-run seed noise of the run's condition (`retraining.condition_noise`). The
same key, threads and layout give bitwise the same run, so any difference means today's code computes
something else.
Sampled: runs on the whole training set from scratch (a pruned run's subset is stored only as a digest,
and an LMC child needs its parent's checkpoint).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.profiles import Profile
from analysis.retraining import condition_noise
from analysis.store import RunStore, atomic_write, config_key
from analysis.train import TrainConfig, recorded_threads, run_training

COLUMNS = ["run", "model", "seed", "threads", "stored_test_acc", "recomputed_test_acc", "difference",
           "in_seed_sds", "identical"]


def audit(profile: Profile, store: RunStore, runs: int, seed: int = 0) -> pd.DataFrame:
    """Recompute `runs` training runs of `profile` stored in `store`, drawn at random (with `seed`); one row per
    run. The recomputed runs go to a throwaway store beside it."""
    candidates = [(c, m) for c, m in store.configs("train") if c["subset"] == "full" and not c["init_from"]]
    if not candidates:
        raise ValueError(f"profile {profile.name!r} has no stored full-data runs under {store.root}: run its "
                         f"pages first (`python -m analysis reproduce --profile {profile.name}`).")
    picks = sorted(np.random.default_rng(seed).choice(len(candidates), min(runs, len(candidates)), replace=False))
    rows = []
    with tempfile.TemporaryDirectory(dir=store.root.parent) as tmp:
        fresh = RunStore(profile.name, Path(tmp))
        for i in picks:
            stored_config, stored = candidates[i]
            config = TrainConfig.from_key_dict(stored_config)
            with recorded_threads(stored) as used:
                again = run_training(config, fresh).metrics
            diff, sd = again["final_test_acc"] - stored["final_test_acc"], condition_noise(stored_config, store).sd
            rows.append({
                "run": config_key("train", stored_config), "model": f"{config.model} w{config.width}",
                "seed": config.seed, "threads": used, "stored_test_acc": stored["final_test_acc"],
                "recomputed_test_acc": again["final_test_acc"], "difference": diff,
                "in_seed_sds": diff / sd if sd == sd and sd else float("nan"),
                "identical": again["test_acc"] == stored["test_acc"] and again["final_train_acc"] == stored[
                    "final_train_acc"],
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def write(table: pd.DataFrame, store: RunStore) -> Path:
    """Store the audit as `<store>/audit.csv`, atomically."""
    return atomic_write(store.root / "audit.csv", lambda tmp: table.to_csv(tmp, index=False))
