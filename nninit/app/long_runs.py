"""A warning before a run expected to be long (:func:`say_if_long`), from a low estimate of its
training time (:func:`expected_seconds`)."""

from __future__ import annotations

import logging

from nninit.data import describe

log = logging.getLogger("nninit.app.experiment")  # said by the run

LONG_RUN_S = 3600.0
"""A run expected to train longer than this says so, and for how long, before it starts."""
MULTIPLY_ADDS_PER_S = 3e10
"""Matrix products: one multiply-add per weight and example is 3 of them per iteration (forward,
and the two products of backward)."""
UNIT_EXAMPLES_PER_S = 5e8
"""Element-wise work (activations, masks, gradients): per unit and example, per iteration."""
SECONDS_PER_LAYER = 4e-6
"""The fixed cost of an iteration's numpy calls, per layer."""


def expected_seconds(layers_dims: list[int], n_train: int, num_iterations: int) -> float:
    """A low estimate of the training loop's duration, from the work of one iteration.

    The rates are above those measured on an idle two-core AVX-512 machine (the notebook's run,
    ``[2, 10, 5, 1]`` on 300 examples: 37 µs per iteration measured, 24 µs estimated; a
    ``[2, 1000, 1000, 1]`` network: 88 ms measured with one BLAS thread, 30 ms estimated), so that
    a run said to be long is long; recording every ``print_every`` iterations is not counted.

    Parameters
    ----------
    layers_dims : list of int
        Units per layer, input and output included.
    n_train : int
        Training examples an iteration sees: all of them in full-batch training, else the batch size.
    num_iterations : int
        Updates.

    Returns
    -------
    float
        Seconds.
    """
    weights = sum(n * fan_in for fan_in, n in zip(layers_dims, layers_dims[1:]))
    units = sum(layers_dims[1:])
    per_iteration = (3 * weights * n_train / MULTIPLY_ADDS_PER_S + units * n_train / UNIT_EXAMPLES_PER_S
                     + SECONDS_PER_LAYER * (len(layers_dims) - 1))
    return per_iteration * num_iterations


def duration(seconds: float) -> str:
    """``45 min``, ``5.2 hours``, ``2,315 days``."""
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours" if seconds < 2 * 86400 else f"{seconds / 86400:,.0f} days"


def say_if_long(cfg: dict, layers_dims: list[int]) -> None:
    """A warning, before training, for a run expected to take more than :data:`LONG_RUN_S`."""
    n_train, num_iterations = describe(cfg["data"]).n_train, cfg["train"]["num_iterations"]
    batch = min(cfg["train"].get("batch_size") or n_train, n_train)  # examples an update sees (minibatches)
    seconds = expected_seconds(layers_dims, batch, num_iterations)
    if seconds > LONG_RUN_S:
        examples = f"data.n_train={n_train}" if "n_train" in cfg["data"] else f"{n_train} training examples"
        log.warning("This run is expected to take at least %s (train.num_iterations=%s, model.hidden_dims=%s, "
                    "%s); Ctrl-C stops it keeping what was recorded", duration(seconds),
                    num_iterations, cfg["model"]["hidden_dims"], examples)
