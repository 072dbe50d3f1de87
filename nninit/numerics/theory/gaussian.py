"""Gaussian expectations by composite Gauss-Legendre rules, fine enough for the Gaussian and for the
function integrated (Gauss-Hermite quadrature is not, for large variances or at a kink)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_RANGE = 10.0  # standard deviations integrated on each side
_ORDER = 12  # Gauss-Legendre nodes per panel
_LEGENDRE = np.polynomial.legendre.leggauss(_ORDER)


def standard_normal_rule(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for ``E[f(scale * Z)]``, ``Z ~ N(0, 1)``, with ``f`` smooth on unit scale.

    A composite Gauss-Legendre rule (12 nodes per panel) on ``z`` in [-10, 10], with panels of
    width ``min(1, 1 / scale)``: fine enough for the Gaussian weight (unit scale) and for ``f(scale
    z)`` (scale ``1 / scale``), which is what Gauss-Hermite quadrature is not for large ``scale``.

    Parameters
    ----------
    scale : float
        Standard deviation of the argument of ``f`` (``sqrt(q)``), >= 0.

    Returns
    -------
    z, w : ndarray of float64, shape (k,)
        ``sum(w * f(scale * z))`` approximates the expectation; ``sum(w)`` is 1 to 1e-15.
    """
    width = min(1.0, 1.0 / scale) if scale > 0 else 1.0
    panels = math.ceil(2 * _RANGE / width)
    edges = np.linspace(-_RANGE, _RANGE, panels + 1)
    x, w = _LEGENDRE
    half = 0.5 * np.diff(edges)[:, None]
    z = (0.5 * (edges[:-1] + edges[1:])[:, None] + half * x).ravel()
    weights = (half * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return z, weights


def expect(f: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """``E[f(u)]`` for ``u ~ N(0, q)`` by :func:`standard_normal_rule` (``f`` smooth on unit scale)."""
    z, w = standard_normal_rule(math.sqrt(q))
    return float(np.dot(w, f(math.sqrt(q) * z)))


def expect_pair(f: Callable, g: Callable, q1: float, q2: float, c: float) -> float:
    """``E[f(u1) g(u2)]`` for centred jointly normal ``u1, u2`` with variances ``q1, q2`` and correlation ``c``.

    ``u1 = sqrt(q1) z1`` and ``u2 = sqrt(q2) (c z1 + s z2)``, ``s = sqrt(1 - c**2)``: an outer rule
    in ``z1`` (as fine as ``f(u1)`` and ``g``'s dependence on ``z1`` need) and an inner rule in ``z2``
    (as fine as ``g(sqrt(q2) s z2)``), both from :func:`standard_normal_rule`.
    """
    c = min(1.0, max(-1.0, c))
    s = math.sqrt(max(0.0, 1.0 - c * c))
    r1, r2 = math.sqrt(q1), math.sqrt(q2)
    z1, w1 = standard_normal_rule(max(r1, r2 * abs(c)))
    z2, w2 = standard_normal_rule(r2 * s)
    inner = g(r2 * (c * z1[:, None] + s * z2[None, :])) @ w2
    return float(np.dot(w1, f(r1 * z1) * inner))
