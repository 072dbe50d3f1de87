"""Mean-field theory of signal propagation at initialization: q*, chi_1, the correlation map, depth scales.

A fully connected network with ``W_ij ~ N(0, weight_variance / fan_in)`` and ``b_i ~ N(0,
bias_variance)`` (``init=variance_scaling init.distribution=normal init.scale=weight_variance
init.bias_std=sqrt(bias_variance)``) has, as its width grows, Gaussian pre-activations whose
second moment ``q`` and correlation ``c`` between two inputs follow deterministic maps from layer to
layer (Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli 2016, "Exponential expressivity in deep
neural networks through transient chaos", section 2; Schoenholz, Gilmer, Ganguli &
Sohl-Dickstein 2017, "Deep information propagation", section 2). With ``sigma_w**2`` the weight
variance, ``sigma_b**2`` the bias variance, ``phi`` the activation and ``z, z1, z2`` independent
standard normals:

- the length map ``q_l = sigma_w**2 E[phi(sqrt(q_(l-1)) z)**2] + sigma_b**2`` and its fixed point q*;
- the covariance map ``q12_l = sigma_w**2 E[phi(u1) phi(u2)] + sigma_b**2`` with
  ``u1 = sqrt(q1) z1``, ``u2 = sqrt(q2) (c z1 + sqrt(1 - c**2) z2)``, and the correlation
  ``c_l = q12_l / sqrt(q1_l q2_l)``; at q* it is the correlation map ``c -> c'``, with the fixed
  point c* (``c* = 1``: ordered phase);
- ``chi_1 = sigma_w**2 E[phi'(sqrt(q*) z)**2]``, the slope of the correlation map at ``c = 1`` and
  the mean squared singular value of one layer's Jacobian; ``chi_1 < 1`` is the ordered phase,
  ``chi_1 > 1`` the chaotic one, ``chi_1 = 1`` the edge of chaos (Poole et al. 2016);
- the depth scales ``xi_q = -1 / log chi_q`` with ``chi_q = sigma_w**2 E[phi'(u)**2 + phi(u)
  phi''(u)]`` at ``u = sqrt(q*) z`` (the slope of the length map at q*) and ``xi_c = -1 / log
  chi_c`` with ``chi_c = sigma_w**2 E[phi'(u1) phi'(u2)]`` at (q*, c*) (Schoenholz et al. 2017,
  section 3): ``|q_l - q*|`` and ``|c_l - c*|`` decay like ``exp(-l / xi)``; ``xi_c`` diverges on
  the critical line.

ReLU and leaky ReLU are computed in closed form: the arc-cosine kernel of order 1 (Cho & Saul 2009,
"Kernel methods for deep learning", eq. 6) gives ``E[relu(u1) relu(u2)] = sqrt(q1 q2) (sin t +
(pi - t) cos t) / (2 pi)`` and its order 0 ``E[relu'(u1) relu'(u2)] = (pi - t) / (2 pi)``, ``t =
arccos c``; leaky ReLU is ``a u + (1 - a) relu(u)``. (Gauss-Hermite quadrature, exact for
polynomials, is badly wrong at the kink: 101 nodes give chi_1 = 0.88 for He on ReLU, where the
truth is exactly 1.) tanh and sigmoid are integrated numerically by composite Gauss-Legendre rules
whose panels are as fine as the sharper of the Gaussian and the activation, on [-10, 10] standard
deviations (the tails beyond weigh less than 1e-22): relative error below 1e-9 against
``scipy.integrate.quad`` (``tests/test_theory.py``).

Activations are :class:`~nninit.numerics.activations.Activation` values: ``relu``, ``leaky_relu``
(with its ``negative_slope``), ``tanh``, ``sigmoid``. Every function takes float64 scalars unless it
says arrays are accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import optimize

from nninit.numerics.activations import Activation

PIECEWISE_LINEAR = ("relu", "leaky_relu")
"""Activations computed in closed form (arc-cosine kernels)."""
SMOOTH = ("tanh", "sigmoid")
"""Activations computed by quadrature."""

_RANGE = 10.0  # standard deviations integrated on each side
_ORDER = 12  # Gauss-Legendre nodes per panel
_LEGENDRE = np.polynomial.legendre.leggauss(_ORDER)


# ---- the activations and their derivatives ----------------------------------------------------
def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))  # = 1 / (1 + exp(-u)), without overflow


def _derivatives(name: str) -> tuple[Callable, Callable, Callable]:
    """phi, phi' and phi'' of a smooth activation."""
    if name == "tanh":
        def d1(u):
            return 1.0 - np.tanh(u) ** 2

        def d2(u):
            t = np.tanh(u)
            return -2.0 * t * (1.0 - t * t)

        return np.tanh, d1, d2
    if name == "sigmoid":
        def s1(u):
            s = _sigmoid(u)
            return s * (1.0 - s)

        def s2(u):
            s = _sigmoid(u)
            return s * (1.0 - s) * (1.0 - 2.0 * s)

        return _sigmoid, s1, s2
    raise ValueError(f"activation={name!r} has no quadrature rule; accepted: {', '.join(SMOOTH)}")


def _check(activation: Activation, weight_variance: float, bias_variance: float) -> None:
    if not isinstance(activation, Activation):
        raise TypeError(f"activation={activation!r} must be an Activation, e.g. Activation('tanh')")
    if not (math.isfinite(weight_variance) and weight_variance > 0):
        raise ValueError(f"weight_variance={weight_variance!r} must be a finite number > 0")
    if not (math.isfinite(bias_variance) and bias_variance >= 0):
        raise ValueError(f"bias_variance={bias_variance!r} must be a finite number >= 0")


def _slope(activation: Activation) -> float:
    return activation.negative_slope if activation.name == "leaky_relu" else 0.0


# ---- Gaussian expectations ----------------------------------------------------------------------
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


def _pair_kernels(activation: Activation, q1, q2, c, derivative: bool) -> np.ndarray:
    """``E[phi(u1) phi(u2)]`` (or of ``phi'`` with ``derivative=True``), arrays broadcast."""
    q1, q2, c = np.broadcast_arrays(np.asarray(q1, float), np.asarray(q2, float), np.clip(np.asarray(c, float), -1, 1))
    if activation.name in PIECEWISE_LINEAR:
        a = _slope(activation)
        theta = np.arccos(c)
        if derivative:  # arc-cosine kernel of order 0 (Cho & Saul 2009)
            return a + (1 - a) ** 2 * (np.pi - theta) / (2 * np.pi)
        # arc-cosine kernel of order 1 (Cho & Saul 2009), and E[u1 relu(u2)] = sqrt(q1 q2) c / 2
        return np.sqrt(q1 * q2) * (a * c + (1 - a) ** 2 * (np.sin(theta) + (np.pi - theta) * c) / (2 * np.pi))
    phi, d1, _ = _derivatives(activation.name)
    f = d1 if derivative else phi
    out = np.empty(q1.shape)
    for i in np.ndindex(q1.shape):
        out[i] = expect_pair(f, f, float(q1[i]), float(q2[i]), float(c[i]))
    return out


# ---- the length map and q* -----------------------------------------------------------------------
def length_map(activation: Activation, weight_variance: float, bias_variance: float, q) -> np.ndarray:
    """One layer of the length map: ``q' = weight_variance E[phi(sqrt(q) z)**2] + bias_variance``.

    Poole et al. 2016, section 2 (the recursion for the squared length ``q^l`` of the
    pre-activations); Schoenholz et al. 2017, section 2. For ReLU ``E[relu(sqrt(q) z)**2] = q / 2``,
    for leaky ReLU ``(1 + a**2) q / 2``.

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float
        sigma_w**2 (> 0) and sigma_b**2 (>= 0).
    q : float or ndarray of float64, any shape
        Second moment of the previous layer's pre-activations, >= 0.

    Returns
    -------
    ndarray of float64, the shape of ``q``
    """
    _check(activation, weight_variance, bias_variance)
    q = np.asarray(q, dtype=float)
    if activation.name in PIECEWISE_LINEAR:
        a = _slope(activation)
        return weight_variance * (1 + a * a) / 2 * q + bias_variance
    phi, _, _ = _derivatives(activation.name)
    out = np.empty(q.shape)
    for i in np.ndindex(q.shape):
        out[i] = weight_variance * expect(lambda u: phi(u) ** 2, float(q[i])) + bias_variance
    return out


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
    _check(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = _slope(activation)
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


# ---- chi_1 and the correlation map ---------------------------------------------------------------
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
    _check(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = _slope(activation)
        return weight_variance * (1 + a * a) / 2
    if q is None:
        q = q_star(activation, weight_variance, bias_variance)
    _, d1, _ = _derivatives(activation.name)
    return weight_variance * expect(lambda u: d1(u) ** 2, q)


def covariance_map(activation: Activation, weight_variance: float, bias_variance: float, q1, q2,
                   c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One layer of the mean-field map of two inputs' pre-activations: ``(q1, q2, c) -> (q1', q2', c')``.

    Poole et al. 2016, section 2: ``q12' = weight_variance E[phi(u1) phi(u2)] + bias_variance`` with
    ``u1 = sqrt(q1) z1``, ``u2 = sqrt(q2) (c z1 + sqrt(1 - c**2) z2)``, ``qa'`` the length map, and
    ``c' = q12' / sqrt(q1' q2')``. For ReLU and leaky ReLU ``E[phi(u1) phi(u2)]`` is the arc-cosine
    kernel (Cho & Saul 2009). Iterating it from a first layer's ``q_a = weight_variance |x_a|**2 /
    n_0 + bias_variance`` and ``q12`` predicts the layers of a wide network for inputs ``x_1, x_2``.

    Parameters
    ----------
    activation : Activation
    weight_variance, bias_variance : float
    q1, q2 : float or ndarray of float64
        Second moments of the two inputs' pre-activations (> 0), broadcast with ``c``.
    c : float or ndarray of float64
        Their correlation, in [-1, 1].

    Returns
    -------
    q1_next, q2_next, c_next : ndarray of float64, the broadcast shape
    """
    _check(activation, weight_variance, bias_variance)
    q1_next = length_map(activation, weight_variance, bias_variance, q1)
    q2_next = length_map(activation, weight_variance, bias_variance, q2)
    k = _pair_kernels(activation, q1, q2, c, derivative=False)
    c_next = (weight_variance * k + bias_variance) / np.sqrt(q1_next * q2_next)
    return q1_next, q2_next, np.clip(c_next, -1.0, 1.0)


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
    _check(activation, weight_variance, bias_variance)
    c = np.asarray(c, dtype=float)
    if q is None:
        q = q_star(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR and (q == 0 or not math.isfinite(q)):
        a = _slope(activation)
        # bias_variance / q vanishes (q infinite) or q is 0 and bias_variance too: scale-free limit
        return _pair_kernels(activation, 1.0, 1.0, c, derivative=False) / ((1 + a * a) / 2)
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


# ---- depth scales and the critical line ------------------------------------------------------------
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
    _check(activation, weight_variance, bias_variance)
    q = q_star(activation, weight_variance, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        chi = chi1(activation, weight_variance, bias_variance)
        return DepthScales(_depth(chi), _depth(chi), chi, chi, q, 1.0)
    if q == 0:
        return DepthScales(_depth(weight_variance), math.inf, weight_variance, 1.0, 0.0, 1.0)
    phi, d1, d2 = _derivatives(activation.name)
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
    _check(activation, 1.0, bias_variance)
    if activation.name in PIECEWISE_LINEAR:
        a = _slope(activation)
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
