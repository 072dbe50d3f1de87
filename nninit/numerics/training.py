"""Full-batch gradient descent, with the cost and checks only on recorded iterations.

The loop keeps every array it needs preallocated (parameters and gradients each in one flat
buffer, the pass buffers in a :class:`~nninit.numerics.network.Cache`), updates in place, and touches no
configuration object: only plain numbers reach it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from nninit.numerics.activations import RELU, Activation, sigmoid
from nninit.numerics.diagnostics import layer_statistics
from nninit.numerics.network import (
    Cache,
    allocate_parameters,
    backward_layers,
    cost_from_preactivation,
    forward_layers,
    layer_lists,
    output_preactivation,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY = 250
"""Iterations between two calls of the progress callback (a check of ``i % 250`` costs nothing)."""
BLOWUP_FACTOR = 10.0
"""A recorded cost above ``BLOWUP_FACTOR * max(initial cost, ln 2)`` is a divergence: the loss blew up."""


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    parameters : dict of str to ndarray
        Final ``W1, b1, ...`` (fresh arrays; the input parameters are not modified).
    history : list of dict
        One row per recorded iteration: ``iteration``, ``cost`` and, with diagnostics, the
        per-layer statistics of :func:`nninit.numerics.diagnostics.layer_statistics`.
    status : {'completed', 'diverged', 'interrupted'}
        On ``KeyboardInterrupt`` the loop stops, and a last history row records the cost of the
        parameters as they are at that point.
    iterations_run : int
        Gradient-descent updates applied.
    diverged_at : int or None
        First recorded iteration at which the cost or a parameter was NaN or infinite, or the cost
        blew up (see :func:`blew_up`).
    wall_time : float
        Seconds spent in the loop.
    snapshots : list of (int, dict of str to ndarray)
        Copies of the parameters at the recorded iterations asked for (``snapshot_at``), in order.
    """

    parameters: dict[str, np.ndarray]
    history: list[dict[str, float]] = field(default_factory=list)
    status: str = "completed"
    iterations_run: int = 0
    diverged_at: int | None = None
    wall_time: float = 0.0
    snapshots: list = field(default_factory=list)


def _saturation_note(AL: np.ndarray, Y: np.ndarray) -> int:
    """Examples whose sigmoid output rounds to exactly the wrong label (log(0) in the notebook)."""
    return int(np.count_nonzero(((AL == 1.0) & (Y == 0)) | ((AL == 0.0) & (Y == 1))))


def blew_up(cost: float, initial_cost: float) -> bool:
    """True when a recorded cost is far above where training started: above
    ``BLOWUP_FACTOR * max(initial_cost, ln 2)``.

    Gradient descent with a step that is too large makes the cost grow by orders of magnitude
    (``learning_rate=1e6`` takes it from 0.88 to about 150,000) and stay there, finite: that is a
    divergence as much as an overflow. ``ln 2`` is the cost of predicting 0.5 everywhere, so a
    start at a tiny cost does not make ordinary noise count. The notebook's random ×10 init starts
    at 1773.6 and only goes down.
    """
    return cost > BLOWUP_FACTOR * max(initial_cost, math.log(2.0))


def train(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: dict[str, np.ndarray],
    *,
    learning_rate: float,
    num_iterations: int,
    print_every: int = 1000,
    activation: Activation = RELU,
    diagnostics: bool = False,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    snapshot_at: frozenset[int] | set[int] = frozenset(),
    on_snapshot=None,
    progress=None,
) -> TrainResult:
    """Train by full-batch gradient descent, as the notebook's ``model``.

    Iteration ``i`` runs the forward pass, the backward pass and the update
    ``W -= learning_rate * dW``. At recorded iterations (``i % print_every == 0``, and the
    final state at ``i = num_iterations``, after the last update) the cost of the current
    parameters, i.e. *before* that iteration's update, is recorded and logged as
    ``Cost after iteration i: <cost>``; the cost is computed nowhere else.

    Parameters
    ----------
    X : ndarray of float64, shape (n_x, m)
    Y : ndarray of float64, shape (1, m)
    parameters : dict of str to ndarray of float64
        Initial ``W1, b1, ..., WL, bL``; copied, not modified.
    learning_rate : float
        Step size (> 0).
    num_iterations : int
        Updates to apply (>= 0; 0 evaluates the initial network).
    print_every : int, default=1000
        Recording and logging period in iterations (>= 1).
    activation : Activation, default=RELU
    diagnostics : bool, default=False
        Also record per-layer statistics (see :mod:`nninit.numerics.diagnostics`) in each history row.
    X_test, Y_test : ndarray of float64, shapes (n_x, m_test) and (1, m_test), optional
        With them, each recorded row also holds ``test_cost`` and, with the train set's,
        ``train_accuracy`` and ``test_accuracy`` (computed only at recorded iterations).
    snapshot_at : set of int, optional
        Recorded iterations at which to keep a copy of the parameters (``result.snapshots``).
    on_snapshot : callable, optional
        ``on_snapshot(i, parameters, row)`` is called with each snapshot as it is taken (the copy
        kept in ``result.snapshots`` and the history row of iteration ``i``; not to be modified),
        e.g. to draw an animation's frame while training goes on.
    progress : callable, optional
        ``progress(i)`` is called every :data:`PROGRESS_EVERY` iterations and at recorded ones
        (for a progress bar or log line); it must not change anything.

    Returns
    -------
    TrainResult
        ``status='diverged'`` when, at a recorded iteration, the cost or a parameter is NaN or
        infinite or the cost blew up (:func:`blew_up`; training stops there); ``'interrupted'`` on
        ``KeyboardInterrupt``, with the rows recorded so far and the parameters as they were.
    """
    layers_dims = [X.shape[0]] + [parameters[f"b{l}"].shape[0] for l in range(1, len(parameters) // 2 + 1)]
    flat, params = allocate_parameters(layers_dims)
    for key, view in params.items():
        view[...] = parameters[key]
    grad_flat, grad_views = allocate_parameters(layers_dims)
    grads = {f"d{key}": view for key, view in grad_views.items()}
    cache = Cache(layers_dims, X)
    L = len(layers_dims) - 1
    W, b = layer_lists(params)  # views into `flat`: updating `flat` updates them
    W_T = [None] + [w.T for w in W[1:]]
    dW, db = layer_lists(grads, prefix="d")
    result = TrainResult(parameters=params)

    def measure(i: int) -> dict[str, float]:
        """The history row of iteration ``i``, after its forward and backward passes (called where
        floating-point overflow and invalid values are ignored: they are checked)."""
        row = {"iteration": i, "cost": cost_from_preactivation(cache.Z[L], Y)}
        if X_test is not None:
            Z_test = output_preactivation(X_test, params, activation)
            row["test_cost"] = cost_from_preactivation(Z_test, Y_test)
            row["train_accuracy"] = float(np.mean((cache.A[L] > 0.5) == (Y == 1)))
            row["test_accuracy"] = float(np.mean((sigmoid(Z_test, out=Z_test) > 0.5) == (Y_test == 1)))
        if diagnostics:
            row.update(layer_statistics(params, cache, grads))
        if i in snapshot_at:
            result.snapshots.append((i, {key: view.copy() for key, view in params.items()}))
            if on_snapshot is not None:
                on_snapshot(i, result.snapshots[-1][1], row)
        return row

    warned_saturation = False
    start = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are checked, not warned about
            for i in range(num_iterations + 1):
                forward_layers(W, b, cache, activation)
                backward_layers(Y, W_T, cache, dW, db, activation)
                if progress is not None and i % PROGRESS_EVERY == 0:
                    progress(i)
                if i % print_every == 0 or i == num_iterations:
                    row = measure(i)
                    result.history.append(row)
                    if not (np.isfinite(row["cost"]) and np.isfinite(flat).all()):
                        result.status, result.diverged_at = "diverged", i
                        log.warning("Diverged at iteration %d: the cost or a parameter is not finite (cost %s)",
                                    i, row["cost"])
                        break
                    if blew_up(row["cost"], result.history[0]["cost"]):
                        result.status, result.diverged_at = "diverged", i
                        log.warning("Diverged at iteration %d: the cost %s is more than %g times max(initial cost "
                                    "%s, ln 2)", i, row["cost"], BLOWUP_FACTOR, result.history[0]["cost"])
                        break
                    if i < num_iterations:
                        log.info("Cost after iteration %d: %s", i, row["cost"])
                    saturated = 0 if warned_saturation else _saturation_note(cache.A[L], Y)
                    if saturated:
                        warned_saturation = True
                        log.info(
                            "Note: at iteration %d the sigmoid output rounds to exactly 0 or 1 on the wrong "
                            "side for %d examples; the notebook's log(A) formula prints inf there, the true "
                            "cross-entropy (computed from the pre-activation) is %s", i, saturated, row["cost"])
                if i == num_iterations:
                    break
                np.multiply(grad_flat, learning_rate, out=grad_flat)  # W -= learning_rate * dW, for all at once
                np.subtract(flat, grad_flat, out=flat)
                result.iterations_run = i + 1
    except KeyboardInterrupt:
        result.status = "interrupted"
        log.warning("Interrupted after %d iterations; recording the state there and keeping what was recorded",
                    result.iterations_run)
        if not result.history or result.history[-1]["iteration"] != result.iterations_run:
            # the last row: the parameters as they are now, from a fresh pass (the interrupt may have
            # come in the middle of a pass, leaving its buffers half-written)
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    forward_layers(W, b, cache, activation)
                    backward_layers(Y, W_T, cache, dW, db, activation)
                    result.history.append(measure(result.iterations_run))
            except (ArithmeticError, ValueError) as error:  # non-finite parameters: keep the rows recorded
                log.warning("Could not record the state at the interrupt (%s)", error)
    result.wall_time = time.perf_counter() - start
    result.parameters = {key: view.copy() for key, view in params.items()}
    return result
