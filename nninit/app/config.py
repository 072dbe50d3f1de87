"""The configuration schema and its validation.

:class:`Config` is Hydra's structured config for the whole tree: Hydra checks the keys and types
of ``model``, ``train`` and ``seed`` against it when it composes the configuration, and rejects
unknown keys everywhere. The options of the ``init`` and ``data`` groups are YAML files in
``conf/`` (one per option, every key commented); :func:`validate` checks every value, their
types included, before any work. Imports no Hydra (:func:`nninit.app.hydra.register_configs` stores the schema).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, List, Optional

from nninit.data import DATASETS
from nninit.numerics.activations import ACTIVATIONS
from nninit.numerics.initializers import (
    DISTRIBUTIONS,
    MODES,
    NORMAL_DISTRIBUTIONS,
    WEIGHT_INITIALIZERS,
)
from nninit.record.memory import estimated_bytes, memory_limit

MAX_SEED = 2**32 - 1
INIT_NAMES = tuple(WEIGHT_INITIALIZERS) + ("lsuv",)
"""Options of the ``init`` group (one YAML file each in ``conf/init/``)."""
DATA_NAMES = DATASETS
"""Options of the ``data`` group (one YAML file each in ``conf/data/``)."""

_GAIN_KEYS = ("name", "gain", "bias")
INIT_KEYS: dict[str, tuple[str, ...]] = {
    "zeros": ("name", "bias"),
    "random": ("name", "scale", "bias"),
    **{name: ("name", "gain", "distribution", "bias") for name in ("he", "xavier", "lecun")},
    **{name: _GAIN_KEYS for name in ("he_uniform", "xavier_uniform", "lecun_uniform")},
    "orthogonal": _GAIN_KEYS + ("bias_std",),
    "pytorch_default": ("name", "bias"),
    "variance_scaling": ("name", "scale", "mode", "distribution", "bias", "bias_std"),
    "lsuv": ("name", "gain", "tol", "max_iter", "bias"),
}
"""The keys of each ``init`` option (its YAML file; a test checks they agree)."""
_SPLIT_KEYS = ("name", "n_train", "n_test", "train_seed", "test_seed", "standardize")
DATA_KEYS: dict[str, tuple[str, ...]] = {
    "circles": _SPLIT_KEYS + ("noise", "factor"),
    "moons": _SPLIT_KEYS + ("noise",),
    "gaussian_quantiles": _SPLIT_KEYS + ("n_features", "cov"),
}
"""The keys of each ``data`` option."""


# ---- model, train, and the whole --------------------------------------------------------
@dataclass
class ModelConfig:
    hidden_dims: List[int] = field(default_factory=lambda: [10, 5])  # units per hidden layer
    activation: str = "relu"  # relu | leaky_relu | tanh | sigmoid (hidden layers)
    negative_slope: float = 0.01  # leaky_relu only, in [0, 1)


@dataclass
class TrainConfig:
    learning_rate: float = 0.01  # gradient-descent step size, > 0
    num_iterations: int = 15000  # updates, >= 0 (0 evaluates the initial network)
    print_every: int = 1000  # record, log and check every this many iterations, >= 1
    diagnostics: bool = True  # per-layer statistics in history.csv


@dataclass
class PlotsConfig:
    figures: Optional[bool] = None  # the run's own figures; null: yes for a single run, no in a sweep (scripts/plots.py draws them later)
    animation: Optional[bool] = None  # decision_boundary.gif; null: yes for a single run, no in a sweep


@dataclass
class Config:
    init: Any = None  # chosen from the `init` group: conf/init/<name>.yaml
    data: Any = None  # chosen from the `data` group: conf/data/<name>.yaml
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 3  # seed of the weights' RandomState, in [0, 2**32 - 1]
    resume: bool = False  # rerun a sweep into its folder: skip the jobs already completed or diverged there
    name: Optional[str] = None  # a free label for the run: recorded, in the folder name and the figure titles
    tags: Any = field(default_factory=list)  # free labels, recorded in metrics.json: [baseline,lr_sweep], or one: baseline
    tracker: Any = None  # chosen from the `tracker` group: conf/tracker/<name>.yaml (not part of what is run)
    plots: PlotsConfig = field(default_factory=PlotsConfig)  # what a run draws (not part of what is run)


# ---- validation ------------------------------------------------------------------------
class ConfigError(ValueError):
    """A configuration value outside what is accepted; the message names key, value and rule."""

    def __init__(self, key: str, value: Any, accepted: str):
        super().__init__(f"{key}={value!r} is not accepted: {accepted}")
        self.key, self.value, self.accepted = key, value, accepted


def tag_list(tags: Any) -> list[str]:
    """The ``tags`` of a run as a list of strings: a list of labels, or one label (``tags=baseline``
    is ``[baseline]``); null, or nothing (``tags=``), is none.

    Raises
    ------
    ConfigError
        When ``tags`` is neither, or a tag is not text or a number.
    """
    if tags is None or tags == "":  # tags= (nothing after the =) is no tag, not an empty one
        return []
    if isinstance(tags, (str, int, float)):
        tags = [tags]  # one label
    if not isinstance(tags, Sequence) or not all(isinstance(t, (str, int, float)) and not isinstance(t, bool)
                                                 for t in tags):
        raise ConfigError("tags", tags, "a label or a list of labels, e.g. tags=baseline or tags=[baseline,lr_sweep]")
    return [str(t) for t in tags]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


MAX_COUNT = 2**53
"""The largest iteration count (``train.num_iterations``, ``train.print_every``) the loop indexes exactly:
recorded iterations are placed with float64 arithmetic (``numpy.linspace``), exact for integers up to 2**53."""


def _int_at_least(key: str, v: Any, low: int, high: int | None = None) -> None:
    if not _is_int(v) or v < low or (high is not None and v > high):
        rule = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
        raise ConfigError(key, v, f"must be {rule}")


def _positive(key: str, v: Any, allow_zero: bool = False) -> None:
    if not _is_number(v) or v < 0 or (v == 0 and not allow_zero):
        raise ConfigError(key, v, f"must be a finite number {'>= 0' if allow_zero else '> 0'}")


def _choice(key: str, v: Any, accepted: tuple[str, ...]) -> None:
    if v not in accepted:
        raise ConfigError(key, v, f"must be one of {', '.join(accepted)}")


def _known_keys(prefix: str, node: dict, keys: tuple[str, ...], owner: str = "") -> None:
    for key in node:
        if key not in keys:
            owner = owner or prefix.rstrip(".") or "the config"
            raise ConfigError(f"{prefix}{key}", node[key], f"{owner} has no such key; its keys: {', '.join(keys)}")


def _fits_in_memory(cfg: dict) -> None:
    """Refuse a run that needs more memory than this process may use (:mod:`nninit.record.memory`),
    naming the key to change: ``model.hidden_dims`` when the network does not fit even with the
    smallest data (2 training and 2 test examples), else ``data.n_train`` (or ``data.n_test``) with
    the number of examples that fit."""
    found = memory_limit()
    if found is None:
        return
    limit, source = found

    def need(**sizes) -> tuple[int, int, int]:
        return estimated_bytes({**cfg, "data": {**cfg["data"], **sizes}})

    total, per_example, parameters = need()
    if total <= limit:
        return
    gib = 2**30
    allows = f"more than {source} allows here ({limit / gib:.1f} GiB)"
    smallest = need(n_train=2, n_test=2)[0]
    if smallest > limit:
        raise ConfigError("model.hidden_dims", cfg["model"]["hidden_dims"],
                          f"its parameters ({parameters / gib:.1f} GiB) and the smallest data (2 training and 2 test "
                          f"examples, {per_example:,} bytes per training example) need about {smallest / gib:.1f} GiB, "
                          f"{allows}; use fewer or narrower layers")
    key = "n_train" if need(n_train=2)[0] <= limit else "n_test"
    without = need(**{key: 0})[0]  # the estimate is linear in the number of examples
    per = (total - without) // cfg["data"][key]
    raise ConfigError(f"data.{key}", cfg["data"][key],
                      f"with model.hidden_dims={cfg['model']['hidden_dims']} a run needs about {total / gib:.1f} GiB "
                      f"({per:,} bytes per {'training' if key == 'n_train' else 'test'} example), {allows}; "
                      f"at most about {(limit - without) // per:,} examples fit")


def validate(cfg: dict) -> None:
    """Check every value of a composed configuration before any work starts.

    Parameters
    ----------
    cfg : dict
        The composed configuration as plain containers (``OmegaConf.to_container(cfg,
        resolve=True)`` or ``dataclasses.asdict(Config(...))``).

    Raises
    ------
    ConfigError
        At the first value outside its accepted range; the message names the key, the value
        and what is accepted.
    """
    _known_keys("", cfg, ("init", "data", "model", "train", "seed"),
                "the config (besides resume, name, tags, plots and tracker, which say how to run and label it)")
    init, data, model, train = cfg.get("init"), cfg.get("data"), cfg["model"], cfg["train"]
    if not init:
        raise ConfigError("init", init, f"choose one of {', '.join(INIT_NAMES)}")
    _choice("init.name", init.get("name"), INIT_NAMES)
    _known_keys("init.", init, INIT_KEYS[init["name"]], f"init={init['name']}")
    _known_keys("model.", model, ("hidden_dims", "activation", "negative_slope"))
    _known_keys("train.", train, ("learning_rate", "num_iterations", "print_every", "diagnostics"))
    if init.get("bias") is not None and not _is_number(init["bias"]):
        raise ConfigError("init.bias", init["bias"], "must be null or a finite number")
    bias_std = init.get("bias_std")
    if bias_std is not None:
        if not _is_number(bias_std) or bias_std < 0:
            raise ConfigError("init.bias_std", bias_std, "must be null or a finite number >= 0 (the standard "
                                                         "deviation of random biases)")
        if init.get("bias") is not None:
            raise ConfigError("init.bias_std", bias_std, f"cannot be combined with a constant init.bias="
                                                         f"{init['bias']!r}; set one of them to null")
    if "scale" in init:
        _positive("init.scale", init["scale"])
    gain = init.get("gain")
    if gain is not None and gain != "auto" and (not _is_number(gain) or gain <= 0):
        raise ConfigError("init.gain", gain, "must be a finite number > 0, 'auto' or null")
    if "mode" in init:
        _choice("init.mode", init["mode"], MODES)
    if "distribution" in init:
        if init["name"] == "variance_scaling":
            _choice("init.distribution", init["distribution"], DISTRIBUTIONS)
        elif init["distribution"] not in NORMAL_DISTRIBUTIONS:  # he, xavier, lecun
            raise ConfigError("init.distribution", init["distribution"],
                              f"must be one of {', '.join(NORMAL_DISTRIBUTIONS)} with init={init['name']} "
                              f"(the uniform form is init={init['name']}_uniform)")
    if "tol" in init and (not _is_number(init["tol"]) or not 0 < init["tol"] < 1):
        raise ConfigError("init.tol", init["tol"], "must be a number in (0, 1)")
    if "max_iter" in init:
        _int_at_least("init.max_iter", init["max_iter"], 1)

    hidden_dims = model["hidden_dims"]
    if not isinstance(hidden_dims, (list, tuple)) or not all(_is_int(n) and n >= 1 for n in hidden_dims):
        raise ConfigError("model.hidden_dims", hidden_dims, "must be a list of integers >= 1, e.g. [10, 5]")
    _choice("model.activation", model["activation"], ACTIVATIONS)
    slope = model["negative_slope"]
    if not _is_number(slope) or not 0 <= slope < 1:
        raise ConfigError("model.negative_slope", slope, "must be a number in [0, 1)")

    if not data:
        raise ConfigError("data", data, f"choose one of {', '.join(DATA_NAMES)}")
    _choice("data.name", data.get("name"), DATA_NAMES)
    _known_keys("data.", data, DATA_KEYS[data["name"]], f"data={data['name']}")
    _int_at_least("data.n_train", data["n_train"], 2)
    _int_at_least("data.n_test", data["n_test"], 2)
    _int_at_least("data.train_seed", data["train_seed"], 0, MAX_SEED)
    _int_at_least("data.test_seed", data["test_seed"], 0, MAX_SEED)
    if data["train_seed"] == data["test_seed"]:
        raise ConfigError("data.test_seed", data["test_seed"], f"must differ from data.train_seed={data['train_seed']}: "
                          "the same seed draws the test set from the same stream as the training set")
    if "noise" in data:
        _positive("data.noise", data["noise"], allow_zero=True)
    if "factor" in data and (not _is_number(data["factor"]) or not 0 < data["factor"] < 1):
        raise ConfigError("data.factor", data["factor"], "must be a number in (0, 1)")
    if "n_features" in data:
        _int_at_least("data.n_features", data["n_features"], 1)
    if "cov" in data:
        _positive("data.cov", data["cov"])
    if not isinstance(data.get("standardize", False), bool):
        raise ConfigError("data.standardize", data["standardize"], "must be true or false")
    if not isinstance(train.get("diagnostics", True), bool):
        raise ConfigError("train.diagnostics", train["diagnostics"], "must be true or false")

    _fits_in_memory(cfg)
    _positive("train.learning_rate", train["learning_rate"])
    _int_at_least("train.num_iterations", train["num_iterations"], 0, MAX_COUNT)
    _int_at_least("train.print_every", train["print_every"], 1, MAX_COUNT)
    _int_at_least("seed", cfg["seed"], 0, MAX_SEED)
