"""The test of a difference of two groups, computed once per pair and for many pairs at once.

Each pair's test (the paired t-test of the per-seed differences, or Welch's t-test) is made once; its interval at
any level (``1 - alpha`` alone, ``1 - alpha / m`` under Bonferroni) is derived from the same result
(``confidence_interval(level)``: one t quantile), never by testing again. The paired tests of a comparison are
made together: the differences of all pairs with the same number of seeds stacked into one array and
``scipy.stats.ttest_1samp(..., axis=1)`` called once (the same numbers as one call per pair: each row goes through
the same arithmetic; ``tests/test_stats_scale.py`` checks equality). Welch's tests are made one by one (batched,
their numbers differ from the single call's in the last bits).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from nninit.analysis.intervals import ROUNDING


@dataclass
class _Result:
    """A scipy t-test result (one pair's, or a stack's) and its intervals by level, computed once per level."""

    result: object
    intervals: dict = field(default_factory=dict)

    def interval(self, confidence: float):
        if confidence not in self.intervals:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
                self.intervals[confidence] = self.result.confidence_interval(confidence)
        return self.intervals[confidence]


@dataclass(frozen=True)
class Test:
    """One pair's test: its p-value and its interval at any level, from the test's result (row ``row`` of a
    stack, or the whole result when ``row`` is None), or fixed (``exact``, when there is no spread)."""

    p_value: float
    result: _Result | None = None
    row: int | None = None
    exact: tuple[float, float] = (math.nan, math.nan)

    def interval(self, confidence: float) -> tuple[float, float]:
        """``(low, high)`` of the difference at level ``confidence``, inverting the same test."""
        if self.result is None:
            return self.exact
        ci = self.result.interval(confidence)
        if self.row is None:
            return float(ci.low), float(ci.high)
        return float(ci.low[self.row]), float(ci.high[self.row])


def _exact(a: np.ndarray, b: np.ndarray, paired: bool) -> Test | None:
    """The zero-variance cases, decided exactly: when the values (paired: the per-seed differences) spread by
    at most :data:`ROUNDING` times their largest magnitude, p is 0 and the interval is the difference itself,
    unless the difference is itself within rounding of 0 (p = 1, and the interval from 0 to the difference, which
    holds both: ``[0, 3e-16]`` for values 0.1, 0.1, 0.100000000000001 against three 0.1). None otherwise."""
    d = a - b if paired else None
    spread = np.ptp(d) if paired else max(np.ptp(a), np.ptp(b))
    rounding = ROUNDING * max(np.abs(a).max(), np.abs(b).max())
    if spread > rounding:
        return None
    diff = float(d.mean()) if paired else float(a.mean() - b.mean())
    return Test(0.0, exact=(diff, diff)) if abs(diff) > rounding else Test(1.0, exact=(min(diff, 0.0), max(diff, 0.0)))


def pair_tests(pairs: list[tuple[np.ndarray, np.ndarray, bool]]) -> list[Test]:
    """The test of mean(a) - mean(b) = 0 of each ``(a, b, paired)`` (paired t or Welch; the zero-variance
    cases decided exactly, :func:`_exact`), the paired ones stacked by length (module docstring).

    Parameters
    ----------
    pairs : list of (ndarray, ndarray, bool)
        Each group's values, shape (n_a,) and (n_b,), float64, at least two each; paired ones in the same seed
        order and of equal length.

    Returns
    -------
    list of Test
        One per pair, in order; its interval at a level inverts the same test, so that it excludes 0 exactly
        when p < 1 - confidence.
    """
    tests: list[Test | None] = [_exact(a, b, paired) for a, b, paired in pairs]
    stacks: dict[int, list[int]] = {}
    for i, (a, b, paired) in enumerate(pairs):
        if tests[i] is None and paired:
            stacks.setdefault(a.size, []).append(i)
        elif tests[i] is None:
            with warnings.catch_warnings():  # one group may be constant (zeros: 50 % every seed); that is fine
                warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
                res = stats.ttest_ind(a, b, equal_var=False)
            tests[i] = Test(float(res.pvalue), _Result(res))
    for members in stacks.values():
        d = np.stack([pairs[i][0] - pairs[i][1] for i in members])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
            res = _Result(stats.ttest_1samp(d, 0.0, axis=1))
        for row, i in enumerate(members):
            tests[i] = Test(float(res.result.pvalue[row]), res, row)
    return tests
