"""Forward and backward passes of a fully connected network, and its cost.

Conventions (the notebook's): examples are columns, ``X`` is ``(n_x, m)`` and ``Y`` is
``(1, m)`` (two classes) or one-hot ``(K, m)`` (``K > 2`` classes); layer ``l`` computes the
pre-activation ``Z[l] = W[l] @ A[l-1] + b[l]`` with ``W[l]`` of shape ``(n[l], n[l-1])``, then
``A[l] = g(Z[l])``; hidden layers use the chosen activation ``g``, the output layer a sigmoid (one
unit) or a softmax (``K`` units; :mod:`nninit.numerics.outputs`). Everything is float64.

The passes write into a :class:`Cache` of preallocated arrays, so a training loop that
reuses one cache allocates (almost) nothing per iteration; the arithmetic follows the
notebook's order of operations, which keeps its published costs reproducible digit for digit.
"""

from __future__ import annotations

import numpy as np

from nninit.numerics.activations import RELU, Activation, activate, backprop_activation
from nninit.numerics.outputs import cost_from_preactivation, output_activation, predicted_class

__all__ = ["Cache", "accuracy", "allocate_parameters", "backward", "cost_from_preactivation", "forward",
           "new_grads", "output_preactivation", "predict", "predict_proba"]


class Cache:
    """Preallocated arrays for one forward and backward pass over a fixed input.

    Attributes
    ----------
    Z : list of ndarray
        ``Z[l]`` is the pre-activation of layer ``l``, shape ``(n[l], m)``; ``Z[0]`` is unused.
    A : list of ndarray
        ``A[0]`` is the input ``X`` (not copied), ``A[l]`` the activation of layer ``l``.
    dZ : list of ndarray
        ``dZ[l]`` is the gradient of the cost with respect to ``Z[l]``.
    """

    def __init__(self, layers_dims: list[int], X: np.ndarray):
        m = X.shape[1]
        self.layers_dims = list(layers_dims)
        self.Z = [None] + [np.empty((n, m)) for n in layers_dims[1:]]
        self.A = [X] + [np.empty((n, m)) for n in layers_dims[1:]]
        self.dZ = [None] + [np.empty((n, m)) for n in layers_dims[1:]]
        self.A_T = [a.T for a in self.A]  # transposed views, made once
        self.mask = [None] + [np.empty((n, m), dtype=bool) for n in layers_dims[1:]]


def allocate_parameters(layers_dims: list[int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One flat float64 buffer and the ``W1, b1, ..., WL, bL`` views into it.

    A single buffer lets the gradient-descent update run as two vectorised operations over
    all parameters. Returns ``(flat, views)``; writing to a view writes to ``flat``.
    """
    sizes = []
    for l in range(1, len(layers_dims)):
        sizes += [(f"W{l}", (layers_dims[l], layers_dims[l - 1])), (f"b{l}", (layers_dims[l], 1))]
    flat = np.empty(sum(r * c for _, (r, c) in sizes))
    views, start = {}, 0
    for key, (r, c) in sizes:
        views[key] = flat[start : start + r * c].reshape(r, c)
        start += r * c
    return flat, views


def layer_lists(arrays: dict[str, np.ndarray], prefix: str = "") -> tuple[list, list]:
    """``[None, W1, ..., WL]`` and ``[None, b1, ..., bL]`` (or ``dW``/``db`` with ``prefix='d'``)."""
    L = len(arrays) // 2
    return ([None] + [arrays[f"{prefix}W{l}"] for l in range(1, L + 1)],
            [None] + [arrays[f"{prefix}b{l}"] for l in range(1, L + 1)])


def forward(
    parameters: dict[str, np.ndarray],
    cache: Cache,
    activation: Activation = RELU,
) -> np.ndarray:
    """Forward pass over the input stored in ``cache.A[0]``.

    Parameters
    ----------
    parameters : dict of str to ndarray of float64
        ``Wl`` of shape ``(n[l], n[l-1])`` and ``bl`` of shape ``(n[l], 1)``.
    cache : Cache
        Buffers for this input; ``Z`` and ``A`` are overwritten.
    activation : Activation, default=RELU
        Hidden-layer activation (with leaky ReLU's slope); the output layer is a sigmoid (one unit)
        or a softmax (``K > 1`` units).

    Returns
    -------
    ndarray of float64, shape (1, m) or (K, m)
        The output ``A[L]`` (a view into ``cache``): the predicted probability of class 1, or of each
        of the ``K`` classes.
    """
    W, b = layer_lists(parameters)
    return forward_layers(W, b, cache, activation)


def forward_layers(W: list, b: list, cache: Cache, activation: Activation) -> np.ndarray:
    """:func:`forward` on per-layer lists ``W[l]``, ``b[l]`` (index 0 unused); the training loop's form."""
    Z, A = cache.Z, cache.A
    L = len(W) - 1
    dot, add = np.dot, np.add
    for l in range(1, L):
        dot(W[l], A[l - 1], out=Z[l])
        add(Z[l], b[l], out=Z[l])
        activate(Z[l], A[l], activation)
    dot(W[L], A[L - 1], out=Z[L])
    add(Z[L], b[L], out=Z[L])
    return output_activation(Z[L], out=A[L])


def backward(
    Y: np.ndarray,
    parameters: dict[str, np.ndarray],
    cache: Cache,
    grads: dict[str, np.ndarray],
    activation: Activation = RELU,
) -> dict[str, np.ndarray]:
    """Backward pass of the mean cross-entropy after :func:`forward`.

    Uses ``dZ[L] = (A[L] - Y) / m``, the exact gradient of the cost with respect to the output
    pre-activation for a sigmoid with the binary cross-entropy and for a softmax with the categorical
    one (Bishop 2006, eq. 4.109), computed as the notebook does (``1./m * (A - Y)``); then for each layer
    ``dW = dZ @ A[l-1].T``, ``db = sum(dZ, axis=1)`` and ``dA[l-1] = W.T @ dZ``.

    Parameters
    ----------
    Y : ndarray of float64, shape (1, m) or (K, m)
        Labels in {0, 1}, or one-hot columns (the shape of the output).
    parameters : dict of str to ndarray
    cache : Cache
        Filled by :func:`forward` on the same parameters.
    grads : dict of str to ndarray
        Output: ``dWl`` and ``dbl`` with the shapes of ``Wl`` and ``bl``; overwritten.
    activation : Activation, default=RELU
        As in :func:`forward`.

    Returns
    -------
    dict of str to ndarray
        ``grads``.
    """
    W, _ = layer_lists(parameters)
    dW, db = layer_lists(grads, prefix="d")
    backward_layers(Y, [None] + [w.T for w in W[1:]], cache, dW, db, activation)
    return grads


def backward_layers(Y: np.ndarray, W_T: list, cache: Cache, dW: list, db: list, activation: Activation) -> None:
    """:func:`backward` on per-layer lists (``W_T[l]`` is ``W[l].T``, index 0 unused); the training loop's form."""
    Z, A, A_T, dZ, mask = cache.Z, cache.A, cache.A_T, cache.dZ, cache.mask
    L = len(W_T) - 1
    dot, multiply, reduce = np.dot, np.multiply, np.add.reduce
    np.subtract(A[L], Y, out=dZ[L])
    multiply(dZ[L], 1.0 / Y.shape[1], out=dZ[L])
    for l in range(L, 0, -1):
        dot(dZ[l], A_T[l - 1], out=dW[l])
        reduce(dZ[l], axis=1, keepdims=True, out=db[l])  # = np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dot(W_T[l], dZ[l], out=dZ[l - 1])
            backprop_activation(dZ[l - 1], Z[l - 1], A[l - 1], activation, mask[l - 1])


def new_grads(parameters: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Zero arrays ``dW1, db1, ...`` shaped like ``parameters``."""
    return {f"d{k}": np.zeros_like(v) for k, v in parameters.items()}


def output_preactivation(X: np.ndarray, parameters: dict[str, np.ndarray], activation: Activation = RELU) -> np.ndarray:
    """The output layer's pre-activation ``Z[L]`` for ``X`` of shape ``(n_x, m)``; returns ``(n[L], m)``.

    The same arithmetic as :func:`forward`, holding only two layers' arrays at a time, so that
    large inputs (a plotting grid through a deep, wide network) need little memory.
    """
    L = len(parameters) // 2
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.dot(parameters["W1"], X)
        np.add(Z, parameters["b1"], out=Z)
        for l in range(2, L + 1):
            A = np.empty_like(Z)  # this layer's input: the previous layer's activation
            activate(Z, A, activation)
            Z = np.dot(parameters[f"W{l}"], A)
            np.add(Z, parameters[f"b{l}"], out=Z)
    return Z


def predict_proba(X: np.ndarray, parameters: dict[str, np.ndarray], activation: Activation = RELU) -> np.ndarray:
    """Output probabilities for ``X`` of shape ``(n_x, m)``: ``sigmoid(Z[L])`` of shape ``(1, m)``, or
    ``softmax(Z[L])`` of shape ``(K, m)`` (see :func:`output_preactivation`)."""
    Z = output_preactivation(X, parameters, activation)
    with np.errstate(over="ignore", invalid="ignore"):  # exp(-Z) overflows for Z < -709.79: the sigmoid is 0 there
        return output_activation(Z, out=Z)


def predict(X: np.ndarray, parameters: dict[str, np.ndarray], activation: Activation = RELU) -> np.ndarray:
    """Class predictions: 1 where the one output probability is strictly greater than 0.5, or the
    class of the largest of ``K`` (:func:`nninit.numerics.outputs.predicted_class`).

    Returns
    -------
    ndarray of int64, shape (1, m)
        Class indices.
    """
    return predicted_class(predict_proba(X, parameters, activation)).reshape(1, -1)


def accuracy(X: np.ndarray, Y: np.ndarray, parameters: dict[str, np.ndarray], activation: Activation = RELU) -> float:
    """Fraction of examples whose prediction (see :func:`predict`) equals the label (``Y`` of shape
    ``(1, m)``, or one-hot ``(K, m)``)."""
    if Y.shape[0] > 1:
        Y = np.argmax(Y, axis=0).reshape(1, -1)
    return float(np.mean(predict(X, parameters, activation) == Y))
