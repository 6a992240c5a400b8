"""The one statistical rule every comparison of accuracies uses, and the row filter it reads.

An arm is an array of per-seed test accuracies. Its variance comes from the single-run standard deviation of
its condition (`SeedNoise`, pooled over the stored runs of that condition that differ from another only by their
seed: `analysis.retraining.seed_noise`), unless the arm's own seeds carry more degrees of freedom than the pool;
never from a single run, never zero. Arms that borrow one pooled estimate share it: their variances form one
term with the pool's degrees of freedom. A random-pruning arm draws a fresh subset with every seed, so it borrows
the pool of the condition's random arms where it is the wider (`SeedNoise.of_random`), its spread including the
choice of subset.

- **A difference** (`compare`) counts only where the 95% confidence interval of the difference of the
  means (Welch's t) excludes zero: beyond about two standard errors when the noise is well estimated,
  further when it is not.
- **A match** (`equivalent`) needs the 90% confidence interval of the difference inside +-`MARGIN`: two
  one-sided tests at 5% each. A difference that is merely not significant is never a match.
- **No gain** (`no_gain`): the 90% interval's upper end below +`MARGIN` - the evidence that A does not
  beat B by a point, where `compare` alone could only fail to find a difference.

One run's agreement with a mean of runs depends on how many runs the mean holds; `spearman_brown` projects it to
another number of runs, as the paper's mean of 10 would see it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MARGIN = 0.01  # one point of accuracy: the largest difference that still counts as a match


@dataclass(frozen=True)
class SeedNoise:
    """The single-run standard deviation of test accuracy in one condition, pooled over groups of seeds."""

    sd: float  # nan where no group has two seeds
    dof: int  # its degrees of freedom: the sum over groups of (seeds - 1)
    random: SeedNoise | None = None  # the condition's random-pruning arms, whose seeds also draw their subsets

    @property
    def of_random(self) -> SeedNoise:
        """The pool a random-pruning arm borrows: `random` (its spread includes the choice of subset) where it is
        wider than this one or this one has no estimate; else this one. Drawing a subset can only add spread, so a
        thinner `random` is a small pool's chance; where no random arm has two seeds, `random` has no estimate."""
        random = self.random
        return random if random is not None and random.dof and (not self.dof or random.sd > self.sd) else self

    @property
    def vs_random(self) -> tuple[SeedNoise, SeedNoise]:
        """The pools of an arm on a fixed subset and of a random-pruning arm, in that order: the `noise` of a
        comparison with random pruning."""
        return self, self.of_random

    @classmethod
    def pooled(cls, groups: Iterable[Iterable[float]]) -> SeedNoise:
        """Pooled from groups of runs that differ only by seed (groups of one seed carry no information;
        non-finite accuracies are left out)."""
        arms = [a[np.isfinite(a)] for a in (np.asarray(list(g), dtype=float) for g in groups)]
        arms = [a for a in arms if len(a) > 1]
        dof = sum(len(a) - 1 for a in arms)
        sd = math.sqrt(sum(((a - a.mean()) ** 2).sum() for a in arms) / dof) if dof else math.nan
        return cls(sd, dof)

    def table(self) -> pd.DataFrame:
        """As a one-row table (columns sd, dof, random_sd, random_dof): a page's `seed_noise`, so its facts and
        verdicts read it from there (`noise_table` for several conditions)."""
        random = self.random or SeedNoise(math.nan, 0)
        return pd.DataFrame([{"sd": self.sd, "dof": self.dof, "random_sd": random.sd, "random_dof": random.dof}])

    @classmethod
    def of(cls, table: pd.DataFrame) -> SeedNoise:
        """Back from `table`."""
        return cls._from_row(table.to_dict("records")[0])

    @classmethod
    def by(cls, table: pd.DataFrame, column: str) -> dict:
        """Back from `noise_table`: each condition's noise by its value of `column`."""
        return {row[column]: cls._from_row(row) for row in table.to_dict("records")}

    @classmethod
    def _from_row(cls, row: Mapping) -> SeedNoise:
        random = cls(float(row["random_sd"]), int(row["random_dof"])) if row["random_dof"] else None
        return cls(float(row["sd"]), int(row["dof"]), random)


def noise_table(noises: Mapping, column: str) -> pd.DataFrame:
    """A page's table of the seed noise of several conditions (one row per key of `noises`, in `column`)."""
    return pd.concat([noise.table().assign(**{column: key}) for key, noise in noises.items()], ignore_index=True)


def contrast(plus, minus, noise: SeedNoise | Sequence[SeedNoise]) -> tuple[float, float, float]:
    """(sum of the means of `plus` arms - sum of the means of `minus` arms, its standard error, degrees of freedom).

    `noise` is the pooled estimate of the arms' condition, or one per arm (`plus` then `minus`) where they come
    from conditions of their own. Arms with more seeds than their pool has degrees of freedom use their own
    variance (df n - 1); the others borrow their pool's, the arms of one pool (one `SeedNoise` object: pass the
    same object for arms of one condition) as one term with its `dof`; the terms combine by Welch-Satterthwaite.
    The error is inf where an arm has no seeds, where a pool without an estimate has an arm that cannot stand on
    its own, or where every variance is zero (seeds that all agree, in every arm, are not evidence of no noise).
    One constant arm beside others that vary adds nothing to the error: a floor, such as a barrier of zero in
    every pair, is a measurement.
    """
    arms = [np.asarray(x, dtype=float) for x in (*plus, *minus)]
    pools = [noise] * len(arms) if isinstance(noise, SeedNoise) else list(noise)
    if len(pools) != len(arms):
        raise ValueError(f"{len(pools)} seed-noise estimates for {len(arms)} arms: give one, or one per arm.")
    if any(len(x) == 0 for x in arms):
        return math.nan, math.inf, 0.0
    diff = sum(float(x.mean()) for x in arms[: len(plus)]) - sum(float(x.mean()) for x in arms[len(plus):])
    terms = [(float(x.var(ddof=1)) / len(x), len(x) - 1) for x, pool in zip(arms, pools, strict=True)
             if len(x) - 1 > pool.dof]
    for pool in {id(p): p for p in pools}.values():  # by object, not value: two conditions can agree
        share = sum(1 / len(x) for x, p in zip(arms, pools, strict=True) if p is pool and len(x) - 1 <= pool.dof)
        if not share:
            continue
        if not pool.dof:
            return diff, math.inf, 0.0
        terms.append((pool.sd**2 * share, pool.dof))
    var = sum(v for v, _ in terms)
    if var == 0:
        return diff, math.inf, 0.0
    return diff, math.sqrt(var), var**2 / sum(v**2 / d for v, d in terms if v)


def difference(a, b, noise: SeedNoise | Sequence[SeedNoise]) -> tuple[float, float, float]:
    """`contrast` of two arms: mean(a) - mean(b), its standard error and degrees of freedom (`noise`: one pool,
    or one per arm, such as `SeedNoise.vs_random`)."""
    return contrast([a], [b], noise)


def sign(estimate: tuple[float, float, float]) -> int:
    """+1 if a `contrast`'s 95% interval lies above zero, -1 if below, 0 if it holds zero."""
    low, high = interval(estimate, 0.95)
    return int(low > 0) - int(high < 0)


def interval(estimate: tuple[float, float, float], level: float = 0.90) -> tuple[float, float]:
    """The `level` confidence interval of a `contrast` (Welch's t; (-inf, inf) where it cannot be estimated:
    a standard error that is infinite, zero or NaN)."""
    diff, se, dof = estimate
    if not 0 < se < math.inf or math.isnan(diff):
        return -math.inf, math.inf
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return diff - half, diff + half


def compare(a, b, noise: SeedNoise | Sequence[SeedNoise]) -> int:
    """+1 if mean(a) beats mean(b) (95% interval of the difference above zero), -1 if it loses, 0 otherwise."""
    return sign(difference(a, b, noise))


def equivalent(a, b, noise: SeedNoise | Sequence[SeedNoise], margin: float = MARGIN) -> bool:
    """Whether mean(a) matches mean(b): the 90% interval of the difference lies inside +-`margin`."""
    low, high = interval(difference(a, b, noise))
    return -margin < low and high < margin


def no_gain(a, b, noise: SeedNoise | Sequence[SeedNoise], margin: float = MARGIN) -> bool:
    """Whether the data exclude mean(a) beating mean(b) by `margin`: the 90% interval's upper end below it."""
    return interval(difference(a, b, noise))[1] < margin


def accuracies(df: pd.DataFrame, **where) -> np.ndarray:
    """The `test_acc` of the rows whose columns equal `where`'s values (one per seed)."""
    mask = np.ones(len(df), dtype=bool)
    for column, value in where.items():
        mask &= (df[column] == value).to_numpy()
    return df.loc[mask, "test_acc"].to_numpy()


def word(sign: int) -> str:
    """A comparison's sign in words: 'below', 'within noise of', 'above'."""
    return ("below", "within noise of", "above")[sign + 1]


def spearman_brown(rho: float, others: int, runs: int) -> tuple[float, float]:
    """One run's correlation with the mean of `runs` runs, predicted from `rho`, its correlation with the mean of
    `others` other runs, where each run is a common ranking plus independent noise (Spearman-Brown; for rank
    correlations an approximation): (against `runs` other runs, against `runs` runs including it). A `rho` of zero
    or below means no common ranking under that model."""
    if others < 1 or runs < 1:
        raise ValueError(f"Spearman-Brown needs at least one other run and a mean of one run, not {others} and {runs}.")
    a = rho**2 * (1 - 1 / others)
    pair = (a + math.sqrt(a * a + 4 * rho**2 / others)) / 2 if rho > 0 else 0.0  # two single runs' correlation
    return pair / math.sqrt(pair + (1 - pair) / runs), math.sqrt((1 + (runs - 1) * pair) / runs)


def projected_words(readings: tuple[float, float], runs: int) -> str:
    """`spearman_brown`'s two readings in words, the one phrasing every page uses."""
    return f"{readings[0]:.2f} against a mean of {runs} runs without it, {readings[1]:.2f} with it"
