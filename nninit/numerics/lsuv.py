"""Layer-sequential unit-variance (LSUV) initialization."""

from __future__ import annotations

import logging
import math

import numpy as np

from nninit.numerics.activations import RELU, Activation, activate

log = logging.getLogger(__name__)

_TINY = 1e-280
"""Below this variance the measurement is no longer trustworthy in float64 (its square root and the
products behind it are near the underflow range); the weights are brought to order one first."""


def lsuv(
    parameters: dict[str, np.ndarray],
    X: np.ndarray,
    *,
    activation: Activation = RELU,
    tol: float = 0.1,
    max_iter: int = 10,
) -> tuple[dict[str, np.ndarray], list[int]]:
    """Rescale an (orthogonal) initialization layer by layer to unit output variance.

    Mishkin and Matas (2016), "All you need is a good init", Algorithm 1: starting from
    orthonormal weights, for each layer in turn compute its output ``Z = W @ A + b`` on the
    batch, and while ``|Var(Z) - 1| >= tol`` and fewer than ``max_iter`` passes were made,
    divide ``W`` by ``sqrt(Var(Z))``. Here the layer's output is its pre-activation, the
    variance runs over all units and examples, and every layer, the output unit included, is
    normalized.

    Parameters
    ----------
    parameters : dict of str to ndarray of float64
        Starting ``W1, b1, ...`` (normally from :func:`nninit.numerics.initializers.orthogonal`); copied.
    X : ndarray of float64, shape (n_x, m)
        The batch (the training set).
    activation : Activation, default=RELU
    tol : float, default=0.1
    max_iter : int, default=10

    Returns
    -------
    parameters : dict of str to ndarray
        The rescaled parameters.
    passes : list of int
        Rescaling passes made for each layer (0 when the start was already within ``tol``).
        A layer whose output has zero variance (all units dead) cannot be rescaled: 0 passes.
        Weights at an extreme scale, whose output variance under- or overflows float64, are first
        divided by their largest magnitude (not counted as a pass), so LSUV works from any finite
        scale; no floating-point warning escapes.
    """
    params = {key: value.copy() for key, value in parameters.items()}
    L = len(params) // 2
    A, passes = X, []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # every divisor is checked > 0
        for l in range(1, L + 1):
            Z, done = _rescale_layer(params[f"W{l}"], params[f"b{l}"], A, l, tol, max_iter)
            passes.append(done)
            if l < L:  # the next layer's input: this layer's activation
                A = np.empty_like(Z)
                activate(Z, A, activation)
    return params, passes


def _rescale_layer(W: np.ndarray, b: np.ndarray, A: np.ndarray, l: int, tol: float,
                   max_iter: int) -> tuple[np.ndarray, int]:
    """Divide ``W`` in place by ``sqrt(Var(W @ A + b))`` until within ``tol`` of 1 or ``max_iter``
    passes; returns the layer's final output ``Z`` and the passes made."""
    Z = W @ A + b
    var = float(Z.var())
    if not (math.isfinite(var) and var > _TINY):
        Z, var = _to_order_one(W, b, A, Z, var)
    done = 0
    while done < max_iter:
        if not (math.isfinite(var) and var > 0):
            log.warning("LSUV: layer %d's output has variance %s on the batch and cannot be rescaled", l, var)
            break
        if abs(var - 1.0) < tol:
            break
        W /= math.sqrt(var)
        done += 1
        Z = W @ A + b
        var = float(Z.var())
    return Z, done


def _to_order_one(W: np.ndarray, b: np.ndarray, A: np.ndarray, Z: np.ndarray, var: float) -> tuple[np.ndarray, float]:
    """An extreme scale (init.gain=1e-200 or 1e200) under- or overflows the measurement: divide ``W`` in
    place by its largest magnitude first, so that a tiny live layer is not taken for a dead one. Returns
    the output and its variance, rescaled if the layer is alive at order one, else as they were."""
    top = float(np.max(np.abs(W)))
    if top > 0 and math.isfinite(top):
        Z_unit = (W / top) @ A + b
        if math.isfinite(float(Z_unit.var())) and Z_unit.var() > 0:  # alive: keep the rescaled W
            W /= top
            return Z_unit, float(Z_unit.var())
    return Z, var
