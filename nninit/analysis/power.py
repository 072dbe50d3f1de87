"""About how many seeds a comparison needs: the power of the t-test from the noncentral t distribution,
80 % power at a two-sided 5 % level (Colas et al. 2018).

The answer is the exact one (the smallest n whose noncentral-t power reaches the target), found cheaply: the normal
approximation's closed form ``n ≈ ((z_{1-α/2} + z_power) s / |Δ|)²`` (Cohen 1988, ch. 2), refined twice with the t
quantiles at that n's degrees of freedom, places the search; the exact powers of a short window of n around it are
evaluated in one vectorized scipy call for all the pairs of a comparison, and the old doubling and bisection is kept
only as the fallback when the answer lies outside that window (very small n, where the t distribution's heavier
tails add more than the window). Power grows with n, so the first n of the window that reaches the target is the
answer the full search gives (``tests/test_stats_scale.py`` checks equality). The power's far tail (rejecting on the
wrong side, below ``alpha / 2``) is taken as 0 where scipy's ``nct.cdf`` underflows to NaN; the search before
counted a NaN power as reaching the target and could answer too few seeds (5 where 6 are needed, at a Bonferroni
level).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from nninit.analysis.intervals import ALPHA

WINDOW = 8
"""How many n past the closed-form guess are tried at once (the t-test needs at most a few more seeds than the
normal approximation says once n is past about 5)."""


def seeds_needed(a, b, *, paired: bool, alpha: float = ALPHA, power: float = 0.8, limit: int = 100_000) -> int | None:
    """About how many seeds per group the t-test needs to separate the observed difference.

    The power of the two-sided t-test at level ``alpha`` when the true difference and spread are
    the observed ones: ``P(|T| > t_crit)`` with ``T ~ noncentral t(df, δ)``, ``δ = Δ / (s / √n)``
    (paired: ``s`` the std of the differences, ``df = n-1``; unpaired: ``s² = s_a² + s_b²``,
    ``df = 2n-2``). Colas et al. 2018, section 4. The observed difference is itself uncertain:
    this is a rough guide, not a promise. The search starts near the answer (module docstring);
    the n returned is the exact smallest one. :func:`seeds_needed_many` answers many pairs at once.

    Returns
    -------
    int or None
        The smallest n ≥ 2 with the requested power; None when the observed difference is 0 or
        more than ``limit`` seeds would be needed.
    """
    return seeds_needed_many([(a, b, paired)], alpha=alpha, power=power, limit=limit)[0]


def seeds_needed_many(pairs, *, alpha: float = ALPHA, power: float = 0.8, limit: int = 100_000) -> list[int | None]:
    """:func:`seeds_needed` of each ``(a, b, paired)`` of ``pairs``, the exact powers of all of them evaluated
    together (a few vectorized scipy calls instead of a dozen per pair).

    Returns
    -------
    list of int or None
        One answer per pair, as :func:`seeds_needed` gives it.
    """
    out: list[int | None] = []
    effects = []  # (index, |Δ|, s, paired) of the pairs that need the search
    for a, b, paired in pairs:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        out.append(None)
        if a.size < 2 or b.size < 2:
            continue
        if paired:
            delta, spread = float(np.mean(a - b)), float(np.std(a - b, ddof=1))
        else:
            delta, spread = float(a.mean() - b.mean()), math.sqrt(a.var(ddof=1) + b.var(ddof=1))
        if delta == 0:
            continue
        if spread == 0:
            out[-1] = 2
            continue
        effects.append((len(out) - 1, abs(delta), spread, bool(paired)))
    if effects:
        index, delta, spread, paired = (np.array(c) for c in zip(*effects, strict=True))
        for i, n in zip(index, _search(delta, spread, paired, alpha, power, limit), strict=True):
            out[i] = n
    return out


def _achieved(n, delta, spread, paired, alpha: float):
    """The exact power at n seeds (arrays broadcast together)."""
    n = np.asarray(n, dtype=float)
    df = np.where(paired, n - 1, 2 * n - 2)
    nc = delta / (spread / np.sqrt(n))
    crit = stats.t.ppf(1 - alpha / 2, df)
    wrong_side = np.nan_to_num(stats.nct.cdf(-crit, df, nc), nan=0.0)  # scipy gives NaN where it underflows
    return stats.nct.sf(crit, df, nc) + wrong_side


def _guess(delta, spread, paired, alpha: float, power: float, limit: int) -> np.ndarray:
    """Where the answer lies: the normal closed form, then twice the same with t quantiles at that n's df."""
    ratio = (spread / delta) ** 2
    n = np.clip((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) ** 2 * ratio, 2.0, float(limit))
    for _ in range(2):
        df = np.where(paired, n - 1, 2 * n - 2)
        n = np.clip((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) ** 2 * ratio, 2.0, float(limit))
    return np.ceil(n)


def _search(delta, spread, paired, alpha: float, power: float, limit: int) -> list[int | None]:
    """The smallest n in [2, limit] with the power reached, per pair (None when even ``limit`` falls short)."""
    start = np.maximum(_guess(delta, spread, paired, alpha, power, limit).astype(int) - 2, 2)
    window = np.minimum(start[:, None] + np.arange(WINDOW + 3), limit)
    reached = _achieved(window, delta[:, None], spread[:, None], paired[:, None], alpha) >= power
    answers: list[int | None] = []
    for k in range(len(delta)):
        row = reached[k]
        if row.any() and (not row[0] or window[k, 0] == 2):
            answers.append(int(window[k, np.argmax(row)]))
        elif not row.any() and window[k, -1] == limit:
            answers.append(None)
        else:
            answers.append(_fallback(float(delta[k]), float(spread[k]), bool(paired[k]), alpha, power, limit,
                                     int(window[k, 0]), bool(row.any())))
    return answers


def _fallback(delta: float, spread: float, paired: bool, alpha: float, power: float, limit: int, first: int,
              reached_first: bool) -> int | None:
    """The full search (doubling, then bisection) where the window missed the answer."""
    def achieved(n: int) -> float:
        return float(_achieved(n, delta, spread, paired, alpha))

    low, high = (1, first) if reached_first else (first, first)
    while achieved(high) < power:
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:  # achieved(low) < power <= achieved(high)
        mid = (low + high) // 2
        low, high = (mid, high) if achieved(mid) < power else (low, mid)
    return high
