"""The one statistical rule every comparison of accuracies uses, and the row filter it reads.

A difference between two arms (arrays of per-seed test accuracies) counts only beyond `tolerance`:
two standard errors of the difference of their means, and never less than half a point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FLOOR = 0.005  # half a point of accuracy


def tolerance(a, b) -> float:
    """Two standard errors of mean(a) - mean(b), at least `FLOOR`."""
    def sem(x) -> float:
        x = np.asarray(x, dtype=float)
        return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0
    return max(FLOOR, 2 * float(np.hypot(sem(a), sem(b))))


def compare(a, b) -> int:
    """+1 if mean(a) beats mean(b) beyond `tolerance`, -1 if it loses, 0 if within it."""
    diff = float(np.mean(a) - np.mean(b))
    tol = tolerance(a, b)
    return int(diff > tol) - int(diff < -tol)


def accuracies(df: pd.DataFrame, **where) -> np.ndarray:
    """The `test_acc` of the rows whose columns equal `where`'s values (one per seed)."""
    mask = np.ones(len(df), dtype=bool)
    for column, value in where.items():
        mask &= (df[column] == value).to_numpy()
    return df.loc[mask, "test_acc"].to_numpy()


def word(sign: int) -> str:
    """A comparison's sign in words: 'below', 'within noise of', 'above'."""
    return ("below", "within noise of", "above")[sign + 1]
