"""Depth scales and the critical line: how many layers a signal's length and correlation survive
(Schoenholz et al. 2017, section 3), and the edge of chaos chi_1 = 1 (Poole et al. 2016)."""

from __future__ import annotations

import math
from typing import NamedTuple

from scipy import optimize

from nninit.numerics.activations import Activation
from nninit.numerics.theory.fixed_points import c_star, chi1, q_star
from nninit.numerics.theory.gaussian import expect, expect_pair
from nninit.numerics.theory.maps import PIECEWISE_LINEAR, check_arguments, derivatives, slope_below_zero


class DepthScales(NamedTuple):
    """Schoenholz et al. 2017's depth scales and the quantities they are computed from."""

    xi_q: float
    """``-1 / log chi_q``: layers over which ``|q_l - q*|`` shrinks by e (inf where ``chi_q = 1``)."""
    xi_c: float
    """``-1 / log chi_c``: layers over which ``|c_l - c*|`` shrinks by e; diverges at the edge of chaos."""
    chi_q: float
    """Slope of the length map at q*."""
    chi_c: float
    """Slope of the correlation map at c*."""
    q_star: float
    c_star: float


def _depth(chi: float) -> float:
    if chi >= 1:
        return math.inf
    if chi <= 0:
        return 0.0
    return -1.0 / math.log(chi)


def depth_scales(activation: Activation, weight_variance: float, bias_variance: float) -> DepthScales:
    """The depth scales ``xi_q`` and ``xi_c`` of Schoenholz et al. 2017, section 3.

    ``chi_q = weight_variance E[phi'(u)**2 + phi(u) phi''(u)]`` at ``u = sqrt(q*) z`` (the derivative
    of the length map at q*, by Stein's lemma) and ``chi_c = weight_variance E[phi'(u1) phi'(u2)]`` at
    (q*, c*) (the derivative of the correlation map at c*, by Price's theorem); ``xi = -1 / log chi``.
    In the ordered phase ``c* = 1`` and ``chi_c = chi_1``. ReLU/leaky ReLU: ``chi_q = chi_c = chi_1``
    (closed form). Where q* = 0 (tanh without bias, ``weight_variance <= 1``) the layers are linear
    around 0: ``chi_q = weight_variance`` and correlations are kept (``xi_c = inf``).

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float

    Returns
    -------
    DepthScales
        ``xi_q, xi_c, chi_q, chi_c, q_star, c_star``; a depth scale is ``inf`` where its chi is >= 1.
    """
    check_arguments(activation, weight_variance, bias_variance)
    q = q_star(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        chi = chi1(activation, weight_variance, bias_variance)
        return DepthScales(_depth(chi), _depth(chi), chi, chi, q, 1.0)
    if q == 0:
        return DepthScales(_depth(weight_variance), math.inf, weight_variance, 1.0, 0.0, 1.0)
    phi, d1, d2 = derivatives(activation.name)
    chi_q = weight_variance * expect(lambda u: d1(u) ** 2 + phi(u) * d2(u), q)
    c = c_star(activation, weight_variance, bias_variance)
    chi_c = weight_variance * expect_pair(d1, d1, q, q, c)
    return DepthScales(_depth(chi_q), _depth(chi_c), chi_q, chi_c, q, c)


def critical_weight_variance(activation: Activation, bias_variance: float) -> float:
    """The weight variance on the edge of chaos, where ``chi_1 = 1``, for a given bias variance.

    Poole et al. 2016, Fig. 2 / Schoenholz et al. 2017, Fig. 1: the critical line between the
    ordered and the chaotic phase. ReLU: exactly 2 (He et al. 2015's variance), leaky ReLU
    ``2 / (1 + a**2)``, whatever the bias variance (with ``bias_variance > 0`` q* is then
    infinite: only ``(2, 0)`` is a proper critical point of ReLU). tanh: exactly 1 at
    ``bias_variance = 0`` (``phi'(0) = 1``), growing with the bias variance. sigmoid: the root of
    ``chi_1 = 1`` (``phi' <= 1/4`` puts it above 16).

    Parameters
    ----------
    activation : Activation
    bias_variance : float
        sigma_b**2, >= 0.

    Returns
    -------
    float
        sigma_w**2, to 1e-10 relative for tanh and sigmoid.
    """
    check_arguments(activation, 1.0, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = slope_below_zero(activation)
        return 2.0 / (1 + a * a)
    if activation.name == "tanh" and bias_variance == 0:
        return 1.0

    def excess(weight_variance: float) -> float:
        return chi1(activation, weight_variance, bias_variance) - 1.0

    low = 1.0 if activation.name == "tanh" else 16.0  # chi_1 <= weight_variance max(phi')**2 <= 1 there
    high = 2.0 * low
    while excess(high) < 0:
        low, high = high, 2.0 * high
        if high > 1e8:
            raise ArithmeticError(f"no critical weight variance below 1e8 for bias_variance={bias_variance}")
    return optimize.brentq(excess, low, high, xtol=1e-14, rtol=1e-12)
