"""The configuration schema and its validation.

:class:`Config` is Hydra's structured config for the whole tree: Hydra checks the keys and types
of ``model``, ``train`` and ``seed`` against it when it composes the configuration, and rejects
unknown keys everywhere. Each of their fields carries its rule and help (:func:`option`). The options
of the ``init`` and ``data`` groups are YAML files in ``conf/`` (one per option, every key commented),
each with one registry entry that declares its keys and their rules:
:data:`nninit.numerics.initializers.SCHEMES` and :data:`nninit.data.DATASETS`. :func:`validate`
checks every value against these declarations before any work; :func:`options_help` lists them for
``--help``. Imports no Hydra (:func:`nninit.app.hydra.register_configs` stores the schema).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, List, Optional

from nninit.data import DATASETS, describe
from nninit.numerics.activations import ACTIVATIONS
from nninit.numerics.initializers import SCHEMES
from nninit.numerics.optimizers import OPTIMIZERS
from nninit.options import (
    MAX_SEED,
    ConfigError,
    Key,
    Rule,
    boolean,
    check_node,
    choice,
    in_half_open_interval,
    in_open_interval,
    integer,
    known_keys,
    list_of,
    null_or,
    positive,
)
from nninit.record.memory import estimated_bytes, memory_limit

__all__ = ["MAX_SEED", "ConfigError", "Config", "validate", "options_help", "tag_list"]

INIT_NAMES = tuple(SCHEMES)
"""Options of the ``init`` group (one YAML file each in ``conf/init/``)."""
DATA_NAMES = tuple(DATASETS)
"""Options of the ``data`` group (one YAML file each in ``conf/data/``)."""
MAX_COUNT = 2**53
"""The largest iteration count (``train.num_iterations``, ``train.print_every``) the loop indexes exactly:
recorded iterations are placed with float64 arithmetic (``numpy.linspace``), exact for integers up to 2**53."""


def option(default: Any, rule: Rule, help: str) -> Any:
    """A field of the schema with its rule and its one-line help (read back by :func:`keys_of`)."""
    metadata = {"rule": rule, "help": help}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def keys_of(schema: type) -> tuple[Key, ...]:
    """The :class:`nninit.options.Key` of every field of ``schema`` declared with :func:`option`."""
    return tuple(Key(f.name, f.metadata["rule"], f.metadata["help"])
                 for f in dataclasses.fields(schema) if "rule" in f.metadata)


# ---- model, train, and the whole --------------------------------------------------------
@dataclass
class ModelConfig:
    hidden_dims: List[int] = option([10, 5], list_of(integer(1), "a list of integers >= 1, e.g. [10, 5]"),
                                    "units per hidden layer ([] is logistic regression)")
    activation: str = option("relu", choice(ACTIVATIONS), "the hidden layers' (the output is a sigmoid unit)")
    negative_slope: float = option(0.01, in_half_open_interval(0, 1), "leaky_relu only")


@dataclass
class TrainConfig:
    learning_rate: float = option(0.01, positive(), "step size of the update rule (eta)")
    num_iterations: int = option(15000, integer(0, MAX_COUNT), "updates (0 evaluates the initial network)")
    print_every: int = option(1000, integer(1, MAX_COUNT), "record, log and check every this many iterations")
    diagnostics: bool = option(True, boolean(), "per-layer statistics in history.csv")
    optimizer: str = option("gd", choice(tuple(OPTIMIZERS)), "the update rule: gd (the notebook's), momentum "
                            "(heavy ball), nesterov, adam (Kingma & Ba 2015)")
    momentum: float = option(0.9, in_half_open_interval(0, 1),
                             "mu of optimizer=momentum and nesterov (others ignore it)")
    beta1: float = option(0.9, in_open_interval(0, 1), "adam's first-moment decay (others ignore it)")
    beta2: float = option(0.999, in_open_interval(0, 1), "adam's second-moment decay (others ignore it)")
    epsilon: float = option(1e-8, positive(), "adam's epsilon (others ignore it)")
    batch_size: Optional[int] = option(None, null_or(integer(1, MAX_COUNT), "null (the full batch) or an integer >= 1"),
                                       "examples per update, reshuffled every epoch; the last batch holds the rest")
    shuffle_seed: int = option(0, integer(0, MAX_SEED), "seed of the minibatches' order (a seed: pooled over)")
    weight_decay: float = option(0.0, positive(allow_zero=True), "L2: adds weight_decay * W to the weights' gradient "
                                 "(not the biases'; the recorded cost leaves the penalty out)")


@dataclass
class PlotsConfig:
    # the run's own figures; null: yes for a single run, no in a sweep (scripts/plots.py draws them later)
    figures: Optional[bool] = None
    animation: Optional[bool] = None  # decision_boundary.gif; null: yes for a single run, no in a sweep


@dataclass
class Config:
    init: Any = None  # chosen from the `init` group: conf/init/<name>.yaml
    data: Any = None  # chosen from the `data` group: conf/data/<name>.yaml
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = option(3, integer(0, MAX_SEED), "seed of the weights' numpy RandomState")
    resume: bool = False  # rerun a sweep into its folder: skip the jobs already completed or diverged there
    name: Optional[str] = None  # a free label for the run: recorded, in the folder name and the figure titles
    # free labels, recorded in metrics.json: [baseline,lr_sweep], or one: baseline
    tags: Any = field(default_factory=list)
    tracker: Any = None  # chosen from the `tracker` group: conf/tracker/<name>.yaml (not part of what is run)
    plots: PlotsConfig = field(default_factory=PlotsConfig)  # what a run draws (not part of what is run)


MODEL_KEYS, TRAIN_KEYS = keys_of(ModelConfig), keys_of(TrainConfig)
(SEED,) = keys_of(Config)


# ---- --help ------------------------------------------------------------------------------
def _group_help(group: str, registry: dict) -> list[str]:
    """One line per option (what it is, its keys), then one per distinct key (its help and rule)."""
    lines = [f"{group}=NAME, one of (with its keys, set as {group}.KEY=VALUE):"]
    lines += [f"  {name:<19} {entry.summary.replace('``', '')}  [{', '.join(k.name for k in entry.keys)}]"
              for name, entry in registry.items()]
    having: dict[str, list[str]] = {}  # "name: help; accepted" -> the options that have that key
    for name, entry in registry.items():
        for key in entry.keys:
            having.setdefault(key.describe(), []).append(name)
    for line, names in having.items():
        key, rest = line.split(": ", 1)
        where = "" if len(names) == len(registry) else f" ({', '.join(names)})"
        lines.append(f"  {group}.{key}{where}: {rest}")
    return lines


def options_help() -> str:
    """The options and keys of the config, as ``python run.py --help`` lists them: every init scheme
    and data set with its keys (from their registries), then ``model``, ``train`` and ``seed`` (from
    the schema's fields); each key with its help and its rule."""
    lines = _group_help("init", SCHEMES) + _group_help("data", DATASETS)
    lines.append("model, train and seed:")
    lines += [f"  model.{k.describe()}" for k in MODEL_KEYS] + [f"  train.{k.describe()}" for k in TRAIN_KEYS]
    lines.append(f"  {SEED.describe()}")
    return "\n".join(lines)


# ---- validation ------------------------------------------------------------------------
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


def _fits_in_memory(cfg: dict) -> None:
    """Refuse a run that needs more memory than this process may use (:mod:`nninit.record.memory`),
    naming the key to change: ``model.hidden_dims`` when the network does not fit even with the
    smallest data (2 training and 2 test examples; a fixed data set's own sizes), else ``data.n_train``
    (or ``data.n_test``) with the number of examples that fit."""
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
    sizes = describe(cfg["data"])
    smallest = need(n_train=2, n_test=2)[0] if sizes.generated else total  # a fixed data set's sizes are its own
    if smallest > limit:
        data = ("the smallest data (2 training and 2 test examples" if sizes.generated
                else f"data={cfg['data']['name']} ({sizes.n_train} training and {sizes.n_test} test examples")
        raise ConfigError("model.hidden_dims", cfg["model"]["hidden_dims"],
                          f"its parameters ({parameters / gib:.1f} GiB) and {data}, {per_example:,} bytes per "
                          f"training example) need about {smallest / gib:.1f} GiB, {allows}; use fewer or narrower "
                          f"layers")
    key = "n_train" if need(n_train=2)[0] <= limit else "n_test"
    without = need(**{key: 0})[0]  # the estimate is linear in the number of examples
    per = (total - without) // cfg["data"][key]
    raise ConfigError(f"data.{key}", cfg["data"][key],
                      f"with model.hidden_dims={cfg['model']['hidden_dims']} a run needs about {total / gib:.1f} GiB "
                      f"({per:,} bytes per {'training' if key == 'n_train' else 'test'} example), {allows}; "
                      f"at most about {(limit - without) // per:,} examples fit")


def _chosen(cfg: dict, group: str, registry: dict) -> None:
    """Check the ``init`` or ``data`` node: a known option (``name``), its keys only, their rules,
    then the option's rules across keys."""
    node = cfg.get(group)
    if not node:
        raise ConfigError(group, node, f"choose one of {', '.join(registry)}")
    choice(tuple(registry))(f"{group}.name", node.get("name"))
    entry = registry[node["name"]]
    check_node(group, node, entry.keys, f"{group}={node['name']}", extra=("name",))
    for check in entry.checks:
        check(node)


def validate(cfg: dict) -> None:
    """Check every value of a composed configuration before any work starts.

    The rules are the declarations: each key of the chosen init scheme and data set in its registry
    entry (:data:`nninit.numerics.initializers.SCHEMES`, :data:`nninit.data.DATASETS`), those of
    ``model``, ``train`` and ``seed`` in the schema's fields; then the run must fit in memory.

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
    known_keys("", cfg, ("init", "data", "model", "train", "seed"),
               "the config (besides resume, name, tags, plots and tracker, which say how to run and label it)")
    _chosen(cfg, "init", SCHEMES)
    check_node("model", cfg["model"], MODEL_KEYS)
    _chosen(cfg, "data", DATASETS)
    check_node("train", cfg["train"], TRAIN_KEYS)
    SEED.rule(SEED.name, cfg["seed"])
    _fits_in_memory(cfg)
