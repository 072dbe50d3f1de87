"""What an init scheme's registry entry holds (:class:`Scheme`), and the keys schemes share.

Each key is declared once here, with its rule and its help (:class:`nninit.options.Key`); an entry of
:data:`nninit.numerics.initializers.SCHEMES` lists the keys its ``conf/init/<name>.yaml`` has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nninit.numerics.variance_scaling import DISTRIBUTIONS, MODES, NORMAL_DISTRIBUTIONS
from nninit.options import ConfigError, Key, Rule, choice, in_open_interval, integer, is_number, null_or, positive


@dataclass(frozen=True)
class Scheme:
    """One option of the ``init`` group.

    Attributes
    ----------
    weights : callable
        ``weights(fan_in, fan_out, rng, **options) -> ndarray (fan_out, fan_in)``; the keys of the
        entry that are parameters of this function are passed to it.
    keys : tuple of Key
        The keys of ``conf/init/<name>.yaml`` besides ``name``, in its order.
    summary : str
        One line for ``--help`` (default: the first line of the docstring of ``weights``).
    gain_squared : bool
        A preset of ``variance_scaling``: its variance is ``gain**2``, so ``gain=auto`` passes
        ``scale`` = the square of the activation's gain in closed form (exactly 2 for ReLU).
    biases : callable or None
        ``biases(fan_in, fan_out, rng) -> ndarray (fan_out, 1)``, drawn after each layer's W when
        ``bias`` is null; None: zeros.
    rescale : callable or None
        A data-dependent step after the draw (LSUV): ``rescale(parameters, X, init, model)`` returns
        ``(parameters, info)``; a scheme with one is not a plain weight initializer.
    checks : tuple of callable
        Rules across keys: ``check(init)`` raises :class:`nninit.options.ConfigError`.
    """

    weights: Callable[..., np.ndarray]
    keys: tuple[Key, ...]
    summary: str = ""
    gain_squared: bool = False
    biases: Callable[[int, int, np.random.RandomState], np.ndarray] | None = None
    rescale: Callable | None = None
    checks: tuple[Callable[[dict], None], ...] = ()

    def __post_init__(self):
        if not self.summary:  # the first line of the function's docstring (None under python -OO)
            object.__setattr__(self, "summary", (self.weights.__doc__ or self.weights.__name__).strip().splitlines()[0])


BIAS = Key("bias", null_or(Rule(is_number, ""), "null or a finite number"),
           "null: the scheme's rule (zeros; pytorch_default draws them), or a constant for every bias")
BIAS_STD = Key("bias_std", null_or(positive(allow_zero=True), "null or a finite number >= 0 (the standard "
                                                              "deviation of random biases)"),
               "null, or random biases b ~ N(0, bias_std^2) drawn after W (sigma_b of mean-field theory)")
BIASES = (BIAS, BIAS_STD)
"""``bias`` and ``bias_std``: a constant or random biases (with :func:`bias_or_bias_std`)."""
GAIN = Key("gain", Rule(lambda v: v is None or v == "auto" or (is_number(v) and v > 0),
                        "a finite number > 0, 'auto' or null"),
           "multiplies the standard deviation; auto: the gain of model.activation; null: the paper's")
MODE = Key("mode", choice(MODES), "the fan of the variance: fan_in, fan_out or their mean")
DISTRIBUTION = Key("distribution", choice(DISTRIBUTIONS),
                   "normal = untruncated_normal, truncated_normal (+-2 sigma, variance-corrected) or uniform")
TOL = Key("tol", in_open_interval(0, 1), "stop rescaling a layer when |Var(z) - 1| < tol")
MAX_ITER = Key("max_iter", integer(1), "rescaling passes per layer at most")


def normal_distribution(scheme: str) -> Key:
    """``distribution`` of a normal scheme (he, xavier, lecun): its uniform form is another option."""
    return Key("distribution", choice(NORMAL_DISTRIBUTIONS, f"with init={scheme} (the uniform form is "
                                                            f"init={scheme}_uniform)"),
               "normal = untruncated_normal, or truncated_normal (+-2 sigma, variance-corrected)")


def bias_or_bias_std(init: dict) -> None:
    """Random biases (``bias_std``) and a constant ``bias`` exclude each other."""
    if init.get("bias_std") is not None and init.get("bias") is not None:
        raise ConfigError("init.bias_std", init["bias_std"], f"cannot be combined with a constant init.bias="
                                                             f"{init['bias']!r}; set one of them to null")
