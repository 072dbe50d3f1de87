"""The configuration schema (typed dataclasses) and its validation.

The dataclasses are Hydra's structured configs: Hydra checks every key and type against them
when it composes the configuration, and :func:`validate` checks the values before any work.
This module imports Hydra only inside :func:`register_configs`, so the rest of the package
can be used without it (``validate`` accepts any object with these attributes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional

from nninit.activations import ACTIVATIONS
from nninit.initializers import DISTRIBUTIONS, MODES

MAX_SEED = 2**32 - 1
GAIN_INITS = ("he", "he_uniform", "xavier", "xavier_uniform", "lecun", "lecun_uniform", "orthogonal")


# ---- init: one schema per option of the `init` group --------------------------------------
@dataclass
class InitConfig:
    name: str = "zeros"
    bias: Optional[float] = None  # constant for every bias; null: the scheme's rule (zeros)


@dataclass
class RandomInit(InitConfig):
    name: str = "random"
    scale: float = 10.0  # W ~ N(0, 1) * scale; the notebook's "large random" is 10


@dataclass
class GainInit(InitConfig):
    name: str = "he"
    gain: Any = None  # a number > 0, "auto" (the gain of model.activation) or null (the paper's)


@dataclass
class VarianceScalingInit(InitConfig):
    name: str = "variance_scaling"
    scale: float = 1.0  # variance = scale / fan
    mode: str = "fan_in"  # fan_in | fan_out | fan_avg
    distribution: str = "truncated_normal"  # normal | truncated_normal | uniform


@dataclass
class LSUVInit(InitConfig):
    name: str = "lsuv"
    gain: Any = None  # gain of the orthogonal start
    tol: float = 0.1  # stop when |Var(z) - 1| < tol for the layer's pre-activation
    max_iter: int = 10  # rescaling passes per layer at most


def init_schemas() -> dict[str, InitConfig]:
    """Every option of the ``init`` group with its default values."""
    schemas: dict[str, InitConfig] = {"zeros": InitConfig(), "random": RandomInit()}
    schemas.update({name: GainInit(name=name) for name in GAIN_INITS})
    schemas["pytorch_default"] = InitConfig(name="pytorch_default")
    schemas["variance_scaling"] = VarianceScalingInit()
    schemas["lsuv"] = LSUVInit()
    return schemas


# ---- data: one schema per option of the `data` group --------------------------------------
@dataclass
class DataConfig:
    name: str = "circles"
    n_train: int = 300  # training examples
    n_test: int = 100  # test examples
    train_seed: int = 1  # random_state of the training split
    test_seed: int = 2  # random_state of the test split
    standardize: bool = False  # zero mean, unit variance per feature (fit on the training split)


@dataclass
class CirclesData(DataConfig):
    noise: float = 0.05  # std of the Gaussian noise
    factor: float = 0.8  # inner radius / outer radius, in (0, 1)


@dataclass
class MoonsData(DataConfig):
    name: str = "moons"
    noise: float = 0.05


@dataclass
class GaussianQuantilesData(DataConfig):
    name: str = "gaussian_quantiles"
    n_features: int = 2
    cov: float = 1.0  # variance of each feature


def data_schemas() -> dict[str, DataConfig]:
    """Every option of the ``data`` group with its default values."""
    return {"circles": CirclesData(), "moons": MoonsData(), "gaussian_quantiles": GaussianQuantilesData()}


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
class Config:
    init: Any = None  # chosen from the `init` group
    data: Any = None  # chosen from the `data` group
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 3  # seed of the weights' RandomState, in [0, 2**32 - 1]


def register_configs() -> None:
    """Store the schema and every group option in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="nninit_schema", node=Config)
    for name, node in init_schemas().items():
        cs.store(group="init", name=name, node=node)
    for name, node in data_schemas().items():
        cs.store(group="data", name=name, node=node)


# ---- validation ------------------------------------------------------------------------
class ConfigError(ValueError):
    """A configuration value outside what is accepted; the message names key, value and rule."""

    def __init__(self, key: str, value: Any, accepted: str):
        super().__init__(f"{key}={value!r} is not accepted: {accepted}")
        self.key, self.value, self.accepted = key, value, accepted


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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
    init, data, model, train = cfg.get("init"), cfg.get("data"), cfg["model"], cfg["train"]
    if not init:
        raise ConfigError("init", init, f"choose one of {', '.join(init_schemas())}")
    _choice("init.name", init.get("name"), tuple(init_schemas()))
    if init.get("bias") is not None and not _is_number(init["bias"]):
        raise ConfigError("init.bias", init["bias"], "must be null or a finite number")
    if "scale" in init:
        _positive("init.scale", init["scale"])
    gain = init.get("gain")
    if gain is not None and gain != "auto" and (not _is_number(gain) or gain <= 0):
        raise ConfigError("init.gain", gain, "must be a finite number > 0, 'auto' or null")
    if "mode" in init:
        _choice("init.mode", init["mode"], MODES)
    if "distribution" in init:
        _choice("init.distribution", init["distribution"], DISTRIBUTIONS)
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
        raise ConfigError("data", data, f"choose one of {', '.join(data_schemas())}")
    _choice("data.name", data.get("name"), tuple(data_schemas()))
    _int_at_least("data.n_train", data["n_train"], 2)
    _int_at_least("data.n_test", data["n_test"], 2)
    _int_at_least("data.train_seed", data["train_seed"], 0, MAX_SEED)
    _int_at_least("data.test_seed", data["test_seed"], 0, MAX_SEED)
    if "noise" in data:
        _positive("data.noise", data["noise"], allow_zero=True)
    if "factor" in data and (not _is_number(data["factor"]) or not 0 < data["factor"] < 1):
        raise ConfigError("data.factor", data["factor"], "must be a number in (0, 1)")
    if "n_features" in data:
        _int_at_least("data.n_features", data["n_features"], 1)
    if "cov" in data:
        _positive("data.cov", data["cov"])

    _positive("train.learning_rate", train["learning_rate"])
    _int_at_least("train.num_iterations", train["num_iterations"], 0)
    _int_at_least("train.print_every", train["print_every"], 1)
    _int_at_least("seed", cfg["seed"], 0, MAX_SEED)
