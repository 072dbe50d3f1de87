"""The output layer: a single sigmoid unit for two classes, a softmax over ``K`` units for ``K > 2``.

What the output is follows from its size alone: ``Z[L]`` of shape ``(1, m)`` is the notebook's sigmoid
unit with the binary cross-entropy, ``(K, m)`` with ``K > 1`` a softmax with the categorical
cross-entropy (a one-unit softmax would be the constant 1). Labels follow the same rule: ``Y`` of shape
``(1, m)`` holds 0 or 1, ``(K, m)`` is one-hot. The binary functions here are the notebook's arithmetic,
unchanged; the softmax ones are those of Bishop, *Pattern Recognition and Machine Learning* (2006),
sections 4.3.4 and 5.2, computed from the pre-activation with the log-sum-exp shift, as
``scipy.special.logsumexp`` and ``scipy.special.softmax`` do.
"""

from __future__ import annotations

import numpy as np

from nninit.numerics.activations import sigmoid


def is_softmax(Z: np.ndarray) -> bool:
    """True when an output pre-activation (or label array) of shape ``(K, m)`` has ``K > 1`` rows."""
    return Z.shape[0] > 1


def softmax(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The softmax over the rows of each column: ``exp(Z - max Z) / sum exp(Z - max Z)``.

    Parameters
    ----------
    Z : ndarray of float64, shape (K, m)
        Output pre-activation, one column per example.
    out : ndarray of float64, shape (K, m), optional
        Where to write (may be ``Z`` itself).

    Returns
    -------
    ndarray of float64, shape (K, m)
        Probabilities; each column sums to 1 (NaN where ``Z`` holds NaN or ``+inf``).
    """
    out = np.empty_like(Z) if out is None else out
    np.subtract(Z, Z.max(axis=0, keepdims=True), out=out)  # the shift: exp never overflows
    np.exp(out, out=out)
    np.divide(out, out.sum(axis=0, keepdims=True), out=out)
    return out


def output_activation(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The output layer's activation of its pre-activation ``Z``: a sigmoid for one row, a softmax
    (:func:`softmax`) for more; written into ``out`` when given."""
    return softmax(Z, out=out) if is_softmax(Z) else sigmoid(Z, out=out)


def cost_from_preactivation(ZL: np.ndarray, Y: np.ndarray) -> float:
    """The mean cross-entropy of the output against ``Y``, computed stably from the pre-activation.

    One output unit: ``-y log(s) - (1 - y) log(1 - s)`` with ``s = sigmoid(z)`` equals
    ``max(z, 0) - y z + log1p(exp(-|z|))``, which stays finite and exact when the sigmoid saturates.
    (The notebook computes ``log`` of the rounded sigmoid: once ``s`` rounds to exactly 1.0 it takes
    ``log(0)`` and prints ``inf``, a rounding artefact.) ``K`` units: ``-sum_k y_k log softmax(z)_k``
    equals ``logsumexp(z) - sum_k y_k z_k``, with ``logsumexp(z) = max z + log sum exp(z - max z)``.

    Parameters
    ----------
    ZL : ndarray of float64, shape (1, m) or (K, m)
        Output pre-activation.
    Y : ndarray of float64, the shape of ``ZL``
        Labels in {0, 1} (one row) or one-hot columns.

    Returns
    -------
    float
        The cost in nats per example; NaN if ``ZL`` holds NaN.
    """
    if not is_softmax(ZL):
        return float(np.mean(np.maximum(ZL, 0.0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))))
    top = ZL.max(axis=0, keepdims=True)
    log_sum_exp = top + np.log(np.exp(ZL - top).sum(axis=0, keepdims=True))
    return float(np.mean(log_sum_exp - (ZL * Y).sum(axis=0, keepdims=True)))


def predicted_class(AL: np.ndarray) -> np.ndarray:
    """The predicted class of each example from the output ``AL`` (probabilities, or the pre-activation
    of a softmax, whose order is the same): 1 where one sigmoid unit is strictly above 0.5 (the
    notebook's rule), else the argmax over the ``K`` rows. Returns int64 of shape ``(m,)``."""
    if not is_softmax(AL):
        return (AL[0] > 0.5).astype(np.int64)
    return np.argmax(AL, axis=0).astype(np.int64)


def class_of_labels(Y: np.ndarray) -> np.ndarray:
    """The class index of each example from labels ``Y``: ``(1, m)`` in {0, ..., K-1} or one-hot
    ``(K, m)``. Returns int64 of shape ``(m,)``."""
    return np.argmax(Y, axis=0).astype(np.int64) if is_softmax(Y) else Y[0].astype(np.int64)


def fraction_correct(AL: np.ndarray, Y: np.ndarray) -> float:
    """The fraction of examples whose predicted class (:func:`predicted_class` of ``AL``) is their label."""
    if not is_softmax(AL):
        return float(np.mean((AL > 0.5) == (Y == 1)))  # the notebook's form, unchanged
    return float(np.mean(predicted_class(AL) == class_of_labels(Y)))
