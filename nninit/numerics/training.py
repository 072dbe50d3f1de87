"""The training loop: full-batch gradient descent (the notebook's) or minibatches, with the update rules of
:mod:`nninit.numerics.optimizers`; the cost and checks only on recorded iterations.

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
from nninit.numerics.minibatches import Minibatches
from nninit.numerics.network import Cache, allocate_parameters, backward_layers, forward_layers, layer_lists
from nninit.numerics.optimizers import make_optimizer
from nninit.numerics.recording import RowFunction, State
from nninit.numerics.train_settings import TrainSettings

__all__ = ["BLOWUP_FACTOR", "PROGRESS_EVERY", "TrainResult", "TrainSettings", "blew_up", "train"]

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
        One row per recorded iteration: ``iteration``, ``epoch`` (minibatch training only: see
        :meth:`nninit.numerics.minibatches.Minibatches.epoch`), ``cost`` and the columns of the row functions
        given to :func:`train` (:mod:`nninit.numerics.recording`), in their order.
    status : {'completed', 'diverged', 'interrupted'}
        On ``KeyboardInterrupt`` the loop stops, and a last history row records the cost of the
        parameters as they are at that point.
    iterations_run : int
        Updates applied.
    diverged_at : int or None
        First recorded iteration at which the cost or a parameter was NaN or infinite, or the cost
        blew up (see :func:`blew_up`).
    wall_time : float
        Seconds spent in the loop.
    snapshots : list of (int, dict of str to ndarray)
        Copies of the parameters at the recorded iterations asked for (``snapshot_at``), in order.
    stopped_by : str or None
        With ``status='interrupted'``: the message of the ``KeyboardInterrupt`` that stopped the loop (``'stopped
        by SIGTERM'`` from :mod:`nninit.record.signals`' handler; empty from Python's own); else None.
    """

    parameters: dict[str, np.ndarray]
    history: list[dict[str, float]] = field(default_factory=list)
    status: str = "completed"
    iterations_run: int = 0
    diverged_at: int | None = None
    wall_time: float = 0.0
    snapshots: list = field(default_factory=list)
    stopped_by: str | None = None


def _saturation_note(AL: np.ndarray, Y: np.ndarray) -> int:
    """Examples whose output gives their true class a probability of exactly 0 in float64 (``log(0)``,
    the notebook's ``inf``): a sigmoid output at exactly the wrong label, or a softmax column whose
    true-class entry underflows to 0."""
    if AL.shape[0] > 1:
        return int(np.count_nonzero(np.sum(AL * Y, axis=0) == 0.0))
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

    def __init__(self, X, Y, parameters, settings: TrainSettings, activation: Activation,
                 records: Sequence[RowFunction], snapshot_at, on_snapshot, keep_snapshots: bool = True) -> None:
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
        self.optimizer = make_optimizer(settings, self.flat.size)
        self.batches = (None if settings.batch_size is None else
                        Minibatches(X, Y, layers_dims, settings.batch_size, settings.shuffle_seed))
        self.decay = None  # weight_decay at the weights' places in `flat`, 0 at the biases'
        if settings.weight_decay:
            self.decay, places = allocate_parameters(layers_dims)  # the same layout as `flat`
            for key, view in places.items():
                view[...] = settings.weight_decay if key.startswith("W") else 0.0
            self.work = np.empty_like(self.flat)

    def passes(self) -> None:
        """The forward and backward passes of the current parameters."""
        forward_layers(self.W, self.b, self.cache, self.activation)
        backward_layers(self.Y, self.W_T, self.cache, self.dW, self.db, self.activation)

    def batch_passes(self) -> None:
        """The forward and backward passes of the current parameters on the next minibatch."""
        cache, Y, _ = self.batches.next()
        forward_layers(self.W, self.b, cache, self.activation)
        backward_layers(Y, self.W_T, cache, self.dW, self.db, self.activation)

    def update(self) -> None:
        """The optimizer's step from the gradient in ``grad_flat``, plus ``weight_decay * W`` when set."""
        if self.decay is not None:
            np.multiply(self.decay, self.flat, out=self.work)
            np.add(self.grad_flat, self.work, out=self.grad_flat)
        self.optimizer.step(self.flat, self.grad_flat)  # gd: W -= lr * dW, all at once

    def run(self, settings: TrainSettings, progress: Callable[[int], None] | None) -> None:
        """Iterations 0 to ``num_iterations``: passes, progress, recording, update (none after the last).

        Full batch: the passes of iteration ``i`` give both its record and its update. Minibatches: a
        recorded iteration has its own passes over the whole training set (the row functions see the whole
        set's cost, outputs and gradients), then the update its batch's."""
        n, every, result, full_batch = settings.num_iterations, settings.print_every, self.result, self.batches is None
        for i in range(n + 1):
            if full_batch:
                self.passes()
            if progress is not None and i % PROGRESS_EVERY == 0:
                progress(i)
            if (i % every == 0 or i == n) and not self.record(i, n, full_batch):
                break
            if i == n:
                break
            if not full_batch:
                self.batch_passes()
            self.update()
            result.iterations_run = i + 1

    def measure(self, i: int) -> dict[str, float]:
        """The history row of iteration ``i``, after its passes; a snapshot if ``i`` is asked for."""
        state = State(i, self.params, self.grads, self.cache, self.Y, self.activation)
        row = {"iteration": i} if self.batches is None else {"iteration": i, "epoch": self.batches.epoch(i)}
        for columns in self.records:
            row.update(columns(state))
        if i in self.snapshot_at:
            snapshot = {key: view.copy() for key, view in self.params.items()}
            if self.keep_snapshots:
                self.result.snapshots.append((i, snapshot))
            if self.on_snapshot is not None:
                self.on_snapshot(i, snapshot, row)
        return row

    def record(self, i: int, num_iterations: int, passed: bool = True) -> bool:
        """Record iteration ``i`` (after its passes over the training set, or these first unless ``passed``)
        and check it; False when training stops there (it diverged)."""
        if not passed:
            self.passes()
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
        if saturated and self.Y.shape[0] > 1:
            self.warned_saturation = True
            log.info(
                "Note: at iteration %d the softmax output gives the true class a probability of exactly 0 "
                "for %d examples; log(A) would be -inf there, the true cross-entropy (computed from the "
                "pre-activation with log-sum-exp) is %s", i, saturated, cost)
        elif saturated:
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
    """Train by full-batch gradient descent, as the notebook's ``model``, or as ``settings`` say.

    Iteration ``i`` runs the forward pass, the backward pass and the update (by default
    ``W -= learning_rate * dW``; ``settings.optimizer``: :mod:`nninit.numerics.optimizers`), over the
    whole training set or, with ``settings.batch_size``, over the next minibatch
    (:mod:`nninit.numerics.minibatches`). At recorded iterations (``i % print_every == 0``, and the
    final state at ``i = num_iterations``, after the last update) the cost of the current
    parameters on the whole training set, i.e. *before* that iteration's update, is recorded and logged
    as ``Cost after iteration i: <cost>``; the cost is computed nowhere else. It is the data's cost
    only: without the weight-decay penalty, so that costs compare across settings.

    Parameters
    ----------
    X : ndarray of float64, shape (n_x, m)
    Y : ndarray of float64, shape (1, m)
    parameters : dict of str to ndarray of float64
        Initial ``W1, b1, ..., WL, bL``; copied, not modified.
    settings : TrainSettings
        ``learning_rate``, ``num_iterations``, ``print_every``, the optimizer and its keys, ``batch_size``,
        ``shuffle_seed`` and ``weight_decay``.
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
    loop = _Loop(X, Y, parameters, settings, activation, records, snapshot_at, on_snapshot, keep_snapshots)
    start = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are checked, not warned about
            loop.run(settings, progress)
    except KeyboardInterrupt as error:
        loop.result.stopped_by = str(error)
        loop.interrupted()
    result = loop.result
    result.wall_time = time.perf_counter() - start
    result.parameters = {key: view.copy() for key, view in loop.params.items()}
    return result
