"""Each option declared once: the rules of nninit.options, the registries of init schemes and data sets,
and what derives from them (validate, --help, the README's tables, the memory estimate)."""

import math
import re

import numpy as np
import pytest
from conftest import REPO, compose

from nninit.app import config
from nninit.app.config import ConfigError, options_help, validate
from nninit.data import DATASETS, DatasetEntry, describe, make_dataset
from nninit.numerics import initializers
from nninit.numerics.init_keys import BIAS, Scheme
from nninit.numerics.outputs import class_of_labels
from nninit.options import ConfigError as BottomConfigError
from nninit.options import (
    Key,
    boolean,
    check_node,
    choice,
    in_half_open_interval,
    in_open_interval,
    integer,
    list_of,
    positive,
)


def test_config_error_is_the_bottom_layers():
    assert ConfigError is BottomConfigError


@pytest.mark.parametrize("rule, good, bad, message", [
    (integer(2), [2, 10**20], [1, 2.0, True, "3"], "must be an integer >= 2"),
    (integer(0, 9), [0, 9], [-1, 10], "must be an integer from 0 to 9"),
    (positive(), [1e-300, 5], [0, -1.0, math.inf, math.nan, False], "must be a finite number > 0"),
    (positive(allow_zero=True), [0, 0.5], [-0.1, math.nan], "must be a finite number >= 0"),
    (in_open_interval(0, 1), [0.5], [0, 1, math.nan], "must be a number in (0, 1)"),
    (in_half_open_interval(0, 1), [0, 0.99], [1, -0.01], "must be a number in [0, 1)"),
    (choice(("a", "b"), "with x=y"), ["a", "b"], ["A", None], "must be one of a, b with x=y"),
    (boolean(), [True, False], [0, 1, "true"], "must be true or false"),
    (list_of(integer(1), "a list of integers >= 1"), [[], [1, 2], (3,)], [[0], 5, [1.5]],
     "must be a list of integers >= 1"),
])
def test_rules_accept_and_refuse_naming_key_value_and_rule(rule, good, bad, message):
    for value in good:
        rule("node.key", value)
    for value in bad:
        with pytest.raises(ConfigError) as info:
            rule("node.key", value)
        assert str(info.value) == f"node.key={value!r} is not accepted: {message}"
        assert (info.value.key, info.value.accepted) == ("node.key", message)


def test_check_node_refuses_unknown_keys_then_checks_each_rule():
    keys = (Key("tol", in_open_interval(0, 1), "a tolerance"),)
    check_node("init", {"name": "x", "tol": 0.5}, keys, extra=("name",))
    with pytest.raises(ConfigError, match=r"^init.tolerance=0.5 is not accepted: init=x has no such key; its keys: "
                                          r"name, tol$"):
        check_node("init", {"name": "x", "tolerance": 0.5}, keys, "init=x", extra=("name",))
    with pytest.raises(ConfigError, match=r"^init.tol=2 is not accepted: must be a number in \(0, 1\)$"):
        check_node("init", {"tol": 2}, keys)


# ---- the extension promise: a new option is its function, its entry and its YAML --------------
def _sparse(fan_in, fan_out, rng, sparsity=0.5):
    """A test scheme: standard normal weights, a fraction ``sparsity`` of them zero."""
    W = rng.standard_normal((fan_out, fan_in))
    return W * (rng.uniform(size=W.shape) >= sparsity)


@pytest.fixture
def sparse(monkeypatch):
    """A scheme registered the way a new one is: one entry, no app code touched."""
    monkeypatch.setitem(initializers.SCHEMES, "sparse",
                        Scheme(_sparse, (Key("sparsity", in_half_open_interval(0, 1), "fraction of zeros"), BIAS)))
    return {"name": "sparse", "sparsity": 0.9, "bias": None}


def _cfg(**nodes):
    return {**compose(), **nodes}


def test_a_registered_scheme_is_validated_drawn_and_listed(sparse):
    validate(_cfg(init=sparse))
    with pytest.raises(ConfigError, match=r"^init.sparsity=1.5 is not accepted: must be a number in \[0, 1\)"):
        validate(_cfg(init={**sparse, "sparsity": 1.5}))
    with pytest.raises(ConfigError, match=r"^init.gain=2 is not accepted: init=sparse has no such key; its keys: "
                                          r"name, sparsity, bias$"):
        validate(_cfg(init={**sparse, "gain": 2}))
    params, _ = initializers.initial_parameters(_cfg(init=sparse), [20, 30, 1], None)
    expected = _sparse(20, 30, np.random.RandomState(3), sparsity=0.9)
    assert np.array_equal(params["W1"], expected) and not params["b1"].any()
    assert re.search(r"^  sparse +A test scheme.*\[sparsity, bias\]$", options_help(), re.M)
    assert "init.sparsity (sparse): fraction of zeros; a number in [0, 1)" in options_help()


def _fixed_split(*, n_features=3):
    """A test data set with its own fixed split: 8 training and 4 test examples."""
    X = np.arange(12.0 * n_features).reshape(12, n_features)
    y = np.arange(12) % 2
    return X[:8], y[:8], X[8:], y[8:]


@pytest.fixture
def fixed(monkeypatch):
    monkeypatch.setitem(DATASETS, "fixed", DatasetEntry(
        _fixed_split, (Key("n_features", integer(1), "input dimension"),
                       Key("standardize", boolean(), "zero mean, unit variance")),
        "a fixed split", n_features="n_features", generated=False, sizes=lambda cfg: (8, 4)))
    return {"name": "fixed", "n_features": 5, "standardize": False}


def test_a_registered_fixed_data_set_is_validated_made_and_described(fixed):
    with pytest.raises(ConfigError, match=r"^data.n_train=300 is not accepted: data=fixed has no such key"):
        validate(_cfg(data={**fixed, "n_train": 300}))
    with pytest.raises(ConfigError, match=r"^data.n_features=0 is not accepted: must be an integer >= 1"):
        validate(_cfg(data={**fixed, "n_features": 0}))
    validate(_cfg(data=fixed))  # the memory check included
    assert describe(fixed) == describe({"name": "fixed", "n_features": 5})
    assert (describe(fixed).n_features, describe(fixed).generated) == (5, False)
    assert describe({"name": "fixed"}).n_features == 3  # the maker's default
    data = make_dataset(fixed)
    assert data.X_train.shape == (5, 8) and data.Y_test.shape == (1, 4) and data.X_test.flags.c_contiguous


def _split_of_its_own(*, n_test=4, split_seed=0):
    """A fixed data set whose keys share a generated set's split names (n_test) and end in _seed."""
    X = np.random.RandomState(split_seed).standard_normal((12, 2))
    y = np.arange(12) % 2
    return X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]


@pytest.fixture
def own_split(monkeypatch):
    monkeypatch.setitem(DATASETS, "own_split", DatasetEntry(
        _split_of_its_own, (Key("n_test", integer(2, 10), "test examples"), Key("split_seed", integer(0), "its seed")),
        "a fixed set with its own split keys", n_features=2, generated=False,
        sizes=lambda cfg: (12 - cfg.get("n_test", 4), cfg.get("n_test", 4))))
    return {"name": "own_split", "n_test": 3, "split_seed": 7}


def test_a_fixed_data_set_runs_end_to_end_with_all_of_its_own_keys(own_split, tmp_path):
    """The app and the loader assume nothing of a data set's keys: a fixed set's `n_test` reaches its maker
    (the loader took it for a generated set's split, silently), its `split_seed` is recorded as a data seed
    (the run crashed on `train_seed`, which it has not), and the run completes."""
    from nninit.app.experiment import run

    assert make_dataset(own_split).X_test.shape == (2, 3)
    cfg = _cfg(data=own_split)
    cfg["train"] = {**cfg["train"], "num_iterations": 10, "print_every": 5}
    metrics = run(cfg, tmp_path / "run", figures=False)
    assert metrics["status"] == "completed" and metrics["layers_dims"][0] == 2
    assert metrics["data_seeds"] == {"split": 7}


def test_a_network_too_big_for_a_fixed_data_set_names_its_sizes_not_the_smallest_data(own_split, monkeypatch):
    """A fixed data set cannot shrink to 2 + 2 examples: the memory refusal names its own sizes."""
    monkeypatch.setenv("SLURM_MEM_PER_NODE", "2048")
    with pytest.raises(ConfigError, match=r"^model.hidden_dims=\[30000, 30000\] is not accepted: its parameters .* "
                                          r"and data=own_split \(9 training and 3 test examples, "):
        validate(_cfg(data=own_split, model={**compose()["model"], "hidden_dims": [30000, 30000]}))


def test_every_data_key_named_like_a_seed_is_pooled_not_grouped_by():
    """A fixed data set's split_seed is a seed as train_seed is: runs that differ only in it form one group."""
    from nninit.record.runs import default_group_keys, is_seed_key

    assert [is_seed_key(k) for k in ("seed", "data.train_seed", "data.split_seed", "init.seed", "data.noise")] == \
        [True, True, True, False, False]

    class FakeRun:
        def __init__(self, config):
            self.config = config

        def get(self, key):
            return self.config.get(key)

    runs = [FakeRun({"init.name": i, "data.split_seed": s, "seed": 3}) for i in ("he", "xavier") for s in (0, 1)]
    assert default_group_keys(runs) == ["init.name"]


def test_the_memory_estimate_asks_the_data_set_for_its_features(fixed):
    from nninit.record.memory import estimated_bytes

    def per_example(data):
        return estimated_bytes({"data": {"n_train": 300, "n_test": 100, **data}, "model": {"hidden_dims": [10]}})[1]

    assert per_example({"name": "circles"}) == per_example({"name": "moons"}) < \
        per_example({"name": "gaussian_quantiles", "n_features": 30})
    assert per_example({**fixed, "n_features": 30}) == per_example({"name": "gaussian_quantiles", "n_features": 30})
    sizes = {"n_train": 3, "n_test": 2}
    assert [describe({"name": n, **sizes}).n_features for n in ("circles", "moons", "gaussian_quantiles")] == [2, 2, 2]


def test_descriptions_match_the_arrays():
    """Every data set's description (features, split sizes, classes) is what it makes; a generated set's
    sizes follow n_train and n_test, a fixed set's are its own."""
    for name in DATASETS:
        cfg = compose([f"data={name}"])["data"]
        if DATASETS[name].generated:
            cfg = {**cfg, "n_train": 20, "n_test": 10}
        data, described = make_dataset(cfg), describe(cfg)
        assert data.X_train.shape[0] == described.n_features
        assert (data.X_train.shape[1], data.X_test.shape[1]) == (described.n_train, described.n_test)
        assert not described.generated or (described.n_train, described.n_test) == (20, 10)
        assert len(np.unique(class_of_labels(data.Y_train))) == described.n_classes
        assert data.Y_train.shape[0] == described.n_outputs  # one-hot beyond two classes
    # a generated set's split keys left out: the loader's defaults, described as they are made
    bare = {"name": "circles"}
    assert (describe(bare).n_train, describe(bare).n_test) == make_dataset(bare).X_train.shape[1:] + \
        make_dataset(bare).X_test.shape[1:] == (300, 100)


# ---- what derives from the registries: --help and the README ------------------------------------
def test_help_lists_the_registries():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from nninit.app import hydra as hydra_app

    hydra_app.setup()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        footer = hydra_compose(config_name="config", return_hydra_config=True).hydra.help.footer
    assert options_help() in footer
    for group, registry in (("init", initializers.SCHEMES), ("data", DATASETS)):
        for name, entry in registry.items():
            assert re.search(rf"^  {name} .*\[{', '.join(k.name for k in entry.keys)}\]$", footer, re.M), name
            for key in entry.keys:
                assert f"  {group}.{key.name}" in footer
    for key in (*config.MODEL_KEYS, *config.TRAIN_KEYS):
        assert key.describe() in footer


def _readme_keys_table():
    section = (REPO / "README.md").read_text().split("\n### Configuration keys\n", 1)[1].split("\n### ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return {key: row[2] for row in rows for key in re.findall(r"`([\w.]+)`", row[0])}


@pytest.mark.parametrize("group, registry", [("init", initializers.SCHEMES), ("data", DATASETS)])
def test_readme_tables_list_every_option_and_key_and_nothing_else(group, registry):
    table = _readme_keys_table()
    assert re.findall(r"`(\w+)`", table[group]) == list(registry)
    keys = {key.split(".", 1)[1] for key in table if key.startswith(f"{group}.")}
    assert keys == {k.name for entry in registry.values() for k in entry.keys}
