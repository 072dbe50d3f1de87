"""Init schemes: one short function each, and one registry entry each (:data:`SCHEMES`).

Layout follows the notebook (and PyTorch): the weights of layer ``l`` have shape
``(fan_out, fan_in) = (n[l], n[l-1])`` and its biases ``(n[l], 1)``. Every function takes the
random generator as an argument (a ``numpy.random.RandomState``) and never touches numpy's
global generator. ``initialize_parameters`` draws layer by layer, W before b, which reproduces
the notebook's ``numpy.random.seed(3)`` values bit for bit with ``RandomState(3)``.

A new scheme is its function here (or in :mod:`nninit.numerics.variance_scaling` for a preset of it),
its entry in :data:`SCHEMES` (its keys with their rules: :mod:`nninit.numerics.init_keys`), and its
``conf/init/<name>.yaml``; the config check, ``--help`` and the app derive from the entry.
"""

from __future__ import annotations

import inspect
import logging
import math
from typing import Callable

import numpy as np

from nninit.numerics import init_keys as k
from nninit.numerics.activations import Activation, calculate_gain, calculate_gain_squared
from nninit.numerics.init_keys import Scheme
from nninit.numerics.lsuv import lsuv
from nninit.numerics.variance_scaling import (  # noqa: F401 (the initializers' public names)
    DISTRIBUTIONS,
    MODES,
    NORMAL_DISTRIBUTIONS,
    TRUNCATED_NORMAL_STD,
    he,
    he_uniform,
    lecun,
    lecun_uniform,
    truncated_standard_normal,
    variance_scaling,
    xavier,
    xavier_uniform,
)
from nninit.options import Key, positive

log = logging.getLogger(__name__)


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
    same interval (:func:`pytorch_default_bias`).
    """
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, (fan_out, fan_in))


def pytorch_default_bias(fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """``torch.nn.Linear``'s biases: ``b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, shape (fan_out, 1)."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, (fan_out, 1))


def _lsuv_rescale(parameters: dict[str, np.ndarray], X: np.ndarray, init: dict, model: dict):
    """LSUV after the orthogonal draw (:func:`nninit.numerics.lsuv.lsuv`) with ``init.tol``, ``init.max_iter``."""
    parameters, passes = lsuv(parameters, X, activation=Activation(model["activation"], model["negative_slope"]),
                              tol=init["tol"], max_iter=init["max_iter"])
    log.info("LSUV rescaling passes per layer: %s", passes)
    return parameters, {"lsuv_passes": passes}


_GAIN_BIAS = (k.GAIN, k.BIAS)
SCHEMES: dict[str, Scheme] = {
    "zeros": Scheme(zeros, (k.BIAS,)),
    "random": Scheme(random, (Key("scale", positive(), "the weights' standard deviation"), k.BIAS)),
    "he": Scheme(he, (k.GAIN, k.normal_distribution("he"), k.BIAS), gain_squared=True),
    "he_uniform": Scheme(he_uniform, _GAIN_BIAS, gain_squared=True),
    "xavier": Scheme(xavier, (k.GAIN, k.normal_distribution("xavier"), k.BIAS), gain_squared=True),
    "xavier_uniform": Scheme(xavier_uniform, _GAIN_BIAS, gain_squared=True),
    "lecun": Scheme(lecun, (k.GAIN, k.normal_distribution("lecun"), k.BIAS), gain_squared=True),
    "lecun_uniform": Scheme(lecun_uniform, _GAIN_BIAS, gain_squared=True),
    "orthogonal": Scheme(orthogonal, (k.GAIN, *k.BIASES), checks=(k.bias_or_bias_std,)),
    "pytorch_default": Scheme(pytorch_default, (k.BIAS,), biases=pytorch_default_bias),
    "variance_scaling": Scheme(variance_scaling, (Key("scale", positive(), "the variance multiplier: variance = "
                                                               "scale / fan"), k.MODE, k.DISTRIBUTION, *k.BIASES),
                               checks=(k.bias_or_bias_std,)),
    "lsuv": Scheme(orthogonal, (k.GAIN, k.TOL, k.MAX_ITER, k.BIAS), rescale=_lsuv_rescale,
                   summary="LSUV (Mishkin & Matas 2016): orthogonal, then each layer rescaled to unit output "
                           "variance on the training set."),
}
"""The options of the ``init`` group (one ``conf/init/<name>.yaml`` each), in the order ``--help`` lists them."""

WEIGHT_INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    name: scheme.weights for name, scheme in SCHEMES.items() if scheme.rescale is None
}
"""Weight initializers by name: the schemes without a data-dependent step (``lsuv`` starts from ``orthogonal``)."""
VARIANCE_PRESETS = tuple(name for name, scheme in SCHEMES.items() if scheme.gain_squared)
"""The named schemes that are presets of :func:`variance_scaling`: their gain enters squared."""


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
        A key of :data:`WEIGHT_INITIALIZERS`: the scheme of :data:`SCHEMES` that draws them.
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
        accepted = [*sorted(WEIGHT_INITIALIZERS), *(name for name in SCHEMES if name not in WEIGHT_INITIALIZERS)]
        raise ValueError(f"init={method!r} is not supported; accepted: {', '.join(accepted)}")
    return _draw(layers_dims, SCHEMES[method], rng, bias, bias_std, options)


def _draw(layers_dims: list[int], scheme: Scheme, rng: np.random.RandomState, bias: float | None,
          bias_std: float | None, options: dict) -> dict[str, np.ndarray]:
    parameters: dict[str, np.ndarray] = {}
    for l in range(1, len(layers_dims)):
        fan_in, fan_out = layers_dims[l - 1], layers_dims[l]
        parameters[f"W{l}"] = scheme.weights(fan_in, fan_out, rng, **options)
        if bias_std is not None:
            parameters[f"b{l}"] = random_bias(fan_out, rng, bias_std)
        elif bias is not None:
            parameters[f"b{l}"] = np.full((fan_out, 1), float(bias))
        elif scheme.biases is not None:
            parameters[f"b{l}"] = scheme.biases(fan_in, fan_out, rng)
        else:
            parameters[f"b{l}"] = np.zeros((fan_out, 1))
    return parameters


def initial_parameters(cfg: dict, layers_dims: list[int], X: np.ndarray | None) -> tuple[dict[str, np.ndarray], dict]:
    """Initial parameters for a validated config, and facts about the initialization.

    The entry ``SCHEMES[init.name]`` draws them. ``init.gain='auto'`` becomes
    :func:`nninit.numerics.activations.calculate_gain` of ``model.activation``; the presets of
    ``variance_scaling`` (he, xavier, lecun and their uniform forms) receive its square in closed form
    instead (:func:`nninit.numerics.activations.calculate_gain_squared`, exactly 2 for ReLU), so that
    ReLU with ``gain=auto`` draws the same arrays as ``gain=null``. ``lsuv`` draws an orthogonal start
    and rescales it on ``X``.

    Parameters
    ----------
    cfg : dict
        ``init`` (its ``name`` and keys), ``model`` (``activation``, ``negative_slope``) and ``seed``
        (of the weights' ``RandomState``).
    layers_dims : list of int
        ``[n_x, n_1, ..., n_L]``.
    X : ndarray of float64, shape (n_x, m), or None
        The training inputs (used by a data-dependent scheme only).

    Returns
    -------
    parameters : dict of str to ndarray of float64
    info : dict
        ``gain`` (the resolved gain, when it is ``auto``) and, for LSUV, ``lsuv_passes``.
    """
    init, model = cfg["init"], cfg["model"]
    scheme = SCHEMES[init["name"]]
    takes = inspect.signature(scheme.weights).parameters
    options = {key: value for key, value in init.items() if key in takes}
    info: dict = {}
    if options.get("gain") == "auto":
        activation, slope = model["activation"], model["negative_slope"]
        info["gain"] = calculate_gain(activation, slope)
        if scheme.gain_squared:  # the variance is gain**2: its closed form (relu: exactly 2)
            del options["gain"]
            options["scale"] = calculate_gain_squared(activation, slope)
        else:
            options["gain"] = info["gain"]
    rng = np.random.RandomState(cfg["seed"])
    with np.errstate(over="ignore"):  # a huge init.scale gives infinite weights: a diverged run, not a warning
        parameters = _draw(layers_dims, scheme, rng, init.get("bias"), init.get("bias_std"), options)
    if scheme.rescale is not None:
        parameters, more = scheme.rescale(parameters, X, init, model)
        info.update(more)
    return parameters, info
