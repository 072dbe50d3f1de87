"""Full-batch gradient descent, with the cost and checks only on recorded iterations.

The loop keeps every array it needs preallocated (parameters and gradients each in one flat
buffer, the pass buffers in a :class:`~nninit.numerics.network.Cache`), updates in place, and touches no
configuration object: a few plain values reach it (:class:`TrainSettings`, the
:class:`~nninit.numerics.activations.Activation`, the row functions of :mod:`nninit.numerics.recording`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nninit.numerics import recording
from nninit.numerics.activations import RELU, Activation
from nninit.numerics.network import Cache, allocate_parameters, backward_layers, forward_layers, layer_lists
from nninit.numerics.recording import RowFunction, State
from nninit.options import integer, positive

log = logging.getLogger(__name__)

PROGRESS_EVERY = 250
"""Iterations between two calls of the progress callback (a check of ``i % 250`` costs nothing)."""
BLOWUP_FACTOR = 10.0
"""A recorded cost above ``BLOWUP_FACTOR * max(initial cost, ln 2)`` is a divergence: the loss blew up."""


@dataclass(frozen=True)
class TrainSettings:
    """The gradient-descent schedule of :func:`train`.

    Parameters
    ----------
    learning_rate : float
        Step size, a finite number > 0.
    num_iterations : int
        Updates to apply (>= 0; 0 evaluates the initial network).
    print_every : int, default=1000
        Recording and logging period in iterations (>= 1).

    Raises
    ------
    nninit.options.ConfigError
        A ValueError, for a value outside these ranges (or not a number / an integer), naming it.
    """

    learning_rate: float
    num_iterations: int
    print_every: int = 1000

    def __post_init__(self) -> None:
        # checked by the rules the config checks train.* with (nninit.options)
        positive()("learning_rate", self.learning_rate)
        integer(0)("num_iterations", self.num_iterations)
        integer(1)("print_every", self.print_every)


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    parameters : dict of str to ndarray
        Final ``W1, b1, ...`` (fresh arrays; the input parameters are not modified).
    history : list of dict
        One row per recorded iteration: ``iteration``, ``cost`` and the columns of the row functions
        given to :func:`train` (:mod:`nninit.numerics.recording`), in their order.
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


class _Loop:
    """The buffers of one training run and the steps of its loop."""

    def __init__(self, X, Y, parameters, activation: Activation, records: Sequence[RowFunction],
                 snapshot_at, on_snapshot, keep_snapshots: bool = True) -> None:
        layers_dims = [X.shape[0]] + [parameters[f"b{l}"].shape[0] for l in range(1, len(parameters) // 2 + 1)]
        self.flat, self.params = allocate_parameters(layers_dims)
        for key, view in self.params.items():
            view[...] = parameters[key]
        self.grad_flat, grad_views = allocate_parameters(layers_dims)
        self.grads = {f"d{key}": view for key, view in grad_views.items()}
        self.cache = Cache(layers_dims, X)
        self.W, self.b = layer_lists(self.params)  # views into `flat`: updating `flat` updates them
        self.W_T = [None] + [w.T for w in self.W[1:]]
        self.dW, self.db = layer_lists(self.grads, prefix="d")
        self.Y, self.activation = Y, activation
        self.records = (recording.cost, *records)
        self.snapshot_at, self.on_snapshot, self.keep_snapshots = snapshot_at, on_snapshot, keep_snapshots
        self.result = TrainResult(parameters=self.params)
        self.warned_saturation = False

    def passes(self) -> None:
        """The forward and backward passes of the current parameters."""
        forward_layers(self.W, self.b, self.cache, self.activation)
        backward_layers(self.Y, self.W_T, self.cache, self.dW, self.db, self.activation)

    def run(self, settings: TrainSettings, progress: Callable[[int], None] | None) -> None:
        """Iterations 0 to ``num_iterations``: passes, progress, recording, update (none after the last)."""
        n, every, result = settings.num_iterations, settings.print_every, self.result
        for i in range(n + 1):
            self.passes()
            if progress is not None and i % PROGRESS_EVERY == 0:
                progress(i)
            if (i % every == 0 or i == n) and not self.record(i, n):
                break
            if i == n:
                break
            np.multiply(self.grad_flat, settings.learning_rate, out=self.grad_flat)  # W -= lr * dW, all at once
            np.subtract(self.flat, self.grad_flat, out=self.flat)
            result.iterations_run = i + 1

    def measure(self, i: int) -> dict[str, float]:
        """The history row of iteration ``i``, after its passes; a snapshot if ``i`` is asked for."""
        state = State(i, self.params, self.grads, self.cache, self.Y, self.activation)
        row = {"iteration": i}
        for columns in self.records:
            row.update(columns(state))
        if i in self.snapshot_at:
            snapshot = {key: view.copy() for key, view in self.params.items()}
            if self.keep_snapshots:
                self.result.snapshots.append((i, snapshot))
            if self.on_snapshot is not None:
                self.on_snapshot(i, snapshot, row)
        return row

    def record(self, i: int, num_iterations: int) -> bool:
        """Record iteration ``i`` and check it; False when training stops there (it diverged)."""
        row = self.measure(i)
        self.result.history.append(row)
        if self.diverged(i, row["cost"]):
            return False
        if i < num_iterations:
            log.info("Cost after iteration %d: %s", i, row["cost"])
        if not self.warned_saturation:
            self.note_saturation(i, row["cost"])
        return True

    def diverged(self, i: int, cost: float) -> bool:
        """Whether the cost or a parameter is not finite, or the cost blew up; if so, says so and marks the result."""
        initial = self.result.history[0]["cost"]
        if not (np.isfinite(cost) and np.isfinite(self.flat).all()):
            log.warning("Diverged at iteration %d: the cost or a parameter is not finite (cost %s)", i, cost)
        elif blew_up(cost, initial):
            log.warning("Diverged at iteration %d: the cost %s is more than %g times max(initial cost %s, ln 2)",
                        i, cost, BLOWUP_FACTOR, initial)
        else:
            return False
        self.result.status, self.result.diverged_at = "diverged", i
        return True

    def note_saturation(self, i: int, cost: float) -> None:
        """Say once where the sigmoid output rounds to exactly the wrong label (the notebook's inf)."""
        saturated = _saturation_note(self.cache.A[-1], self.Y)
        if saturated:
            self.warned_saturation = True
            log.info(
                "Note: at iteration %d the sigmoid output rounds to exactly 0 or 1 on the wrong "
                "side for %d examples; the notebook's log(A) formula prints inf there, the true "
                "cross-entropy (computed from the pre-activation) is %s", i, saturated, cost)

    def interrupted(self) -> None:
        """Mark the result interrupted, with a last row for the parameters as they are now."""
        result = self.result
        result.status = "interrupted"
        log.warning("Interrupted after %d iterations; recording the state there and keeping what was recorded",
                    result.iterations_run)
        if result.history and result.history[-1]["iteration"] == result.iterations_run:
            return
        # a fresh pass: the interrupt may have come in the middle of one, leaving its buffers half-written
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                self.passes()
                result.history.append(self.measure(result.iterations_run))
        except (ArithmeticError, ValueError) as error:  # non-finite parameters: keep the rows recorded
            log.warning("Could not record the state at the interrupt (%s)", error)


def train(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: dict[str, np.ndarray],
    settings: TrainSettings,
    activation: Activation = RELU,
    *,
    records: Sequence[RowFunction] = (),
    snapshot_at: frozenset[int] | set[int] = frozenset(),
    on_snapshot: Callable[[int, dict, dict], None] | None = None,
    keep_snapshots: bool = True,
    progress: Callable[[int], None] | None = None,
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
    settings : TrainSettings
        ``learning_rate``, ``num_iterations`` and ``print_every``.
    activation : Activation, default=RELU
    records : sequence of callable, optional
        Row functions (:mod:`nninit.numerics.recording`), called in order at each recorded
        iteration after :func:`~nninit.numerics.recording.cost`; their columns make the history row,
        e.g. ``[on_test_set(X_test, Y_test), diagnostics]``.
    snapshot_at : set of int, optional
        Recorded iterations at which to keep a copy of the parameters (``result.snapshots``).
    on_snapshot : callable, optional
        ``on_snapshot(i, parameters, row)`` is called with each snapshot as it is taken (the copy
        kept in ``result.snapshots`` and the history row of iteration ``i``; not to be modified),
        e.g. to draw an animation's frame while training goes on.
    keep_snapshots : bool, default=True
        Keep the copies in ``result.snapshots``; False when ``on_snapshot`` takes what it needs from each
        (a wide network's copies would take memory for nothing).
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
    loop = _Loop(X, Y, parameters, activation, records, snapshot_at, on_snapshot, keep_snapshots)
    start = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are checked, not warned about
            loop.run(settings, progress)
    except KeyboardInterrupt:
        loop.interrupted()
    result = loop.result
    result.wall_time = time.perf_counter() - start
    result.parameters = {key: view.copy() for key, view in loop.params.items()}
    return result
