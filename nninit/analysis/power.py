"""About how many seeds a comparison needs: the power of the t-test from the noncentral t distribution,
80 % power at a two-sided 5 % level (Colas et al. 2018).

The answer is the exact one (the smallest n whose noncentral-t power reaches the target), found cheaply: the
normal approximation's closed form ``n ≈ ((z_{1-α/2} + z_power) s / |Δ|)²`` (Cohen 1988, ch. 2) places the
search, the exact powers of a short window of n around it are evaluated in one vectorized scipy call, and the
old doubling and bisection is kept only as the fallback when the answer lies outside that window (very small
n, where the t distribution's heavier tails add more than the window). Power grows with n, so the first n of the
window that reaches the target is the answer the full search gives. The power's far tail (rejecting on the wrong
side, below ``alpha / 2``) is taken as 0 where scipy's ``nct.cdf`` underflows to NaN; the search before counted
a NaN power as reaching the target and could answer too few seeds (5 where 6 are needed, at a Bonferroni level).
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
    this is a rough guide, not a promise. The search starts at the normal approximation (module docstring);
    the n returned is the exact smallest one.

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

    def achieved(n):
        n = np.asarray(n, dtype=float)
        df = n - 1 if paired else 2 * n - 2
        nc = abs(delta) / (spread / np.sqrt(n))
        crit = stats.t.ppf(1 - alpha / 2, df)
        wrong_side = np.nan_to_num(stats.nct.cdf(-crit, df, nc), nan=0.0)  # scipy gives NaN where it underflows
        return stats.nct.sf(crit, df, nc) + wrong_side

    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    guess = min(max((z * spread / abs(delta)) ** 2, 2.0), float(limit))
    window = np.arange(max(2, math.ceil(guess) - 2), min(limit, math.ceil(guess) + WINDOW) + 1)
    reached = achieved(window) >= power
    if reached.any() and (not reached[0] or window[0] == 2):
        return int(window[np.argmax(reached)])
    low, high = (1, int(window[0])) if reached.any() else (int(window[-1]), int(window[-1]))
    while float(achieved(high)) < power:  # past the window: double, as the full search does
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:  # achieved(low) < power <= achieved(high)
        mid = (low + high) // 2
        low, high = (mid, high) if float(achieved(mid)) < power else (low, mid)
    return high
