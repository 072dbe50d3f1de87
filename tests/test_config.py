"""The config tree composes as documented, and every bad value is refused with a clear message."""

import math

import pytest
from conftest import compose
from hydra.errors import ConfigCompositionException

from nninit.app.config import INIT_NAMES, ConfigError, validate


def test_defaults_are_the_notebooks_experiment():
    cfg = compose()
    assert cfg["init"] == {"name": "he", "bias": None, "gain": None, "distribution": "normal"}
    assert cfg["model"] == {"hidden_dims": [10, 5], "activation": "relu", "negative_slope": 0.01}
    assert {k: cfg["data"][k] for k in ("name", "n_train", "n_test", "noise", "train_seed", "test_seed")} == {
        "name": "circles", "n_train": 300, "n_test": 100, "noise": 0.05, "train_seed": 1, "test_seed": 2}
    assert cfg["train"]["learning_rate"] == 0.01
    assert cfg["train"]["num_iterations"] == 15000
    assert cfg["train"]["print_every"] == 1000
    assert cfg["seed"] == 3
    validate(cfg)


@pytest.mark.parametrize("init", INIT_NAMES)
def test_every_init_option_composes_and_validates(init):
    cfg = compose([f"init={init}"])
    assert cfg["init"]["name"] == init
    validate(cfg)


def test_group_files_are_the_supported_options():
    from conftest import REPO

    from nninit.app.config import DATA_NAMES

    assert sorted(p.stem for p in (REPO / "conf" / "init").glob("*.yaml")) == sorted(INIT_NAMES)
    assert sorted(p.stem for p in (REPO / "conf" / "data").glob("*.yaml")) == sorted(DATA_NAMES)
    for name in DATA_NAMES:
        validate(compose([f"data={name}"]))


def test_random_scale_and_overrides_are_typed():
    cfg = compose(["init=random", "init.scale=0.5", "model.hidden_dims=[4,4,4]", "seed=7"])
    assert cfg["init"]["scale"] == 0.5
    assert cfg["model"]["hidden_dims"] == [4, 4, 4]
    assert cfg["seed"] == 7


@pytest.mark.parametrize("overrides", [
    ["init=foo"], ["init=He"],                     # unknown option: Hydra lists the options
    ["train.num_iterations=abc"],                  # wrong type
    ["model.hidden_dims=[2.5]"],
    ["seed=2**32"],
    ["init=he", "init.scale=3"],                   # a key the chosen init does not have
    ["train.lr=0.1"],                              # unknown key
])
def test_composition_refuses(overrides):
    with pytest.raises(ConfigCompositionException):
        compose(overrides)


@pytest.mark.parametrize("overrides, key", [
    (["model.hidden_dims=[0]"], "model.hidden_dims"),
    (["model.hidden_dims=[-3]"], "model.hidden_dims"),
    (["train.learning_rate=-1"], "train.learning_rate"),
    (["train.learning_rate=0"], "train.learning_rate"),
    (["train.learning_rate=nan"], "train.learning_rate"),
    (["train.learning_rate=inf"], "train.learning_rate"),
    (["train.num_iterations=-5"], "train.num_iterations"),
    (["train.num_iterations=9007199254740993"], "train.num_iterations"),  # 2**53 + 1: past what the loop indexes
    (["train.num_iterations=99999999999999999999999"], "train.num_iterations"),  # past int64: was a traceback
    (["train.print_every=9007199254740993"], "train.print_every"),
    (["train.print_every=0"], "train.print_every"),
    (["data.n_train=1"], "data.n_train"),
    (["data.noise=-0.1"], "data.noise"),
    (["seed=-1"], "seed"),
    (["seed=4294967296"], "seed"),
    (["init=random", "init.scale=0"], "init.scale"),
    (["init=random", "init.scale=abc"], "init.scale"),
    (["data.n_test=many"], "data.n_test"),
    (["data.standardize=maybe"], "data.standardize"),
    (["model.activation=swish"], "model.activation"),
    (["init=variance_scaling", "init.mode=fan_sideways"], "init.mode"),
    (["init=variance_scaling", "init.distribution=cauchy"], "init.distribution"),
    (["init=variance_scaling", "init.distribution=Normal"], "init.distribution"),
    (["init=he", "init.distribution=uniform"], "init.distribution"),
    (["init=xavier", "init.distribution=he_normal"], "init.distribution"),
    (["init=lecun", "init.distribution=uniform"], "init.distribution"),
    (["init=xavier", "init.gain=-1"], "init.gain"),
    (["init=xavier", "init.gain=big"], "init.gain"),
    (["init=lsuv", "init.tol=0"], "init.tol"),
    (["model.negative_slope=1.5"], "model.negative_slope"),
])
def test_validation_names_key_value_and_rule(overrides, key):
    cfg = compose(overrides)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    message = str(info.value)
    assert message.startswith(f"{key}=")
    shown, rule = message[len(key) + 1:].split(" is not accepted: ")
    given = overrides[-1].split("=", 1)[1]
    try:  # a number is shown as the value it parsed to: -1 as -1.0, [0] as [0], nan as nan, inf as inf
        a, b = float(shown.strip("[]")), float(given.strip("[]"))
    except ValueError:  # a word is shown quoted
        assert shown == repr(given)
    else:
        assert a == b or (math.isnan(a) and math.isnan(b)), (shown, given)
    assert rule.startswith("must ")


@pytest.mark.parametrize("overrides, key", [
    (["+init.scale=5"], "init.scale"),          # '+' adds a key Hydra would refuse; nninit refuses it too
    (["init=zeros", "+init.gain=auto"], "init.gain"),
    (["+data.foo=1"], "data.foo"),
    (["+model.hidden_dim=[20,20]"], "model.hidden_dim"),
    (["+initt=he"], "initt"),
    (["++train.foo=1"], "train.foo"),
])
def test_added_keys_are_refused(overrides, key):
    with pytest.raises(ConfigError, match=f"^{key}=.*has no such key; its keys: "):
        validate(compose(overrides))


def test_init_and_data_keys_match_their_files():
    # every file of conf/init and conf/data has exactly its registry entry's keys, and each entry has its file
    from conftest import REPO
    from omegaconf import OmegaConf

    from nninit.data import DATASETS
    from nninit.numerics.initializers import SCHEMES

    for group, registry in (("init", SCHEMES), ("data", DATASETS)):
        files = sorted((REPO / "conf" / group).glob("*.yaml"))
        assert [p.stem for p in files] == sorted(registry), group
        for path in files:
            node = OmegaConf.to_container(OmegaConf.load(path))
            assert node["name"] == path.stem, path
            assert sorted(node) == sorted(["name", *(k.name for k in registry[path.stem].keys)]), path


@pytest.mark.parametrize("overrides", [
    ["init=he", "init.distribution=truncated_normal"],      # JAX he_normal, Keras HeNormal
    ["init=he", "init.distribution=untruncated_normal"],
    ["init=xavier", "init.distribution=truncated_normal"],  # JAX glorot_normal, Keras GlorotNormal
    ["init=lecun", "init.distribution=normal"],
    ["init=variance_scaling", "init.distribution=untruncated_normal"],  # Keras' name for the untruncated normal
    ["init=variance_scaling", "init.distribution=normal", "init.mode=fan_avg"],
    ["init=he", "init.gain=auto", "model.activation=leaky_relu"],
])
def test_distributions_by_their_library_names_validate(overrides):
    validate(compose(overrides))


def test_uniform_with_a_normal_scheme_points_to_its_uniform_form():
    with pytest.raises(ConfigError, match=r"^init.distribution='uniform' .*normal, untruncated_normal, "
                                          r"truncated_normal with init=xavier "
                                          r"\(the uniform form is init=xavier_uniform\)"):
        validate(compose(["init=xavier", "init.distribution=uniform"]))


def test_zero_iterations_is_valid():
    validate(compose(["train.num_iterations=0"]))


def _labels(overrides):
    from conftest import REPO
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from nninit.app.hydra.job import labels

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return labels(hydra_compose(config_name="config", overrides=overrides))


@pytest.mark.parametrize("override, tags", [
    ("tags=baseline", ["baseline"]),  # without brackets: Hydra's raw 'str is not a ListConfig' before
    ("tags=[baseline,lr_sweep]", ["baseline", "lr_sweep"]), ("tags=[]", []), ("tags=null", []), ("tags=7", ["7"]),
    ("tags=", []),  # nothing after the =: no tag (it recorded [''])
])
def test_tags_are_a_list_of_labels_or_one_label(override, tags):
    assert _labels([override])["tags"] == tags


@pytest.mark.parametrize("override", ["tags=[[a]]", "tags=true", "tags=[a,null]"])
def test_tags_that_are_not_labels_are_refused_naming_the_key(override):
    with pytest.raises(ConfigError, match=r"^tags=.* is not accepted: a label or a list of labels, "
                                          r"e.g. tags=baseline or tags=\[baseline,lr_sweep\]$"):
        _labels([override])
