"""The settings of :func:`nninit.numerics.training.train`: its schedule, update rule and batches."""

from __future__ import annotations

from dataclasses import dataclass

from nninit.numerics.optimizers import OPTIMIZERS
from nninit.options import MAX_SEED, choice, in_half_open_interval, in_open_interval, integer, null_or, positive


@dataclass(frozen=True)
class TrainSettings:
    """The schedule and update rule of :func:`train`.

    Parameters
    ----------
    learning_rate : float
        Step size, a finite number > 0.
    num_iterations : int
        Updates to apply (>= 0; 0 evaluates the initial network).
    print_every : int, default=1000
        Recording and logging period in iterations (>= 1).
    optimizer : {'gd', 'momentum', 'nesterov', 'adam'}, default='gd'
        The update rule (:data:`nninit.numerics.optimizers.OPTIMIZERS`).
    momentum : float, default=0.9
        ``mu`` of ``momentum`` and ``nesterov``, in [0, 1); ignored by the others.
    beta1, beta2 : float, default=0.9, 0.999
        Adam's moment decay rates, in (0, 1); ignored by the others.
    epsilon : float, default=1e-8
        Adam's epsilon, > 0; ignored by the others.
    batch_size : int or None, default=None
        Examples per update (>= 1; see :mod:`nninit.numerics.minibatches`); None is the full batch.
    shuffle_seed : int, default=0
        Seed of the minibatches' order (from 0 to 2**32 - 1); unused with the full batch.
    weight_decay : float, default=0.0
        L2 coefficient ``lambda`` >= 0: ``lambda * W`` is added to the gradient of every weight matrix
        (biases do not decay), i.e. the gradient of ``lambda / 2 * sum ||W||^2``.

    Raises
    ------
    nninit.options.ConfigError
        A ValueError, for a value outside these ranges (or not a number / an integer), naming it.
    """

    learning_rate: float
    num_iterations: int
    print_every: int = 1000
    optimizer: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    batch_size: int | None = None
    shuffle_seed: int = 0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        # checked by the rules the config checks train.* with (nninit.options)
        positive()("learning_rate", self.learning_rate)
        integer(0)("num_iterations", self.num_iterations)
        integer(1)("print_every", self.print_every)
        choice(tuple(OPTIMIZERS))("optimizer", self.optimizer)
        in_half_open_interval(0, 1)("momentum", self.momentum)
        in_open_interval(0, 1)("beta1", self.beta1)
        in_open_interval(0, 1)("beta2", self.beta2)
        positive()("epsilon", self.epsilon)
        null_or(integer(1), "null (the full batch) or an integer >= 1")("batch_size", self.batch_size)
        integer(0, MAX_SEED)("shuffle_seed", self.shuffle_seed)
        positive(allow_zero=True)("weight_decay", self.weight_decay)
