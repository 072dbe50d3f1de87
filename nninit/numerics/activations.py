"""Hidden-layer activations, their derivatives, and the recommended gains.

Each activation works in place on preallocated arrays so that the training loop
allocates nothing per iteration. Shapes are ``(n[l], m)``: units by examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
"""Accepted values of ``model.activation`` (the hidden layers; the output is a sigmoid)."""


def check_activation(activation: str) -> None:
    """Raise ``ValueError`` unless ``activation`` is one of :data:`ACTIVATIONS`."""
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"model.activation={activation!r} is not supported; accepted: {', '.join(ACTIVATIONS)}"
        )


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation: its name and, for leaky ReLU, its slope below zero.

    One immutable value where the pair ``(model.activation, model.negative_slope)`` travels
    together through the network, LSUV, the training loop and the theory.

    Parameters
    ----------
    name : {'relu', 'leaky_relu', 'tanh', 'sigmoid'}, default='relu'
        The hidden layers' activation (the output unit is always a sigmoid).
    negative_slope : float, default=0.01
        Slope of ``leaky_relu`` for ``Z <= 0`` (PyTorch's ``negative_slope``), in [0, 1); ignored
        by the other activations, but checked whatever the name, as ``model.negative_slope`` is.

    Raises
    ------
    ValueError
        For an unknown name (listing the accepted ones), or a slope that is not a number in [0, 1).

    Examples
    --------
    >>> Activation("leaky_relu", 0.2)
    Activation(name='leaky_relu', negative_slope=0.2)
    >>> Activation("relu").gain_squared
    2.0
    """

    name: str = "relu"
    negative_slope: float = 0.01

    def __post_init__(self) -> None:
        check_activation(self.name)
        slope = self.negative_slope
        if isinstance(slope, bool) or not isinstance(slope, (int, float)) or not 0 <= slope < 1:
            raise ValueError(f"model.negative_slope={slope!r} must be a number in [0, 1)")

    @property
    def gain(self) -> float:
        """:func:`calculate_gain` of this activation (PyTorch's recommended gain)."""
        return calculate_gain(self.name, self.negative_slope)

    @property
    def gain_squared(self) -> float:
        """:func:`calculate_gain_squared` of this activation (the variance multiplier, in closed form)."""
        return calculate_gain_squared(self.name, self.negative_slope)


RELU = Activation()
"""The default: ReLU (the notebook's hidden activation)."""
TANH = Activation("tanh")
"""tanh, the activation of the mean-field experiments (Poole et al. 2016, Schoenholz et al. 2017)."""


def sigmoid(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-Z))``, in the notebook's order of operations.

    Parameters
    ----------
    Z : ndarray of float64, shape (n, m)
        Pre-activation.
    out : ndarray of float64, shape (n, m), optional
        Where to write the result (may be a separate buffer, not ``Z``).

    Returns
    -------
    ndarray of float64, shape (n, m)
        Values in [0, 1]. In float64 they round to exactly 1.0 for ``Z > 36.7``
        and are exactly 0.0 for ``Z < -709.79``, where ``exp(-Z)`` overflows (expected there).
    """
    out = np.negative(Z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.divide(1.0, out, out=out)


def activate(Z: np.ndarray, A: np.ndarray, activation: Activation = RELU) -> None:
    """Write ``g(Z)`` into ``A`` for the hidden activation ``g``.

    Parameters
    ----------
    Z : ndarray of float64, shape (n, m)
        Pre-activation of a hidden layer.
    A : ndarray of float64, shape (n, m)
        Output buffer, distinct from ``Z``.
    activation : Activation, default=RELU
    """
    name = activation.name
    if name == "relu":
        np.maximum(Z, 0.0, out=A)
    elif name == "leaky_relu":
        np.multiply(Z, activation.negative_slope, out=A)  # valid for 0 <= negative_slope < 1
        np.maximum(Z, A, out=A)
    elif name == "tanh":
        np.tanh(Z, out=A)
    else:  # sigmoid, the only other name an Activation holds
        sigmoid(Z, out=A)


def backprop_activation(
    dA: np.ndarray,
    Z: np.ndarray,
    A: np.ndarray,
    activation: Activation = RELU,
    mask: np.ndarray | None = None,
) -> None:
    """Turn ``dA`` (gradient w.r.t. the activation) into ``dZ`` in place: ``dA *= g'(Z)``.

    Parameters
    ----------
    dA : ndarray of float64, shape (n, m)
        Gradient of the cost with respect to ``A = g(Z)``; overwritten with ``dZ``.
    Z, A : ndarray of float64, shape (n, m)
        The layer's pre-activation and activation from the forward pass.
    activation : Activation, default=RELU
    mask : ndarray of bool, shape (n, m), optional
        A buffer for ReLU's mask (the training loop passes a preallocated one); overwritten.

    Notes
    -----
    ReLU uses the notebook's mask ``A > 0`` (derivative 0 at ``Z = 0``), leaky ReLU its slope
    at ``Z <= 0`` (both as PyTorch); tanh uses ``1 - A**2`` and sigmoid ``A (1 - A)``.
    """
    name = activation.name
    if name == "relu":
        np.multiply(dA, np.greater(A, 0.0, out=mask), out=dA)
    elif name == "leaky_relu":
        np.multiply(dA, np.where(Z > 0, 1.0, activation.negative_slope), out=dA)
    elif name == "tanh":
        np.multiply(dA, 1.0 - A * A, out=dA)
    else:  # sigmoid
        np.multiply(dA, A * (1.0 - A), out=dA)


def _no_gain(activation: str) -> ValueError:
    return ValueError(f"no gain for activation {activation!r}; accepted: linear, {', '.join(ACTIVATIONS)}")


def calculate_gain(activation: str, negative_slope: float = 0.01) -> float:
    """Recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    Parameters
    ----------
    activation : {'linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'}
    negative_slope : float, default=0.01
        Used by ``leaky_relu`` only.

    Returns
    -------
    float
        linear and sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu:
        sqrt(2 / (1 + negative_slope**2)). Source: PyTorch ``torch.nn.init.calculate_gain``
        (relu from He et al. 2015; tanh's 5/3 is PyTorch's empirical choice). Schemes that
        scale a *variance* use :func:`calculate_gain_squared` instead of squaring this.

    Raises
    ------
    ValueError
        For any other activation name.
    """
    if activation == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + negative_slope**2))
    table = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}
    if activation not in table:
        raise _no_gain(activation)
    return table[activation]


def calculate_gain_squared(activation: str, negative_slope: float = 0.01) -> float:
    """The square of :func:`calculate_gain` in closed form: the variance multiplier it stands for.

    Squaring the rounded gain is not exact: ``calculate_gain('relu')**2`` is
    ``2.0000000000000004``, and ``sqrt(2.0000000000000004 / fan_in)`` can differ from the
    notebook's ``sqrt(2 / fan_in)`` in the last bit. The variance-scaling initializers use this
    value with ``init.gain=auto``, so that ReLU gives exactly the notebook's He weights.

    Parameters
    ----------
    activation : {'linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'}
    negative_slope : float, default=0.01
        Used by ``leaky_relu`` only.

    Returns
    -------
    float
        linear and sigmoid: 1; tanh: 25/9; relu: exactly 2; leaky_relu:
        2 / (1 + negative_slope**2) (He et al. 2015, eq. 15 with ``a = negative_slope``).

    Raises
    ------
    ValueError
        For any other activation name.
    """
    if activation == "leaky_relu":
        return 2.0 / (1.0 + negative_slope**2)
    table = {"linear": 1.0, "sigmoid": 1.0, "tanh": 25.0 / 9.0, "relu": 2.0}
    if activation not in table:
        raise _no_gain(activation)
    return table[activation]
