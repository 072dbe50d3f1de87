"""About how many seeds a comparison needs: the power of the t-test from the noncentral t distribution,
80 % power at a two-sided 5 % level (Colas et al. 2018)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from nninit.analysis.intervals import ALPHA


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
