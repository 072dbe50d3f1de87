"""What a recorded iteration writes into the history: row functions of the training state.

A row function takes the :class:`State` of the loop at a recorded iteration (after that
iteration's forward and backward passes, before its update) and returns columns, a dict of
name to number. :func:`nninit.numerics.training.train` always records :func:`cost` and then, in
order, the row functions it is given: a new recorded metric is one function. They are called
only at recorded iterations, where floating-point overflow and invalid values are not warned
about (the loop checks them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nninit.numerics.activations import Activation
from nninit.numerics.diagnostics import layer_statistics
from nninit.numerics.network import Cache, output_preactivation
from nninit.numerics.outputs import cost_from_preactivation, fraction_correct, output_activation


@dataclass(frozen=True)
class State:
    """The training loop at a recorded iteration, as row functions see it (read only: the arrays are
    the loop's own buffers, not copies).

    Attributes
    ----------
    iteration : int
        Updates applied so far.
    parameters : dict of str to ndarray of float64
        ``W1, b1, ..., WL, bL`` as they are at this iteration.
    grads : dict of str to ndarray of float64
        ``dW1, db1, ...`` of this iteration's backward pass.
    cache : Cache
        This iteration's forward pass on the training set (``cache.Z[-1]``, ``cache.A[-1]``: the
        output layer's pre-activation and probabilities, shape ``(1, m)`` or ``(K, m)``).
    Y : ndarray of float64, shape (1, m) or (K, m)
        The training labels (one-hot for ``K`` classes).
    activation : Activation
        The hidden layers' activation.
    """

    iteration: int
    parameters: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    cache: Cache
    Y: np.ndarray
    activation: Activation


RowFunction = Callable[[State], dict[str, float]]
"""A function of the :class:`State` returning history columns."""


def cost(state: State) -> dict[str, float]:
    """``cost``: the mean cross-entropy on the training set, binary or categorical
    (:func:`nninit.numerics.outputs.cost_from_preactivation`); always the first column after ``iteration``."""
    return {"cost": cost_from_preactivation(state.cache.Z[-1], state.Y)}


def on_test_set(X_test: np.ndarray, Y_test: np.ndarray) -> RowFunction:
    """The row function of a test set: ``test_cost``, ``train_accuracy`` and ``test_accuracy``.

    Parameters
    ----------
    X_test : ndarray of float64, shape (n_x, m_test)
    Y_test : ndarray of float64, shape (1, m_test) or (K, m_test)
        Labels in {0, 1}, or one-hot.

    Returns
    -------
    callable
        ``state -> {"test_cost", "train_accuracy", "test_accuracy"}``: the test set's cost and the
        fractions of train and test examples whose prediction (output > 0.5, or the argmax of ``K``
        outputs) is the label.
    """

    def columns(state: State) -> dict[str, float]:
        Z_test = output_preactivation(X_test, state.parameters, state.activation)
        return {
            "test_cost": cost_from_preactivation(Z_test, Y_test),
            "train_accuracy": fraction_correct(state.cache.A[-1], state.Y),
            "test_accuracy": fraction_correct(output_activation(Z_test, out=Z_test), Y_test),
        }

    return columns


def diagnostics(state: State) -> dict[str, float]:
    """The per-layer signal-propagation statistics
    (:func:`nninit.numerics.diagnostics.layer_statistics`): ``z_mean_1``, ``z_std_1``, ..."""
    return layer_statistics(state.parameters, state.cache, state.grads)
