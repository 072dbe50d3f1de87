"""How sure a group's mean is: the confidence interval of a mean, a group's estimates, a proportion's interval.

- the interval of a mean: Student's t (exact for normal data at any n) below :data:`BOOTSTRAP_MIN_N`
  values, scipy's BCa bootstrap (Efron 1987) from there on, and t again from :data:`BOOTSTRAP_MAX_N` values
  (where the central limit theorem makes it accurate and the bootstrap's cost would outgrow the seeds). The
  bootstrap under-covers with few values (measured on normal data: 74 % at n=3, 85 % at n=5, 92 % at n=10
  for a nominal 95 %), which is the usual number of seeds; see ``tests/test_stats.py``;
- a binomial proportion (accuracy on a finite test set): Wilson's score interval (Wilson 1927);
- a scale-free notion of "identical up to rounding": a spread of at most :data:`ROUNDING` times the
  largest magnitude of the values, so that changing the units changes no verdict.

:mod:`nninit.analysis.stats` gathers these with the comparisons of groups.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
BOOTSTRAP_MIN_N = 30
"""From this many values on, ``method='auto'`` uses the BCa bootstrap; below, Student's t."""
BOOTSTRAP_MAX_N = 1000
"""From this many values on, ``method='auto'`` uses Student's t again: the mean of 1,000 values of a bounded
metric is normal to well within the interval's rounding (central limit theorem), while BCa's cost grows as
``n × N_RESAMPLES`` resamples plus an ``n²`` jackknife (0.8 s and 400 MB at 2,000 values, unbatched)."""
BOOTSTRAP_BATCH_VALUES = 16_000_000
"""The bootstrap's working memory bound: past this many resampled values (128 MB of float64; ``N_RESAMPLES × n``,
so from 1,601 values on) resamples are drawn in batches of at most this many, so that an explicit
``bca``/``percentile`` interval of many values keeps its memory bounded. Below it nothing is batched and the
numbers are those of one draw (batches would change the random stream)."""
N_RESAMPLES = 9999
RANDOM_STATE = 0
"""The bootstrap's fixed seed: a summary is byte-identical when rerun."""
METHODS = ("auto", "t", "bca", "percentile")
ROUNDING = 1e-12
"""Values whose spread is at most this times their largest magnitude are identical up to rounding
(relative, so that a metric around 1e-21 is treated like the same metric in other units)."""


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


def mean_interval(values, *, confidence: float = CONFIDENCE, method: str = "auto", random_state: int = RANDOM_STATE,
                  bounds: tuple[float, float] = UNBOUNDED) -> tuple[float, float, str]:
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
        from there, ``t`` again from :data:`BOOTSTRAP_MAX_N` values (its cost then grows only with n).
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
    from there, ``t`` from :data:`BOOTSTRAP_MAX_N`); any other method unchanged."""
    if method == "auto":
        return "bca" if BOOTSTRAP_MIN_N <= n < BOOTSTRAP_MAX_N else "t"
    return method


def _bootstrap(data: tuple, statistic, confidence: float, method: str, random_state: int) -> tuple[float, float] | None:
    """scipy's bootstrap interval of ``statistic`` (``method`` 'bca' or 'percentile', :data:`N_RESAMPLES`
    resamples, seeded, in batches of at most :data:`BOOTSTRAP_BATCH_VALUES` values); None when it cannot be computed
    (BCa of values that are equal up to rounding)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):  # degenerate data: a 0/0 and a warning, then NaN
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(data, statistic, confidence_level=confidence, n_resamples=N_RESAMPLES,
                              method=method, rng=np.random.default_rng(random_state),
                              batch=_batch(max(len(d) for d in data)))
    low, high = res.confidence_interval
    return (float(low), float(high)) if np.isfinite([low, high]).all() else None


def _batch(n: int) -> int | None:
    """Resamples per batch for ``n`` values: None (all at once) up to :data:`BOOTSTRAP_BATCH_VALUES` values."""
    return None if n * N_RESAMPLES <= BOOTSTRAP_BATCH_VALUES else max(1, BOOTSTRAP_BATCH_VALUES // n)


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

    From its formula (Wilson 1927; Agresti & Coull 1998, eq. 2): with ``p = k / n`` and ``z`` the
    ``(1 + confidence) / 2`` quantile of the standard normal,
    ``(p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n)``, clipped to [0, 1] against rounding. The same
    numbers as ``scipy.stats.binomtest(k, n).proportion_ci(method='wilson')`` (pinned in
    ``tests/test_stats.py``), without building a test object per call (``runs.csv`` asks once per run).
    With 100 test examples an accuracy of 95 % has the interval [88.8 %, 97.8 %].

    Raises
    ------
    ValueError
        When ``trials`` < 1 or ``successes`` is not in [0, trials].
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"wilson_interval: need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    k, n = int(successes), int(trials)
    z = _normal_quantile(0.5 + confidence / 2)
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@functools.lru_cache(maxsize=16)
def _normal_quantile(q: float) -> float:
    """``scipy.stats.norm.ppf(q)``, remembered: a report asks for the same level thousands of times."""
    return float(stats.norm.ppf(q))
