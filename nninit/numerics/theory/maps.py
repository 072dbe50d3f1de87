"""The mean-field maps of one layer at given second moments: the activations' derivatives, the
Gaussian kernels ``E[phi(u1) phi(u2)]``, the length map and the covariance map (Poole et al. 2016,
section 2; arc-cosine kernels: Cho & Saul 2009)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nninit.numerics.activations import Activation
from nninit.numerics.theory.gaussian import expect, expect_pair

PIECEWISE_LINEAR = ("relu", "leaky_relu")
"""Activations computed in closed form (arc-cosine kernels)."""
SMOOTH = ("tanh", "sigmoid")
"""Activations computed by quadrature."""


def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))  # = 1 / (1 + exp(-u)), without overflow


def derivatives(name: str) -> tuple[Callable, Callable, Callable]:
    """phi, phi' and phi'' of a smooth activation (``'tanh'`` or ``'sigmoid'``), elementwise on arrays.

    Raises
    ------
    ValueError
        For any other name (the piecewise-linear ones are computed in closed form instead).
    """
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


def check_arguments(activation: Activation, weight_variance: float, bias_variance: float) -> None:
    """Raise ``TypeError`` unless ``activation`` is an :class:`~nninit.numerics.activations.Activation`,
    ``ValueError`` unless ``weight_variance`` is finite and > 0 and ``bias_variance`` finite and >= 0."""
    if not isinstance(activation, Activation):
        raise TypeError(f"activation={activation!r} must be an Activation, e.g. Activation('tanh')")
    if not (math.isfinite(weight_variance) and weight_variance > 0):
        raise ValueError(f"weight_variance={weight_variance!r} must be a finite number > 0")
    if not (math.isfinite(bias_variance) and bias_variance >= 0):
        raise ValueError(f"bias_variance={bias_variance!r} must be a finite number >= 0")


def slope_below_zero(activation: Activation) -> float:
    """``a`` in ``phi(u) = max(u, a u)``: leaky ReLU's ``negative_slope``, 0 for every other activation."""
    return activation.negative_slope if activation.name == "leaky_relu" else 0.0


def pair_kernel(activation: Activation, q1, q2, c, derivative: bool) -> np.ndarray:
    """``E[phi(u1) phi(u2)]`` (or of ``phi'`` with ``derivative=True``) for centred jointly normal
    ``u1, u2`` with variances ``q1, q2`` and correlation ``c`` (arrays broadcast; ``c`` clipped to
    [-1, 1]); in closed form for ReLU and leaky ReLU, by :func:`expect_pair` otherwise."""
    q1, q2, c = np.broadcast_arrays(np.asarray(q1, float), np.asarray(q2, float), np.clip(np.asarray(c, float), -1, 1))
    if activation.name in PIECEWISE_LINEAR:
        a = slope_below_zero(activation)
        theta = np.arccos(c)
        if derivative:  # arc-cosine kernel of order 0 (Cho & Saul 2009)
            return a + (1 - a) ** 2 * (np.pi - theta) / (2 * np.pi)
        # arc-cosine kernel of order 1 (Cho & Saul 2009), and E[u1 relu(u2)] = sqrt(q1 q2) c / 2
        return np.sqrt(q1 * q2) * (a * c + (1 - a) ** 2 * (np.sin(theta) + (np.pi - theta) * c) / (2 * np.pi))
    phi, d1, _ = derivatives(activation.name)
    f = d1 if derivative else phi
    out = np.empty(q1.shape)
    for i in np.ndindex(q1.shape):
        out[i] = expect_pair(f, f, float(q1[i]), float(q2[i]), float(c[i]))
    return out


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
    check_arguments(activation, weight_variance, bias_variance)
    q = np.asarray(q, dtype=float)
    if activation.name in PIECEWISE_LINEAR:
        a = slope_below_zero(activation)
        return weight_variance * (1 + a * a) / 2 * q + bias_variance
    phi, _, _ = derivatives(activation.name)
    out = np.empty(q.shape)
    for i in np.ndindex(q.shape):
        out[i] = weight_variance * expect(lambda u: phi(u) ** 2, float(q[i])) + bias_variance
    return out


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
    check_arguments(activation, weight_variance, bias_variance)
    q1_next = length_map(activation, weight_variance, bias_variance, q1)
    q2_next = length_map(activation, weight_variance, bias_variance, q2)
    k = pair_kernel(activation, q1, q2, c, derivative=False)
    c_next = (weight_variance * k + bias_variance) / np.sqrt(q1_next * q2_next)
    return q1_next, q2_next, np.clip(c_next, -1.0, 1.0)
