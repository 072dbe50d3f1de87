"""How sure a comparison is: intervals, paired differences, tests, verdicts, seeds needed.

Everything here takes plain numbers (one value per seed) and returns plain numbers; the
distributions, the bootstrap and the tests are scipy's. Formulas and their sources:

- the interval of a mean: Student's t (exact for normal data at any n) below
  :data:`BOOTSTRAP_MIN_N` values, scipy's BCa bootstrap (Efron 1987) from there on. The bootstrap
  under-covers with few values (measured on normal data: 74 % at n=3, 85 % at n=5, 92 % at
  n=10 for a nominal 95 %), which is the usual number of seeds; see ``tests/test_stats.py``;
- a binomial proportion (accuracy on a finite test set): Wilson's score interval (Wilson 1927);
- a difference of groups: paired by seed when both groups have the same seeds (the mean and
  interval of the per-seed differences, and the paired t-test), unpaired otherwise (Welch's
  interval and t-test); the interval is always the inversion of that test, so that the interval
  excludes 0 exactly when p < 1 - confidence;
- m pairs at once: one family-wise procedure, Bonferroni's (Dunn 1961): p-values multiplied by m
  (capped at 1) and intervals at level ``1 - (1 - confidence) / m``, so that an adjusted p below
  0.05, an interval that excludes 0 and a verdict better/worse always go together (Holm's
  step-down p-values, :func:`holm`, are sharper but have no intervals that agree with them);
- a scale-free notion of "identical up to rounding": a spread of at most :data:`ROUNDING` times the
  largest magnitude of the values, so that changing the units changes no verdict;
- probability of improvement P(X > Y) with ties counted half (Agarwal et al. 2021);
- seeds needed to separate an observed difference: the power of the same t-test from the
  noncentral t distribution, 80 % power at a two-sided 5 % level (Colas et al. 2018).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
MIN_RUNS = 3
"""A group with fewer distinct seeds than this is never ranked (verdict ``too_few_runs``)."""
BOOTSTRAP_MIN_N = 30
"""From this many values on, ``method='auto'`` uses the BCa bootstrap; below, Student's t."""
N_RESAMPLES = 9999
RANDOM_STATE = 0
"""The bootstrap's fixed seed: a summary is byte-identical when rerun."""
METHODS = ("auto", "t", "bca", "percentile")
ROUNDING = 1e-12
"""Values whose spread is at most this times their largest magnitude are identical up to rounding
(relative, so that a metric around 1e-21 is treated like the same metric in other units)."""
VERDICTS = ("a_better", "b_better", "a_higher", "b_higher", "indistinguishable", "too_few_runs")


@dataclass(frozen=True)
class Estimate:
    """What a group's values say about their mean.

    ``n`` counts the finite values (one per distinct seed); ``ci_low``/``ci_high`` bound the
    mean at :data:`CONFIDENCE` (NaN for fewer than two values); ``method`` is the interval's.
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    std: float
    median: float
    iqm: float
    method: str


def _finite(values) -> np.ndarray:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return v[np.isfinite(v)]


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"interval method {method!r}: accepted are {', '.join(METHODS)}")


UNBOUNDED = (-math.inf, math.inf)
NON_NEGATIVE = (0.0, math.inf)
"""The range of a cost, a norm, a time, a standard deviation: intervals of their means never go below 0."""
FRACTION = (0.0, 1.0)
"""The range of an accuracy or a fraction of dead units."""


def clip_interval(low: float, high: float, bounds: tuple[float, float] = UNBOUNDED) -> tuple[float, float]:
    """``(low, high)`` clipped to ``bounds``, the range the quantity can take (a t interval of the mean
    of non-negative values can reach below 0; the mean itself cannot). NaN stays NaN."""
    lo, hi = bounds
    if math.isnan(low) or math.isnan(high):
        return low, high
    return min(max(low, lo), hi), max(min(high, hi), lo)


def mean_interval(values, *, confidence: float = CONFIDENCE, method: str = "auto",
                  random_state: int = RANDOM_STATE, bounds: tuple[float, float] = UNBOUNDED) -> tuple[float, float, str]:
    """The confidence interval of the mean of ``values``.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        One value per seed; None, NaN and inf are left out.
    confidence : float, default=0.95
    method : {'auto', 't', 'bca', 'percentile'}, default='auto'
        ``t``: Student's t interval, ``mean ± t(n-1) s / √n``. ``bca``/``percentile``:
        ``scipy.stats.bootstrap`` with :data:`N_RESAMPLES` resamples and the fixed
        ``random_state``, or the t interval where the bootstrap interval cannot be computed (BCa of values
        that are equal up to rounding). ``auto``: ``t`` below :data:`BOOTSTRAP_MIN_N` values, ``bca``
        from there.
    random_state : int, default=0
    bounds : (float, float), default=(-inf, inf)
        The range the quantity can take (:data:`NON_NEGATIVE` for costs and norms, :data:`FRACTION`
        for accuracies): the interval is clipped to it (:func:`clip_interval`).

    Returns
    -------
    low, high : float
        NaN when there are fewer than two values; ``(v, v)`` when every value is ``v``.
    method : str
        The method used (``t``, ``bca``, ``percentile``; ``exact`` for identical values, ``none``
        for fewer than two).

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    _check_method(method)
    v = _finite(values)
    if v.size < 2:
        return math.nan, math.nan, "none"
    if np.ptp(v) <= ROUNDING * np.abs(v).max():  # equal up to rounding: the mean is exact, and so is its interval
        mean = float(np.clip(v.mean(), v.min(), v.max()))
        return mean, mean, "exact"
    method = _resolved(method, v.size)
    ci = _bootstrap((v,), np.mean, confidence, method, random_state) if method != "t" else None
    if ci is None:
        method, t = "t", stats.ttest_1samp(v, 0.0).confidence_interval(confidence)
        ci = float(t.low), float(t.high)
    return *clip_interval(*ci, bounds), method


def _resolved(method: str, n: int) -> str:
    """The method that ``auto`` stands for with ``n`` values (``t`` below :data:`BOOTSTRAP_MIN_N`, ``bca``
    from there); any other method unchanged."""
    if method == "auto":
        return "t" if n < BOOTSTRAP_MIN_N else "bca"
    return method


def _bootstrap(data: tuple, statistic, confidence: float, method: str, random_state: int) -> tuple[float, float] | None:
    """scipy's bootstrap interval of ``statistic`` (``method`` 'bca' or 'percentile', :data:`N_RESAMPLES`
    resamples, seeded); None when it cannot be computed (BCa of values that are equal up to rounding)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):  # degenerate data: a 0/0 and a warning, then NaN
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(data, statistic, confidence_level=confidence, n_resamples=N_RESAMPLES,
                              method=method, rng=np.random.default_rng(random_state))
    low, high = res.confidence_interval
    return (float(low), float(high)) if np.isfinite([low, high]).all() else None


def describe(values, *, confidence: float = CONFIDENCE, method: str = "auto",
             bounds: tuple[float, float] = UNBOUNDED) -> Estimate:
    """n, mean, the interval of the mean, std (ddof=1), median and interquartile mean.

    The interquartile mean is the mean of the middle 50 % (``scipy.stats.trim_mean(v, 0.25)``;
    Agarwal et al. 2021), robust to one wild seed. See :func:`mean_interval` for the interval and
    ``bounds``. The mean lies between the smallest and the largest value, as it must (a floating-point
    sum can put the mean of three values 0.97 at 0.9700000000000001, outside their exact interval).
    """
    v = _finite(values)
    if v.size == 0:
        return Estimate(0, *([math.nan] * 6), "none")
    low, high, used = mean_interval(v, confidence=confidence, method=method, bounds=bounds)
    return Estimate(int(v.size), float(np.clip(v.mean(), v.min(), v.max())), low, high,
                    float(v.std(ddof=1)) if v.size > 1 else math.nan, float(np.median(v)),
                    float(stats.trim_mean(v, 0.25)), used)


def wilson_interval(successes: int, trials: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval of a binomial proportion (e.g. accuracy on ``trials`` test examples).

    ``scipy.stats.binomtest(k, n).proportion_ci(method='wilson')``; Wilson (1927). With 100 test
    examples an accuracy of 95 % has the interval [88.8 %, 97.8 %].

    Raises
    ------
    ValueError
        When ``trials`` < 1 or ``successes`` is not in [0, trials].
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"wilson_interval: need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


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
    (paired t or Welch), so that the interval excludes 0 exactly when p < 1 - confidence.

    The zero-variance cases are decided exactly: when the values (paired: the per-seed differences)
    spread by at most :data:`ROUNDING` times their largest magnitude, p is 0 and the interval is the
    difference itself, unless the difference is itself within rounding of 0 (at most ROUNDING times
    that magnitude): then it is no difference, p = 1 and the interval [0, 0].
    """
    d = a - b if paired else None
    spread = np.ptp(d) if paired else max(np.ptp(a), np.ptp(b))
    diff = float(d.mean()) if paired else float(a.mean() - b.mean())
    rounding = ROUNDING * max(np.abs(a).max(), np.abs(b).max())
    if spread <= rounding:  # identical up to rounding (b = a + 0.01 per seed)
        return (0.0, diff, diff) if abs(diff) > rounding else (1.0, 0.0, 0.0)
    with warnings.catch_warnings():  # one group may be constant (zeros: 50 % every seed); that is fine
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        res = stats.ttest_1samp(d, 0.0) if paired else stats.ttest_ind(a, b, equal_var=False)
        ci = res.confidence_interval(confidence)
    return float(res.pvalue), float(ci.low), float(ci.high)


def seeds_needed(a, b, *, paired: bool, alpha: float = ALPHA, power: float = 0.8, limit: int = 100_000) -> int | None:
    """About how many seeds per group the t-test needs to separate the observed difference.

    The power of the two-sided t-test at level ``alpha`` when the true difference and spread are
    the observed ones: ``P(|T| > t_crit)`` with ``T ~ noncentral t(df, δ)``, ``δ = Δ / (s / √n)``
    (paired: ``s`` the std of the differences, ``df = n-1``; unpaired: ``s² = s_a² + s_b²``,
    ``df = 2n-2``). Colas et al. 2018, section 4. The observed difference is itself uncertain:
    this is a rough guide, not a promise.

    Returns
    -------
    int or None
        The smallest n ≥ 2 with the requested power; None when the observed difference is 0 or
        more than ``limit`` seeds would be needed.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    if paired:
        delta, spread = float(np.mean(a - b)), float(np.std(a - b, ddof=1))
    else:
        delta, spread = float(a.mean() - b.mean()), math.sqrt(a.var(ddof=1) + b.var(ddof=1))
    if delta == 0:
        return None
    if spread == 0:
        return 2

    def achieved(n: int) -> float:
        df = n - 1 if paired else 2 * n - 2
        nc = abs(delta) / (spread / math.sqrt(n))
        crit = stats.t.ppf(1 - alpha / 2, df)
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))

    low, high = 1, 2  # achieved(low) < power <= achieved(high) once the doubling stops
    while achieved(high) < power:
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if achieved(mid) < power else (low, mid)
    return high


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
    paired, va, vb = _aligned(a, b)
    nan = math.nan
    better, worse = (va, vb) if higher_is_better in (True, None) else (vb, va)
    prob = prob_improvement(better, worse, paired=paired)  # P(a better than b), or higher for no direction
    if va.size < 2 or vb.size < 2:
        diff = float(va.mean() - vb.mean()) if va.size and vb.size else nan
        return Difference(metric, name_a, name_b, paired, va.size, vb.size, diff, nan, nan, nan, nan, prob,
                          "too_few_runs")
    return _adjusted(Difference(metric, name_a, name_b, paired, va.size, vb.size,
                                float(np.mean(va - vb)) if paired else float(va.mean() - vb.mean()),
                                nan, nan, nan, nan, prob, ""), va, vb, 1, higher_is_better, confidence)


def _adjusted(d: Difference, va: np.ndarray, vb: np.ndarray, m: int, higher_is_better: bool | None,
              confidence: float) -> Difference:
    """``d`` with its p-value, Bonferroni-adjusted p-value, interval at level ``1 - (1 - confidence) / m``,
    verdict and (when indistinguishable) seeds needed at level ``(1 - confidence) / m``."""
    alpha = 1 - confidence
    d.p_value, d.ci_low, d.ci_high = _test_and_interval(va, vb, d.paired, 1 - alpha / m)
    d.p_adjusted = min(1.0, m * d.p_value)
    d.verdict = verdict(d, higher_is_better, alpha=alpha)
    if d.verdict == "too_few_runs":
        d.p_adjusted = math.nan
    d.seeds_needed = (seeds_needed(va, vb, paired=d.paired, alpha=alpha / m)
                      if d.verdict == "indistinguishable" else None)
    return d


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
    rows = [compare_two(metric, a, groups[a], b, groups[b], higher_is_better=higher_is_better,
                        confidence=confidence) for a, b in pairs]
    eligible = [r for r in rows if r.verdict != "too_few_runs"]
    for r in eligible:
        _, va, vb = _aligned(groups[r.group_a], groups[r.group_b])
        _adjusted(r, va, vb, len(eligible), higher_is_better, confidence)
    return rows
