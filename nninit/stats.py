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
  interval and t-test); multiple pairs: Holm's step-down adjustment (Holm 1979);
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


def mean_interval(values, *, confidence: float = CONFIDENCE, method: str = "auto",
                  random_state: int = RANDOM_STATE) -> tuple[float, float, str]:
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
    if np.all(v == v[0]):
        return float(v[0]), float(v[0]), "exact"
    method = _resolved(method, v.size)
    if method != "t":
        ci = _bootstrap((v,), np.mean, confidence, method, random_state)
        if ci is not None:
            return *ci, method
    ci = stats.ttest_1samp(v, 0.0).confidence_interval(confidence)
    return float(ci.low), float(ci.high), "t"


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


def describe(values, *, confidence: float = CONFIDENCE, method: str = "auto") -> Estimate:
    """n, mean, the interval of the mean, std (ddof=1), median and interquartile mean.

    The interquartile mean is the mean of the middle 50 % (``scipy.stats.trim_mean(v, 0.25)``;
    Agarwal et al. 2021), robust to one wild seed. See :func:`mean_interval` for the interval.
    """
    v = _finite(values)
    if v.size == 0:
        return Estimate(0, *([math.nan] * 6), "none")
    low, high, used = mean_interval(v, confidence=confidence, method=method)
    return Estimate(int(v.size), float(v.mean()), low, high, float(v.std(ddof=1)) if v.size > 1 else math.nan,
                    float(np.median(v)), float(stats.trim_mean(v, 0.25)), used)


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


def _mean_difference(x, y, axis=-1):
    return x.mean(axis) - y.mean(axis)


def _test_and_interval(a: np.ndarray, b: np.ndarray, paired: bool, confidence: float,
                       method: str) -> tuple[float, float, float]:
    """p-value and interval of mean(a) - mean(b): paired or Welch t; the interval is scipy's bootstrap
    instead when ``method`` asks for it (as in :func:`mean_interval`). The zero-variance cases are
    decided exactly (identical differences: p=0 unless they are all zero, then p=1; the interval is
    the difference itself)."""
    d = a - b if paired else None
    spread = np.ptp(d) if paired else max(np.ptp(a), np.ptp(b))
    diff = float(d.mean()) if paired else float(a.mean() - b.mean())
    if spread <= 1e-12 * max(1.0, abs(diff)):  # identical up to rounding (b = a + 0.01 per seed)
        return (0.0 if diff != 0 else 1.0), diff, diff
    with warnings.catch_warnings():  # one group may be constant (zeros: 50 % every seed); that is fine
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        res = stats.ttest_1samp(d, 0.0) if paired else stats.ttest_ind(a, b, equal_var=False)
        ci = res.confidence_interval(confidence)
    method = _resolved(method, min(a.size, b.size))
    boot = None if method == "t" else _bootstrap((d,) if paired else (a, b), np.mean if paired else _mean_difference,
                                                 confidence, method, RANDOM_STATE)
    low, high = boot if boot is not None else (float(ci.low), float(ci.high))
    return float(res.pvalue), low, high


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
                confidence: float = CONFIDENCE, method: str = "auto") -> Difference:
    """Compare two groups' values of one metric, before the multiple-comparison adjustment.

    Parameters
    ----------
    a, b : dict
        Seed (any hashable key) -> value; non-finite values are left out. Paired when both
        groups have the same seeds (at least two).
    higher_is_better : bool or None
        Direction of the metric; None when it has none (verdicts ``a_higher``/``b_higher``).

    Returns
    -------
    Difference
        ``p_adjusted`` is the raw p-value and the verdict is provisional until
        :func:`compare_groups` adjusts them.
    """
    _check_method(method)
    paired, va, vb = _aligned(a, b)
    nan = math.nan
    better, worse = (va, vb) if higher_is_better in (True, None) else (vb, va)
    prob = prob_improvement(better, worse, paired=paired)  # P(a better than b), or higher for no direction
    if va.size < 2 or vb.size < 2:
        diff = float(va.mean() - vb.mean()) if va.size and vb.size else nan
        return Difference(metric, name_a, name_b, paired, va.size, vb.size, diff, nan, nan, nan, nan, prob,
                          "too_few_runs")
    p, low, high = _test_and_interval(va, vb, paired, confidence, method)
    diff = float(np.mean(va - vb)) if paired else float(va.mean() - vb.mean())
    out = Difference(metric, name_a, name_b, paired, va.size, vb.size, diff, low, high, p, p, prob, "")
    out.verdict = verdict(out, higher_is_better)
    if out.verdict == "too_few_runs":
        out.p_adjusted = nan
    elif out.verdict == "indistinguishable":
        out.seeds_needed = seeds_needed(va, vb, paired=paired)
    return out


def verdict(d: Difference, higher_is_better: bool | None, *, alpha: float = ALPHA) -> str:
    """The rule: ``too_few_runs`` when a group has fewer than :data:`MIN_RUNS` seeds; otherwise
    a group is better when the adjusted p-value is below ``alpha`` *and* the interval of the
    difference excludes 0 on its side; ``indistinguishable`` otherwise."""
    if d.n_a < MIN_RUNS or d.n_b < MIN_RUNS:
        return "too_few_runs"
    if not (d.p_adjusted < alpha):
        return "indistinguishable"
    if d.ci_low > 0:
        higher = "a"
    elif d.ci_high < 0:
        higher = "b"
    else:
        return "indistinguishable"
    if higher_is_better is None:
        return f"{higher}_higher"
    winner = higher if higher_is_better else ("b" if higher == "a" else "a")
    return f"{winner}_better"


def compare_groups(metric: str, groups: dict[str, dict], *, higher_is_better: bool | None,
                   baseline: str | None = None, confidence: float = CONFIDENCE, method: str = "auto") -> list[Difference]:
    """Every pair of groups (or every group against ``baseline``), adjusted for making m comparisons.

    The p-values are Holm-adjusted over the m pairs that have enough runs; the intervals of the
    differences are simultaneous (Bonferroni: each at level ``1 - (1 - confidence) / m``), so that
    all of them hold together at ``confidence`` and an interval that excludes 0 agrees with the
    adjusted test (Holm rejects whatever Bonferroni does). Seeds needed are computed at the
    Bonferroni level ``ALPHA / m`` too.

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
                        confidence=confidence, method=method) for a, b in pairs]
    eligible = [r for r in rows if r.verdict != "too_few_runs"]
    m = len(eligible)
    for r, p in zip(eligible, holm([r.p_value for r in eligible])):
        paired, va, vb = _aligned(groups[r.group_a], groups[r.group_b])
        if m > 1:  # Bonferroni: all m intervals hold together at `confidence`
            _, r.ci_low, r.ci_high = _test_and_interval(va, vb, paired, 1 - (1 - confidence) / m, method)
        r.p_adjusted = float(p)
        r.verdict = verdict(r, higher_is_better)
        r.seeds_needed = (seeds_needed(va, vb, paired=paired, alpha=ALPHA / m)
                          if r.verdict == "indistinguishable" else None)
    return rows
