"""The fixed points of the maps and the slopes there: q*, chi_1, the correlation map at q* and c*
(Poole et al. 2016, sections 2-3)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import optimize

from nninit.numerics.activations import Activation
from nninit.numerics.theory.gaussian import expect
from nninit.numerics.theory.maps import (
    PIECEWISE_LINEAR,
    check_arguments,
    covariance_map,
    derivatives,
    length_map,
    pair_kernel,
    slope_below_zero,
)


def q_star(activation: Activation, weight_variance: float, bias_variance: float, *, q0: float = 1.0) -> float:
    """The fixed point q* of the length map that the layers reach from ``q0``.

    Poole et al. 2016, section 2: ``q* = weight_variance E[phi(sqrt(q*) z)**2] + bias_variance``.

    - ReLU / leaky ReLU (closed form, ``g = weight_variance (1 + a**2) / 2``): ``bias_variance / (1 -
      g)`` when ``g < 1``; when ``g = 1`` and ``bias_variance = 0`` every q is a fixed point (He
      initialization: the second moment is preserved) and ``q0`` is returned; ``inf`` when the map
      grows without bound (``g > 1`` with ``q0 > 0``, or ``g = 1`` with ``bias_variance > 0``).
    - tanh (odd, ``phi'(0) = 1``): 0 when ``bias_variance = 0`` and ``weight_variance <= 1`` (the
      signal vanishes), else the positive root of ``length_map(q) - q``.
    - sigmoid: the root of ``length_map(q) - q`` in ``(0, weight_variance + bias_variance]``.

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float
        sigma_w**2 (> 0) and sigma_b**2 (>= 0).
    q0 : float, default=1.0
        The starting second moment (only matters where the fixed point is not unique).

    Returns
    -------
    float
        q*, to 1e-12 relative for tanh and sigmoid; ``inf`` where the length map diverges.
    """
    check_arguments(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = slope_below_zero(activation)
        gain = weight_variance * (1 + a * a) / 2
        if gain < 1:
            return bias_variance / (1 - gain)
        if gain == 1 and bias_variance == 0:
            return float(q0)
        return math.inf if (q0 > 0 or bias_variance > 0) else 0.0
    if activation.name == "tanh" and bias_variance == 0 and weight_variance <= 1:
        return 0.0
    top = weight_variance + bias_variance  # |phi| <= 1 bounds the map

    def gap(q: float) -> float:
        return float(length_map(activation, weight_variance, bias_variance, q)) - q

    low = 1e-300 if bias_variance > 0 or activation.name == "sigmoid" else _tanh_lower_bracket(weight_variance, gap)
    return optimize.brentq(gap, low, top, xtol=1e-15, rtol=1e-13, maxiter=200)


def _tanh_lower_bracket(weight_variance: float, gap: Callable[[float], float]) -> float:
    """A q > 0 below tanh's positive fixed point when bias_variance = 0 (the map is ~ weight_variance q at 0)."""
    q = min(1.0, weight_variance - 1.0)
    while gap(q) <= 0:
        q /= 4.0
        if q < 1e-300:
            raise ArithmeticError(f"no positive fixed point found for weight_variance={weight_variance}")
    return q


def chi1(activation: Activation, weight_variance: float, bias_variance: float, *, q: float | None = None) -> float:
    """``chi_1 = weight_variance E[phi'(sqrt(q*) z)**2]``: order (< 1), edge of chaos (= 1), chaos (> 1).

    Poole et al. 2016, section 3 (the slope of the correlation map at ``c = 1``, the stretch
    factor of a small perturbation per layer); Schoenholz et al. 2017, section 3. It is also the
    mean squared singular value of one layer's Jacobian ``D W`` (Pennington et al. 2017). ReLU:
    ``weight_variance / 2``; leaky ReLU: ``weight_variance (1 + a**2) / 2`` (exact, any q).

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float
    q : float, optional
        The second moment at which to evaluate; default q* (:func:`q_star`).

    Returns
    -------
    float
    """
    check_arguments(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = slope_below_zero(activation)
        return weight_variance * (1 + a * a) / 2
    if q is None:
        q = q_star(activation, weight_variance, bias_variance)
    _, d1, _ = derivatives(activation.name)
    return weight_variance * expect(lambda u: d1(u) ** 2, q)


def correlation_map(activation: Activation, weight_variance: float, bias_variance: float, c, *,
                    q: float | None = None) -> np.ndarray:
    """One layer of the correlation map at the fixed length: ``c' = (weight_variance E[phi(u1) phi(u2)] +
    bias_variance) / q*``.

    Poole et al. 2016, section 2 (the C-map), with ``q1 = q2 = q*``. Its fixed point is
    :func:`c_star`; its slope at ``c = 1`` is :func:`chi1`. For ReLU with ``bias_variance = 0`` the
    map does not depend on q: ``c' = (sin t + (pi - t) cos t) / pi``, ``t = arccos c`` (Cho & Saul
    2009), at any weight variance.

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float
    c : float or ndarray of float64
        Correlations in [-1, 1].
    q : float, optional
        The common second moment; default q*. (Where q* is 0 or infinite, the ReLU map's limit is
        used; for tanh with q* = 0 the network is linear near 0 and ``c`` is returned.)

    Returns
    -------
    ndarray of float64, the shape of ``c``
    """
    check_arguments(activation, weight_variance, bias_variance)
    c = np.asarray(c, dtype=float)
    if q is None:
        q = q_star(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR and (q == 0 or not math.isfinite(q)):
        a = slope_below_zero(activation)
        # bias_variance / q vanishes (q infinite) or q is 0 and bias_variance too: scale-free limit
        return pair_kernel(activation, 1.0, 1.0, c, derivative=False) / ((1 + a * a) / 2)
    if q == 0:
        return c.copy()
    _, _, c_next = covariance_map(activation, weight_variance, bias_variance, q, q, c)
    return c_next


def c_star(activation: Activation, weight_variance: float, bias_variance: float) -> float:
    """The stable fixed point c* of :func:`correlation_map`: 1 in the ordered phase (``chi_1 <= 1``),
    below 1 in the chaotic phase.

    Poole et al. 2016, section 3: in the chaotic phase ``c = 1`` is unstable and two nearby inputs
    decorrelate to the other fixed point c* < 1 (0 for odd activations without bias).

    Returns
    -------
    float
        In [-1, 1], to 1e-12 absolute.
    """
    if chi1(activation, weight_variance, bias_variance) <= 1:
        return 1.0
    q = q_star(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:  # chi_1 > 1 means q* infinite: the scale-free map keeps c = 1 (slope 1)
        return 1.0

    def gap(c: float) -> float:
        return float(correlation_map(activation, weight_variance, bias_variance, c, q=q)) - c

    grid = np.linspace(1.0, -1.0, 81)[1:]  # below 1 the gap is negative until c*
    previous = 1.0 - 1e-9
    for c in grid:
        if gap(c) >= 0:
            return optimize.brentq(gap, c, previous, xtol=1e-14, rtol=1e-13)
        previous = c
    return -1.0
