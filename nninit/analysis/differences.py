"""How sure a difference of two groups is: paired or unpaired tests, their intervals, Bonferroni over m
pairs, the verdicts, and the probability of improvement.

- a difference of groups: paired by seed when both groups have the same seeds (the mean and interval of
  the per-seed differences, and the paired t-test), unpaired otherwise (Welch's interval and t-test); the
  interval is always the inversion of that test, so that the interval excludes 0 exactly when
  p < 1 - confidence;
- m pairs at once: one family-wise procedure, Bonferroni's (Dunn 1961): p-values multiplied by m (capped
  at 1) and intervals at level ``1 - (1 - confidence) / m``, so that an adjusted p below 0.05, an interval
  that excludes 0 and a verdict better/worse always go together (Holm's step-down p-values, :func:`holm`,
  are sharper but have no intervals that agree with them);
- probability of improvement P(X > Y) with ties counted half (Agarwal et al. 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from nninit.analysis.intervals import ALPHA, CONFIDENCE
from nninit.analysis.pair_tests import Test, pair_tests
from nninit.analysis.power import seeds_needed_many

MIN_RUNS = 3
"""A group with fewer distinct seeds than this is never ranked (verdict ``too_few_runs``)."""
VERDICTS = ("a_better", "b_better", "a_higher", "b_higher", "indistinguishable", "too_few_runs")


def prob_improvement(a, b, *, paired: bool) -> float:
    """P(X > Y) with ties counted half (Agarwal et al. 2021).

    Unpaired: over all pairs of a value of ``a`` and a value of ``b``, which is the Mann–Whitney
    U statistic divided by ``n_a n_b`` (``scipy.stats.mannwhitneyu``). Paired: over the seeds,
    the fraction where ``a`` beats ``b``. NaN when a side is empty.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return math.nan
    if paired:
        if a.shape != b.shape:
            raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
        return float(np.mean((a > b) + 0.5 * (a == b)))
    return float(stats.mannwhitneyu(a, b).statistic / (a.size * b.size))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of p-values for multiple comparisons (Holm 1979).

    The k-th smallest of m p-values becomes ``max over j <= k of min(1, (m - j + 1) p_(j))``.
    NaN p-values are left NaN and do not count in m. scipy has no Holm; this is its definition.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    running = 0.0  # equal p-values get the same adjusted value, whichever of them comes first
    for rank, i in enumerate(idx[np.argsort(p[idx])]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


@dataclass
class Difference:
    """One comparison of two groups on one metric (a row of ``comparisons.csv``)."""

    metric: str
    group_a: str
    group_b: str
    paired: bool
    n_a: int
    n_b: int
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    prob_improvement: float
    verdict: str
    seeds_needed: int | None = None


def _test_and_interval(a: np.ndarray, b: np.ndarray, paired: bool, confidence: float) -> tuple[float, float, float]:
    """p-value of mean(a) - mean(b) = 0 and the interval that inverts the same test at ``confidence``
    (:func:`~nninit.analysis.pair_tests.pair_tests`)."""
    test = pair_tests([(a, b, paired)])[0]
    return test.p_value, *test.interval(confidence)


def _aligned(a: dict, b: dict) -> tuple[bool, np.ndarray, np.ndarray]:
    """The finite values of two groups, and whether they pair by seed (the same seeds, at least two);
    when paired, both arrays are in the same seed order."""
    a = {k: float(v) for k, v in a.items() if v is not None and math.isfinite(v)}
    b = {k: float(v) for k, v in b.items() if v is not None and math.isfinite(v)}
    paired = set(a) == set(b) and len(a) >= 2
    if paired:
        keys = sorted(a, key=repr)
        return True, np.array([a[k] for k in keys]), np.array([b[k] for k in keys])
    return False, np.array(list(a.values())), np.array(list(b.values()))


def compare_two(metric: str, name_a: str, a: dict, name_b: str, b: dict, *, higher_is_better: bool | None,
                confidence: float = CONFIDENCE) -> Difference:
    """Compare two groups' values of one metric, as one pair alone (m = 1).

    Parameters
    ----------
    a, b : dict
        Seed (any hashable key) -> value; non-finite values are left out. Paired when both
        groups have the same seeds (at least two).
    higher_is_better : bool or None
        Direction of the metric; None when it has none (verdicts ``a_higher``/``b_higher``).
    confidence : float, default=0.95
        The level of the interval; the test's level is ``1 - confidence``.

    Returns
    -------
    Difference
        The p-value, the interval that inverts the same test and the verdict from them;
        :func:`compare_groups` adjusts all three for m pairs.
    """
    pair = _tested([_Pair.of(metric, name_a, a, name_b, b, higher_is_better)])[0]
    pair.finished(1, higher_is_better, confidence)
    return _with_seeds_needed([pair], 1 - confidence)[0]


@dataclass
class _Pair:
    """A pair of groups on one metric, its test computed once (:func:`_tested`); :meth:`finished` derives the
    interval, adjusted p-value and verdict for m pairs from it."""

    row: Difference
    va: np.ndarray
    vb: np.ndarray
    test: Test | None = None

    @classmethod
    def of(cls, metric: str, name_a: str, a: dict, name_b: str, b: dict, higher_is_better: bool | None) -> _Pair:
        paired, va, vb = _aligned(a, b)
        nan = math.nan
        better, worse = (va, vb) if higher_is_better in (True, None) else (vb, va)
        prob = prob_improvement(better, worse, paired=paired)  # P(a better than b), or higher for no direction
        if va.size < 2 or vb.size < 2:
            diff = float(va.mean() - vb.mean()) if va.size and vb.size else nan
            return cls(Difference(metric, name_a, name_b, paired, va.size, vb.size, diff, nan, nan, nan, nan, prob,
                                  "too_few_runs"), va, vb)
        row = Difference(metric, name_a, name_b, paired, va.size, vb.size,
                         float(np.mean(va - vb)) if paired else float(va.mean() - vb.mean()),
                         nan, nan, nan, nan, prob, "")
        return cls(row, va, vb)

    def finished(self, m: int, higher_is_better: bool | None, confidence: float) -> Difference:
        """The row with its p-value, Bonferroni-adjusted p-value, interval at level ``1 - (1 - confidence) / m``,
        verdict and (when indistinguishable) seeds needed at level ``(1 - confidence) / m``."""
        d = self.row
        if d.verdict == "too_few_runs":  # fewer than two values a side: no test
            return d
        alpha = 1 - confidence
        d.p_value = self.test.p_value
        d.ci_low, d.ci_high = self.test.interval(1 - alpha / m)
        d.p_adjusted = min(1.0, m * d.p_value)
        d.verdict = verdict(d, higher_is_better, alpha=alpha)
        if d.verdict == "too_few_runs":
            d.p_adjusted = math.nan
        d.seeds_needed = None  # for the indistinguishable: _with_seeds_needed, all pairs at once
        return d


def _tested(pairs: list[_Pair]) -> list[_Pair]:
    """``pairs``, each with at least two values a side given its test, all tested at once
    (:func:`~nninit.analysis.pair_tests.pair_tests`)."""
    testable = [p for p in pairs if p.row.verdict != "too_few_runs"]
    for p, test in zip(testable, pair_tests([(p.va, p.vb, p.row.paired) for p in testable]), strict=True):
        p.test = test
    return pairs


def _with_seeds_needed(pairs: list[_Pair], alpha: float) -> list[Difference]:
    """The rows of ``pairs``, each indistinguishable one with its seeds needed at level ``alpha``
    (:func:`~nninit.analysis.power.seeds_needed_many`: one search for all of them)."""
    wanted = [p for p in pairs if p.row.verdict == "indistinguishable"]
    for p, n in zip(wanted, seeds_needed_many([(p.va, p.vb, p.row.paired) for p in wanted], alpha=alpha),
                    strict=True):
        p.row.seeds_needed = n
    return [p.row for p in pairs]


def verdict(d: Difference, higher_is_better: bool | None, *, alpha: float = ALPHA) -> str:
    """The rule: ``too_few_runs`` when a group has fewer than :data:`MIN_RUNS` seeds; otherwise
    a group is better (or higher) when the adjusted p-value is below ``alpha``, which is exactly when
    the interval of the difference excludes 0 (both come from one test and one adjustment), on the
    side of the difference; ``indistinguishable`` otherwise."""
    if d.n_a < MIN_RUNS or d.n_b < MIN_RUNS:
        return "too_few_runs"
    if not (d.p_adjusted < alpha):
        return "indistinguishable"
    higher = "a" if d.difference > 0 else "b"
    if higher_is_better is None:
        return f"{higher}_higher"
    winner = higher if higher_is_better else ("b" if higher == "a" else "a")
    return f"{winner}_better"


def compare_groups(metric: str, groups: dict[str, dict], *, higher_is_better: bool | None,
                   baseline: str | None = None, confidence: float = CONFIDENCE) -> list[Difference]:
    """Every pair of groups (or every group against ``baseline``), adjusted for making m comparisons.

    One family-wise procedure, Bonferroni's, over the m pairs that have enough runs: each p-value is
    multiplied by m (capped at 1) and each interval of a difference is the inversion of the same test
    at level ``1 - (1 - confidence) / m``. All m intervals hold together at ``confidence``, and for
    every pair the adjusted p is below ``1 - confidence`` exactly when its interval excludes 0, which
    is exactly when the verdict is better/worse (higher/lower). Seeds needed are computed at the same
    level ``(1 - confidence) / m``.

    Parameters
    ----------
    groups : dict of str to dict
        Group name -> {seed: value}, in display order; pairs are (earlier, later) in that order,
        or (group, baseline) with a baseline.
    baseline : str, optional
        Compare each other group to this one only.

    Raises
    ------
    KeyError
        When ``baseline`` is not a group.
    """
    names = list(groups)
    if baseline is not None:
        if baseline not in groups:
            raise KeyError(baseline)
        pairs = [(g, baseline) for g in names if g != baseline]
    else:
        pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    prepared = _tested([_Pair.of(metric, a, groups[a], b, groups[b], higher_is_better) for a, b in pairs])
    eligible = [p.test is not None and min(p.row.n_a, p.row.n_b) >= MIN_RUNS for p in prepared]
    m = sum(eligible)  # a pair with too few runs keeps its own (m = 1) p-value and interval, and no verdict
    for p, ok in zip(prepared, eligible, strict=True):
        p.finished(m if ok else 1, higher_is_better, confidence)
    return _with_seeds_needed(prepared, (1 - confidence) / max(m, 1))
