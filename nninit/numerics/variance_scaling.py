"""``variance_scaling`` and the named schemes that are presets of it (he, xavier, lecun, and their uniform forms).

Layout follows the notebook (and PyTorch): weights have shape ``(fan_out, fan_in)``. Every function
takes the random generator as an argument (a ``numpy.random.RandomState``). The registry of init
schemes, which names these, is :data:`nninit.numerics.initializers.SCHEMES`.
"""

from __future__ import annotations

import math

import numpy as np

MODES = ("fan_in", "fan_out", "fan_avg")
"""Accepted values of ``init.mode``."""
DISTRIBUTIONS = ("normal", "untruncated_normal", "truncated_normal", "uniform")
"""Accepted values of ``init.distribution`` for ``variance_scaling``.

``normal`` is the untruncated normal, as in JAX and PyTorch; ``untruncated_normal`` is the same
distribution (and the same draws) under Keras' name. Keras 3 turns ``"normal"`` into
``"truncated_normal"``: a Keras ``distribution="normal"`` is ``truncated_normal`` here.
"""
NORMAL_DISTRIBUTIONS = ("normal", "untruncated_normal", "truncated_normal")
"""Accepted values of ``init.distribution`` for the normal schemes ``he``, ``xavier``, ``lecun``."""

TRUNCATED_NORMAL_STD = 0.87962566103423978
"""Standard deviation of N(0, 1) truncated to [-2, 2]; Keras and JAX divide by it."""


def _fan(fan_in: int, fan_out: int, mode: str) -> float:
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    raise ValueError(f"init.mode={mode!r} is not supported; accepted: {', '.join(MODES)}")


def truncated_standard_normal(shape: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """Draws from N(0, 1) restricted to [-2, 2], by redrawing the values outside.

    Returns
    -------
    ndarray of float64, shape ``shape``
        Standard deviation :data:`TRUNCATED_NORMAL_STD` (about 0.8796), as TensorFlow's
        ``truncated_normal`` (which also resamples beyond two standard deviations).
    """
    x = rng.standard_normal(shape)
    outside = np.abs(x) > 2.0
    while outside.any():
        x[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(x) > 2.0
    return x


def variance_scaling(
    fan_in: int,
    fan_out: int,
    rng: np.random.RandomState,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
) -> np.ndarray:
    """Weights with variance ``scale / fan``: the form every named scheme is a preset of.

    Semantics of Keras ``VarianceScaling`` and ``jax.nn.initializers.variance_scaling``.
    With ``n`` = fan_in, fan_out or (fan_in + fan_out) / 2 by ``mode``:

    - ``normal`` or ``untruncated_normal`` (the same draws): ``W ~ N(0, scale / n)``;
    - ``truncated_normal``: N(0, sigma**2) truncated to ``[-2 sigma, 2 sigma]`` with
      ``sigma = sqrt(scale / n) / 0.87962566103423978``, so that the variance after
      truncation is ``scale / n``;
    - ``uniform``: ``W ~ U(-limit, limit)`` with ``limit = sqrt(3 scale / n)``.

    Parameters
    ----------
    fan_in, fan_out : int
        Units in the previous and in this layer.
    rng : numpy.random.RandomState
    scale : float, default=1.0
        Variance multiplier (Keras' ``scale``; PyTorch's ``gain**2``).
    mode : {'fan_in', 'fan_out', 'fan_avg'}, default='fan_in'
    distribution : {'normal', 'untruncated_normal', 'truncated_normal', 'uniform'}, default='truncated_normal'
        ``normal`` is untruncated, as JAX's ``"normal"``; Keras calls it ``"untruncated_normal"``
        (Keras 3 maps ``"normal"`` to ``"truncated_normal"``).

    Returns
    -------
    ndarray of float64, shape (fan_out, fan_in)

    Raises
    ------
    ValueError
        For an unknown ``mode`` or ``distribution``.
    """
    n = _fan(fan_in, fan_out, mode)
    shape = (fan_out, fan_in)
    if distribution in ("normal", "untruncated_normal"):
        return rng.standard_normal(shape) * math.sqrt(scale / n)
    if distribution == "truncated_normal":
        return truncated_standard_normal(shape, rng) * (math.sqrt(scale / n) / TRUNCATED_NORMAL_STD)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return rng.uniform(-limit, limit, shape)
    raise ValueError(
        f"init.distribution={distribution!r} is not supported; accepted: {', '.join(DISTRIBUTIONS)}"
    )


def _scale(gain: float | None, scale: float | None, default: float) -> float:
    """The variance multiplier of a named scheme: ``scale``, else ``gain**2``, else ``default``."""
    if gain is not None and scale is not None:
        raise ValueError(f"give gain ({gain!r}) or scale ({scale!r}), not both: scale is gain**2")
    if scale is not None:
        return scale
    return default if gain is None else gain * gain


def _normal(distribution: str, scheme: str) -> str:
    if distribution not in NORMAL_DISTRIBUTIONS:
        raise ValueError(
            f"init.distribution={distribution!r} is not supported by init={scheme}; accepted: "
            f"{', '.join(NORMAL_DISTRIBUTIONS)} (the uniform form is init={scheme}_uniform)"
        )
    return distribution


_GAIN_DOC = """
    Parameters
    ----------
    fan_in, fan_out : int
        Units in the previous and in this layer.
    rng : numpy.random.RandomState
    gain : float or None, default=None
        Multiplies the standard deviation (the variance by ``gain**2``); None: the paper's.
"""
_DISTRIBUTION_DOC = """    distribution : {'normal', 'untruncated_normal', 'truncated_normal'}
        ``normal`` and ``untruncated_normal``: N(0, variance) (the same draws);
        ``truncated_normal``: N(0, sigma**2) cut at +-2 sigma, sigma = sqrt(variance) / 0.8796...,
        as JAX's and Keras' ``*_normal`` initializers (see :func:`variance_scaling`).
"""
_SCALE_DOC = """    scale : float or None, keyword-only, default=None
        The variance multiplier ``gain**2`` itself, given instead of ``gain`` when it is known
        in closed form: ``init.gain=auto`` passes
        :func:`nninit.numerics.activations.calculate_gain_squared` (exactly 2 for ReLU).

    Returns
    -------
    ndarray of float64, shape (fan_out, fan_in)

    Raises
    ------
    ValueError
        When both ``gain`` and ``scale`` are given{}.
"""


def he(
    fan_in: int,
    fan_out: int,
    rng: np.random.RandomState,
    gain: float | None = None,
    distribution: str = "normal",
    *,
    scale: float | None = None,
) -> np.ndarray:
    """He (Kaiming) normal: variance ``gain**2 / fan_in``, gain sqrt(2) by default.

    He, Zhang, Ren and Sun (2015), "Delving Deep into Rectifiers", eq. 10: keeps the second
    moment of ReLU pre-activations constant from layer to layer. With ``distribution='normal'``
    (the default) it is PyTorch's ``kaiming_normal_(w)`` (``a=0, mode='fan_in'``), untruncated; with
    the default gain the standard deviation is computed as ``sqrt(2.0 / fan_in)``, exactly as in
    the notebook. With ``'truncated_normal'`` it is JAX's ``he_normal()`` and Keras' ``HeNormal()``.
    ``gain=None`` means sqrt(2) whatever the activation (PyTorch's default ``a=0``); leaky ReLU's
    sqrt(2 / (1 + a**2)) is ``scale=2 / (1 + a**2)`` (``init.gain=auto``).
    """
    variance = _scale(gain, scale, 2.0)
    return variance_scaling(fan_in, fan_out, rng, variance, "fan_in", _normal(distribution, "he"))


def he_uniform(
    fan_in: int, fan_out: int, rng: np.random.RandomState, gain: float | None = None, *, scale: float | None = None
) -> np.ndarray:
    """He uniform: ``W ~ U(-b, b)``, ``b = gain sqrt(3 / fan_in)``, gain sqrt(2) by default.

    He et al. (2015); PyTorch's ``kaiming_uniform_(w)`` (``a=0``), JAX's ``he_uniform()``, Keras'
    ``HeUniform()``.
    """
    return variance_scaling(fan_in, fan_out, rng, _scale(gain, scale, 2.0), "fan_in", "uniform")


def xavier(
    fan_in: int,
    fan_out: int,
    rng: np.random.RandomState,
    gain: float | None = None,
    distribution: str = "normal",
    *,
    scale: float | None = None,
) -> np.ndarray:
    """Glorot (Xavier) normal: variance ``gain**2 * 2 / (fan_in + fan_out)``, gain 1 by default.

    Glorot and Bengio (2010), "Understanding the difficulty of training deep feedforward
    neural networks", eq. 12. With ``distribution='normal'`` (the default) it is PyTorch's
    ``xavier_normal_(w, gain)``, untruncated; with ``'truncated_normal'`` JAX's
    ``glorot_normal()`` and Keras' ``GlorotNormal()``.
    """
    variance = _scale(gain, scale, 1.0)
    return variance_scaling(fan_in, fan_out, rng, variance, "fan_avg", _normal(distribution, "xavier"))


def xavier_uniform(
    fan_in: int, fan_out: int, rng: np.random.RandomState, gain: float | None = None, *, scale: float | None = None
) -> np.ndarray:
    """Glorot (Xavier) uniform: ``W ~ U(-b, b)``, ``b = gain sqrt(6 / (fan_in + fan_out))``.

    Glorot and Bengio (2010), eq. 16; PyTorch's ``xavier_uniform_(w, gain)``, JAX's
    ``glorot_uniform()``, Keras' ``GlorotUniform()``.
    """
    return variance_scaling(fan_in, fan_out, rng, _scale(gain, scale, 1.0), "fan_avg", "uniform")


def lecun(
    fan_in: int,
    fan_out: int,
    rng: np.random.RandomState,
    gain: float | None = None,
    distribution: str = "truncated_normal",
    *,
    scale: float | None = None,
) -> np.ndarray:
    """LeCun normal: variance ``gain**2 / fan_in``, gain 1 by default, truncated by default.

    LeCun, Bottou, Orr and Mueller (1998), "Efficient BackProp". With
    ``distribution='truncated_normal'`` (the default) it is JAX's ``lecun_normal()`` and Keras'
    ``LecunNormal()`` (a normal cut at two standard deviations, variance-corrected); with
    ``'normal'`` PyTorch's ``kaiming_normal_(w, nonlinearity='linear')``.
    """
    variance = _scale(gain, scale, 1.0)
    return variance_scaling(fan_in, fan_out, rng, variance, "fan_in", _normal(distribution, "lecun"))


def lecun_uniform(
    fan_in: int, fan_out: int, rng: np.random.RandomState, gain: float | None = None, *, scale: float | None = None
) -> np.ndarray:
    """LeCun uniform: ``W ~ U(-b, b)``, ``b = gain sqrt(3 / fan_in)``, gain 1 by default.

    JAX's ``lecun_uniform()``, Keras' ``LecunUniform()``, PyTorch's
    ``kaiming_uniform_(w, nonlinearity='linear')``.
    """
    return variance_scaling(fan_in, fan_out, rng, _scale(gain, scale, 1.0), "fan_in", "uniform")


for _scheme in (he, xavier, lecun, he_uniform, xavier_uniform, lecun_uniform):
    if _scheme.__doc__:  # None under python -OO
        _scheme.__doc__ += _GAIN_DOC + (
            _DISTRIBUTION_DOC + _SCALE_DOC.format(", or an unknown ``distribution``")
            if _scheme in (he, xavier, lecun) else _SCALE_DOC.format("")
        )
