"""Weight initializers, one short function each, with the reference libraries' semantics.

Layout follows the notebook (and PyTorch): the weights of layer ``l`` have shape
``(fan_out, fan_in) = (n[l], n[l-1])`` and its biases ``(n[l], 1)``. Every function takes the
random generator as an argument (a ``numpy.random.RandomState``) and never touches numpy's
global generator. ``initialize_parameters`` draws layer by layer, W before b, which reproduces
the notebook's ``numpy.random.seed(3)`` values bit for bit with ``RandomState(3)``.
"""

from __future__ import annotations

import math
from typing import Callable

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
VARIANCE_PRESETS = ("he", "he_uniform", "xavier", "xavier_uniform", "lecun", "lecun_uniform")
"""The named schemes that are presets of :func:`variance_scaling`: their gain enters squared."""

TRUNCATED_NORMAL_STD = 0.87962566103423978
"""Standard deviation of N(0, 1) truncated to [-2, 2]; Keras and JAX divide by it."""


def zeros(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """All-zero weights (the notebook's ``initialize_parameters_zeros``).

    Every hidden unit computes the same function and receives the same gradient, so the
    symmetry is never broken. ``rng`` is accepted for a uniform signature and not used.

    Returns
    -------
    ndarray of float64, shape (fan_out, fan_in)
    """
    return np.zeros((fan_out, fan_in))


def random(fan_in: int, fan_out: int, rng: np.random.RandomState, scale: float = 10.0) -> np.ndarray:
    """Standard normal weights times ``scale``: ``W ~ N(0, scale**2)``.

    The notebook's ``initialize_parameters_random`` uses ``scale = 10`` ("too large weights").

    Returns
    -------
    ndarray of float64, shape (fan_out, fan_in)
    """
    return rng.standard_normal((fan_out, fan_in)) * scale


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


def orthogonal(fan_in: int, fan_out: int, rng: np.random.RandomState, gain: float | None = None) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain`` (1 by default).

    Saxe, McClelland and Ganguli (2014), "Exact solutions to the nonlinear dynamics of
    learning in deep linear neural networks". Drawn as PyTorch's ``orthogonal_``: the QR
    decomposition of a standard normal matrix (transposed when wide), with the columns of Q
    multiplied by the signs of R's diagonal so that the result is uniform (Haar) on the
    orthogonal group. Rows are orthonormal when ``fan_out <= fan_in`` (``W W^T = gain**2 I``),
    columns otherwise (``W^T W = gain**2 I``).

    Returns
    -------
    ndarray of float64, shape (fan_out, fan_in)
    """
    flat = rng.standard_normal((fan_out, fan_in))
    wide = fan_out < fan_in
    if wide:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if wide:
        q = q.T
    return np.ascontiguousarray(q) * (1.0 if gain is None else gain)


def pytorch_default(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """What ``torch.nn.Linear`` does: ``W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    PyTorch's ``Linear.reset_parameters`` calls ``kaiming_uniform_(a=sqrt(5))``, whose bound
    ``sqrt(2 / (1 + 5)) * sqrt(3 / fan_in)`` is ``1 / sqrt(fan_in)``; the biases are drawn from the
    same interval (see :func:`initialize_parameters`).
    """
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, (fan_out, fan_in))


WEIGHT_INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "zeros": zeros,
    "random": random,
    "he": he,
    "he_uniform": he_uniform,
    "xavier": xavier,
    "xavier_uniform": xavier_uniform,
    "lecun": lecun,
    "lecun_uniform": lecun_uniform,
    "orthogonal": orthogonal,
    "pytorch_default": pytorch_default,
    "variance_scaling": variance_scaling,
}
"""Weight initializers by name; ``lsuv`` (in :mod:`nninit.numerics.lsuv`) starts from ``orthogonal``."""


def random_bias(fan_out: int, rng: np.random.RandomState, bias_std: float) -> np.ndarray:
    """Biases ``b ~ N(0, bias_std**2)``, the random biases of mean-field theory.

    Poole et al. (2016), "Exponential expressivity in deep neural networks through transient
    chaos", section 2, and Schoenholz et al. (2017), "Deep information propagation": ``b_i ~ N(0,
    sigma_b**2)``, so that ``bias_std**2`` is their ``sigma_b**2`` (the ``bias_variance`` of
    :mod:`nninit.numerics.theory`). ``bias_std == 0`` returns zeros without drawing, so the generator's
    state, and every later draw, is as with no biases drawn at all.

    Parameters
    ----------
    fan_out : int
        Units in this layer.
    rng : numpy.random.RandomState
    bias_std : float
        Standard deviation, finite and >= 0.

    Returns
    -------
    ndarray of float64, shape (fan_out, 1)
    """
    if bias_std == 0:
        return np.zeros((fan_out, 1))
    return rng.standard_normal((fan_out, 1)) * bias_std


def initialize_parameters(
    layers_dims: list[int],
    method: str,
    rng: np.random.RandomState,
    *,
    bias: float | None = None,
    bias_std: float | None = None,
    **options: float | str | None,
) -> dict[str, np.ndarray]:
    """Weights and biases of every layer, drawn layer by layer, W before b.

    Parameters
    ----------
    layers_dims : list of int
        ``[n_x, n_1, ..., n_L]``: input size, then the units of each layer.
    method : str
        A key of :data:`WEIGHT_INITIALIZERS`.
    rng : numpy.random.RandomState
        The only source of randomness. ``RandomState(3)`` with ``'he'`` or ``'random'``
        reproduces the notebook's arrays exactly.
    bias : float or None, default=None
        Constant for every bias. ``None`` means the scheme's own rule: zeros, except
        ``pytorch_default``, which draws ``b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` after W.
    bias_std : float or None, default=None
        Random biases ``b ~ N(0, bias_std**2)``, drawn after each layer's W (see
        :func:`random_bias`): the bias variance ``sigma_b**2`` of mean-field theory (Poole et al.
        2016), so that with ``variance_scaling(scale=sigma_w**2, mode='fan_in',
        distribution='normal')`` any point ``(sigma_w**2, sigma_b**2)`` of the phase diagram can be
        drawn. ``None`` (the default) draws nothing, so every other draw is unchanged; ``0`` gives
        zero biases, also without a draw. Not together with ``bias``.
    **options
        Keyword arguments of the weight initializer (``scale``, ``gain``, ``mode``, ...).

    Returns
    -------
    dict of str to ndarray of float64
        ``W1, b1, ..., WL, bL``; ``Wl`` has shape ``(n_l, n_{l-1})``, ``bl`` shape ``(n_l, 1)``.

    Raises
    ------
    ValueError
        For an unknown ``method``, a negative or non-finite ``bias_std``, or ``bias`` and
        ``bias_std`` given together.
    """
    if bias_std is not None:
        if bias is not None:
            raise ValueError(f"give bias ({bias!r}) or bias_std ({bias_std!r}), not both")
        if not (math.isfinite(bias_std) and bias_std >= 0):
            raise ValueError(f"bias_std={bias_std!r} must be a finite number >= 0")
    if method not in WEIGHT_INITIALIZERS:
        raise ValueError(
            f"init={method!r} is not supported; accepted: {', '.join(sorted(WEIGHT_INITIALIZERS))}, lsuv"
        )
    weight_init = WEIGHT_INITIALIZERS[method]
    parameters: dict[str, np.ndarray] = {}
    for l in range(1, len(layers_dims)):
        fan_in, fan_out = layers_dims[l - 1], layers_dims[l]
        parameters[f"W{l}"] = weight_init(fan_in, fan_out, rng, **options)
        if bias_std is not None:
            parameters[f"b{l}"] = random_bias(fan_out, rng, bias_std)
        elif bias is not None:
            parameters[f"b{l}"] = np.full((fan_out, 1), float(bias))
        elif method == "pytorch_default":
            bound = 1.0 / math.sqrt(fan_in)
            parameters[f"b{l}"] = rng.uniform(-bound, bound, (fan_out, 1))
        else:
            parameters[f"b{l}"] = np.zeros((fan_out, 1))
    return parameters
