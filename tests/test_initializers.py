"""Each initializer against its published formula, by statistics on large matrices, and against
the distribution of the library call that the README's table says it equals."""

import math
import re

import numpy as np
import pytest
from conftest import REPO
from scipy import stats

from nninit.app.config import INIT_NAMES
from nninit.numerics import initializers as ini
from nninit.numerics.activations import Activation, calculate_gain, calculate_gain_squared
from nninit.numerics.initializers import initial_parameters
from nninit.numerics.lsuv import lsuv
from nninit.numerics.network import Cache, forward

FAN_IN, FAN_OUT = 1000, 600  # unequal, so that the modes differ


def draw(fn, **kwargs):
    return fn(FAN_IN, FAN_OUT, np.random.RandomState(0), **kwargs)


@pytest.mark.parametrize("fn, kwargs, expected_std", [
    (ini.random, {"scale": 10.0}, 10.0),
    (ini.he, {}, math.sqrt(2 / FAN_IN)),
    (ini.he, {"gain": 5 / 3}, (5 / 3) / math.sqrt(FAN_IN)),
    (ini.he_uniform, {}, math.sqrt(2 / FAN_IN)),
    (ini.xavier, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (ini.xavier, {"gain": 2.0}, 2.0 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (ini.xavier_uniform, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (ini.lecun, {}, math.sqrt(1 / FAN_IN)),
    (ini.lecun_uniform, {}, math.sqrt(1 / FAN_IN)),
    (ini.pytorch_default, {}, 1 / math.sqrt(3 * FAN_IN)),  # U(-b, b) has std b / sqrt(3)
    (ini.orthogonal, {"gain": 3.0}, 3.0 / math.sqrt(FAN_IN)),  # orthonormal rows of length 1
])
def test_sample_std_matches_the_formula(fn, kwargs, expected_std):
    W = draw(fn, **kwargs)
    assert W.shape == (FAN_OUT, FAN_IN) and W.dtype == np.float64
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.01 * expected_std * 10


@pytest.mark.parametrize("mode, n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
@pytest.mark.parametrize("distribution", ini.DISTRIBUTIONS)
def test_variance_scaling(mode, n, distribution):
    scale = 2.5
    W = draw(ini.variance_scaling, scale=scale, mode=mode, distribution=distribution)
    std = math.sqrt(scale / n)
    assert W.std() == pytest.approx(std, rel=0.02)
    if distribution == "uniform":
        limit = math.sqrt(3 * scale / n)
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.999 * limit
    if distribution == "truncated_normal":
        sigma = std / ini.TRUNCATED_NORMAL_STD  # the pre-correction sigma
        assert np.abs(W).max() <= 2 * sigma
        assert np.abs(W).max() > 0.99 * 2 * sigma


def test_truncated_normal_constant():
    # std of N(0,1) truncated to [-2, 2]: sqrt(1 - 2*2*phi(2) / (2*Phi(2) - 1))
    phi = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert pytest.approx(math.sqrt(1 - 4 * phi / mass), rel=1e-12) == ini.TRUNCATED_NORMAL_STD


@pytest.mark.parametrize("name, preset", [
    ("he", dict(scale=2.0, mode="fan_in", distribution="normal")),
    ("he_uniform", dict(scale=2.0, mode="fan_in", distribution="uniform")),
    ("xavier", dict(scale=1.0, mode="fan_avg", distribution="normal")),
    ("xavier_uniform", dict(scale=1.0, mode="fan_avg", distribution="uniform")),
    ("lecun", dict(scale=1.0, mode="fan_in", distribution="truncated_normal")),
    ("lecun_uniform", dict(scale=1.0, mode="fan_in", distribution="uniform")),
])
def test_named_schemes_are_variance_scaling_presets(name, preset):
    named = ini.WEIGHT_INITIALIZERS[name](300, 200, np.random.RandomState(5))
    general = ini.variance_scaling(300, 200, np.random.RandomState(5), **preset)
    assert np.array_equal(named, general)


@pytest.mark.parametrize("shape", [(100, 100), (50, 200), (200, 50), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal(shape, gain):
    fan_out, fan_in = shape
    W = ini.orthogonal(fan_in, fan_out, np.random.RandomState(1), gain=gain)
    assert W.shape == shape
    if fan_out <= fan_in:  # square or wide: orthonormal rows
        np.testing.assert_allclose(W @ W.T, gain**2 * np.eye(fan_out), atol=1e-10)
    else:  # tall: orthonormal columns
        np.testing.assert_allclose(W.T @ W, gain**2 * np.eye(fan_in), atol=1e-10)


def _sphere_coordinate(n, gain=1.0):
    """One coordinate of a uniform point on the sphere of radius ``gain`` in R^n:
    (x / gain + 1) / 2 ~ Beta((n - 1) / 2, (n - 1) / 2)."""
    return stats.beta((n - 1) / 2, (n - 1) / 2, loc=-gain, scale=2 * gain)


@pytest.mark.parametrize("fan_in, fan_out", [(FAN_IN, FAN_OUT), (FAN_OUT, FAN_IN)])
def test_orthogonal_entries_are_those_of_a_haar_matrix(fan_in, fan_out):
    # Haar (PyTorch orthogonal_, JAX orthogonal, Keras Orthogonal): every row (wide) or column
    # (tall) is a uniform unit vector, so every entry is a coordinate of one, times gain
    W = ini.orthogonal(fan_in, fan_out, np.random.RandomState(0), gain=1.5)
    n = max(fan_in, fan_out)  # rows of length fan_in when wide, columns of length fan_out when tall
    assert stats.kstest(W.ravel(), _sphere_coordinate(n, 1.5).cdf).pvalue > 1e-3


def test_orthogonal_is_haar_distributed():
    # without the sign correction, Q's diagonal is biased (numpy's QR fixes the signs of R)
    diag = np.concatenate([np.diag(ini.orthogonal(20, 20, np.random.RandomState(s))) for s in range(300)])
    assert stats.kstest(diag, _sphere_coordinate(20).cdf).pvalue > 1e-3


def test_pytorch_default_draws_biases_in_the_same_interval():
    params = ini.initialize_parameters([400, 300, 1], "pytorch_default", np.random.RandomState(0))
    bound = 1 / math.sqrt(400)
    assert np.abs(params["b1"]).max() <= bound and params["b1"].std() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    assert np.abs(params["W1"]).max() <= bound


def test_bias_constant_and_default_zeros():
    assert not ini.initialize_parameters([3, 4, 1], "he", np.random.RandomState(0))["b1"].any()
    params = ini.initialize_parameters([3, 4, 1], "xavier", np.random.RandomState(0), bias=0.1)
    assert np.all(params["b1"] == 0.1) and np.all(params["b2"] == 0.1)


@pytest.mark.parametrize("activation, gain", [("linear", 1.0), ("sigmoid", 1.0), ("tanh", 5 / 3),
                                              ("relu", math.sqrt(2)), ("leaky_relu", math.sqrt(2 / (1 + 0.01**2)))])
def test_calculate_gain_is_pytorchs_table(activation, gain):
    assert calculate_gain(activation) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("activation, slope, square", [
    ("linear", 0.01, 1.0), ("sigmoid", 0.01, 1.0), ("tanh", 0.01, 25 / 9), ("relu", 0.01, 2.0),
    ("leaky_relu", 0.01, 2 / (1 + 0.01**2)), ("leaky_relu", 0.2, 2 / (1 + 0.2**2)), ("leaky_relu", 0.0, 2.0),
])
def test_calculate_gain_squared_is_exact(activation, slope, square):
    assert calculate_gain_squared(activation, slope) == square  # exactly: relu is 2, not 2.0000000000000004
    assert calculate_gain_squared(activation, slope) == pytest.approx(calculate_gain(activation, slope) ** 2,
                                                                      rel=1e-15)


@pytest.mark.parametrize("fn", [calculate_gain, calculate_gain_squared])
def test_calculate_gain_refuses_unknown_activations(fn):
    with pytest.raises(ValueError, match="swish.*accepted: linear, relu"):
        fn("swish")


def test_unknown_method_lists_the_accepted_ones():
    with pytest.raises(ValueError, match="accepted: .*he.*xavier"):
        ini.initialize_parameters([2, 1], "kaiming", np.random.RandomState(0))


def test_gain_auto_uses_the_activation(circles):
    cfg = {"init": {"name": "he", "gain": "auto", "bias": None}, "seed": 0,
           "model": {"activation": "tanh", "negative_slope": 0.01}}
    params, info = initial_parameters(cfg, [2, 400, 1], circles.X_train)
    assert info["gain"] == pytest.approx(5 / 3)
    assert params["W2"].std() == pytest.approx((5 / 3) / math.sqrt(400), rel=0.15)


def _auto(name, activation, slope=0.01):
    cfg = {"init": {"name": name, "gain": "auto", "bias": None}, "seed": 4,
           "model": {"activation": activation, "negative_slope": slope}}
    return initial_parameters(cfg, [30, 20, 10, 1], None)


@pytest.mark.parametrize("name", ini.VARIANCE_PRESETS)
@pytest.mark.parametrize("activation, slope", [("relu", 0.01), ("leaky_relu", 0.2), ("tanh", 0.01)])
def test_gain_auto_gives_the_variance_presets_the_exact_square(name, activation, slope):
    params, info = _auto(name, activation, slope)
    expected = ini.initialize_parameters([30, 20, 10, 1], name, np.random.RandomState(4),
                                         scale=calculate_gain_squared(activation, slope))
    assert all(np.array_equal(params[k], expected[k]) for k in expected)
    assert info["gain"] == calculate_gain(activation, slope)  # what is recorded is PyTorch's gain


@pytest.mark.parametrize("name", ["he", "he_uniform"])
def test_gain_auto_with_relu_draws_the_default_arrays(name):
    # the paper's gain is relu's: gain=auto and gain=null give the same arrays, bit for bit
    params, _ = _auto(name, "relu")
    default = ini.initialize_parameters([30, 20, 10, 1], name, np.random.RandomState(4))
    assert all(np.array_equal(params[k], default[k]) for k in default)


def test_gain_auto_gives_orthogonal_the_gain_itself():
    params, _ = _auto("orthogonal", "tanh")
    expected = ini.initialize_parameters([30, 20, 10, 1], "orthogonal", np.random.RandomState(4), gain=5 / 3)
    assert all(np.array_equal(params[k], expected[k]) for k in expected)


def test_he_default_gain_ignores_leaky_relu():
    # PyTorch's kaiming_normal_ default a=0: sqrt(2) whatever the activation; gain=auto gives sqrt(2 / (1 + a^2))
    cfg = {"init": {"name": "he", "gain": None, "bias": None}, "seed": 4,
           "model": {"activation": "leaky_relu", "negative_slope": 0.5}}
    null, _ = initial_parameters(cfg, [30, 20, 10, 1], None)
    auto, _ = _auto("he", "leaky_relu", 0.5)
    assert np.array_equal(null["W1"], ini.he(30, 20, np.random.RandomState(4)))
    np.testing.assert_allclose(auto["W1"], null["W1"] / math.sqrt(1 + 0.5**2), rtol=1e-14)


def test_gain_and_scale_together_are_refused():
    with pytest.raises(ValueError, match="gain.*or scale.*not both"):
        ini.he(3, 2, np.random.RandomState(0), gain=1.0, scale=1.0)


# ---- the README's "equals exactly" column, checked without the libraries ----------------------
AVG = (FAN_IN + FAN_OUT) / 2


def _norm(variance):
    return stats.norm(scale=math.sqrt(variance))


def _truncnorm(variance):
    # JAX / Keras truncated_normal: N(0, sigma^2) cut at +-2 sigma, sigma chosen so the variance is right
    sigma = math.sqrt(variance) / ini.TRUNCATED_NORMAL_STD
    return stats.truncnorm(-2, 2, scale=sigma)


def _uniform(variance):
    bound = math.sqrt(3 * variance)
    return stats.uniform(-bound, 2 * bound)


README_ROWS = [  # (init, options, the distribution of the library calls its README row names)
    ("random", {"scale": 10.0}, stats.norm(scale=10.0)),
    ("he", {}, _norm(2 / FAN_IN)),  # kaiming_normal_; JAX variance_scaling(2, fan_in, normal)
    ("he", {"distribution": "untruncated_normal"}, _norm(2 / FAN_IN)),  # Keras VarianceScaling(.., untruncated_normal)
    ("he", {"distribution": "truncated_normal"}, _truncnorm(2 / FAN_IN)),  # JAX he_normal, Keras HeNormal
    ("he", {"gain": 5 / 3}, _norm((5 / 3) ** 2 / FAN_IN)),
    # gain=auto, leaky_relu: kaiming_normal_(a=0.2)
    ("he", {"scale": 2 / (1 + 0.2**2)}, _norm(2 / (1 + 0.2**2) / FAN_IN)),
    ("he_uniform", {}, _uniform(2 / FAN_IN)),  # kaiming_uniform_, JAX he_uniform, Keras HeUniform
    ("xavier", {}, _norm(1 / AVG)),  # xavier_normal_
    ("xavier", {"gain": 2.0}, _norm(4 / AVG)),
    ("xavier", {"distribution": "truncated_normal"}, _truncnorm(1 / AVG)),  # JAX glorot_normal, Keras GlorotNormal
    ("xavier_uniform", {}, _uniform(1 / AVG)),  # xavier_uniform_, JAX glorot_uniform, Keras GlorotUniform
    ("lecun", {}, _truncnorm(1 / FAN_IN)),  # JAX lecun_normal, Keras LecunNormal
    ("lecun", {"distribution": "normal"}, _norm(1 / FAN_IN)),  # kaiming_normal_(nonlinearity='linear')
    ("lecun_uniform", {}, _uniform(1 / FAN_IN)),  # JAX lecun_uniform, Keras LecunUniform
    ("pytorch_default", {}, _uniform(1 / (3 * FAN_IN))),  # torch.nn.Linear; VarianceScaling(1/3, fan_in, uniform)
    *[("variance_scaling", {"scale": 2.5, "mode": mode, "distribution": d}, make(2.5 / n))
      for mode, n in (("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", AVG))
      for d, make in (("normal", _norm), ("untruncated_normal", _norm), ("truncated_normal", _truncnorm),
                      ("uniform", _uniform))],
]


@pytest.mark.parametrize("name, options, dist", README_ROWS,
                         ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o, _ in README_ROWS])
def test_draws_have_the_distribution_the_readme_names(name, options, dist):
    W = ini.WEIGHT_INITIALIZERS[name](FAN_IN, FAN_OUT, np.random.RandomState(0), **options)
    assert W.shape == (FAN_OUT, FAN_IN) and W.dtype == np.float64
    low, high = dist.support()
    assert low <= W.min() and W.max() <= high  # the support
    if math.isfinite(high):  # and all of it: the draws come close to the end points
        assert W.max() > high - 0.01 * (high - low) and W.min() < low + 0.01 * (high - low)
    assert W.var() == pytest.approx(dist.var(), rel=0.02)  # the variance
    assert stats.kstest(W.ravel(), dist.cdf).pvalue > 1e-3  # the whole distribution


def test_pytorch_default_biases_are_those_of_torch_nn_linear():
    b = ini.initialize_parameters([400, 5000, 1], "pytorch_default", np.random.RandomState(0))["b1"]
    assert stats.kstest(b.ravel(), _uniform(1 / (3 * 400)).cdf).pvalue > 1e-3


@pytest.mark.parametrize("name", ["he", "xavier", "lecun"])
def test_untruncated_normal_is_normal(name):
    fn = ini.WEIGHT_INITIALIZERS[name]
    assert np.array_equal(fn(300, 200, np.random.RandomState(5), distribution="untruncated_normal"),
                          fn(300, 200, np.random.RandomState(5), distribution="normal"))
    assert np.array_equal(ini.variance_scaling(300, 200, np.random.RandomState(5), distribution="untruncated_normal"),
                          ini.variance_scaling(300, 200, np.random.RandomState(5), distribution="normal"))


@pytest.mark.parametrize("name", ["he", "xavier", "lecun"])
def test_named_normals_refuse_uniform(name):
    with pytest.raises(ValueError, match=f"init.distribution='uniform'.*init={name}.*accepted: normal, "
                                         f"untruncated_normal, truncated_normal.*init={name}_uniform"):
        ini.WEIGHT_INITIALIZERS[name](3, 2, np.random.RandomState(0), distribution="uniform")


def test_every_option_has_a_checked_readme_row():
    section = (REPO / "README.md").read_text().split("\n## Initializers\n", 1)[1].split("\n## ", 1)[0]

    def cells(line):  # a table row's cells ("\|" is a pipe inside a cell)
        return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    header = cells(next(line for line in section.splitlines() if line.startswith("| `init=`")))
    column = next(i for i, title in enumerate(header) if title.startswith("equals exactly"))
    rows = {m.group(1): cells(line) for line in section.splitlines() if (m := re.match(r"\| `(\w+)` \|", line))}
    assert sorted(rows) == sorted(INIT_NAMES)
    for name in INIT_NAMES:
        assert len(rows[name]) == len(header) and rows[name][column], f"README row {name}"
    checked = {name for name, _, _ in README_ROWS} | {"zeros", "orthogonal", "lsuv"}  # tested above and below
    assert checked == set(INIT_NAMES)


def test_zeros_are_zeros():
    assert not ini.zeros(FAN_IN, FAN_OUT, np.random.RandomState(0)).any()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_gives_unit_variance_in_every_layer(circles, activation):
    layers_dims = [2] + [50] * 8 + [1]
    start = ini.initialize_parameters(layers_dims, "orthogonal", np.random.RandomState(0))
    params, passes = lsuv(start, circles.X_train, activation=Activation(activation), tol=0.1, max_iter=10)
    assert len(passes) == len(layers_dims) - 1 and max(passes) <= 10 and sum(passes) > 0
    cache = Cache(layers_dims, circles.X_train)
    forward(params, cache, Activation(activation))
    for l in range(1, len(layers_dims)):
        assert abs(cache.Z[l].var() - 1) < 0.1, f"layer {l}"


def _ratio_geomean(method, activation, seeds=range(1, 6), depth=50, width=100):
    """Geometric mean of E[z_l^2] / E[z_(l-1)^2] over layers 2..depth and the seeds."""
    X = np.random.RandomState(0).standard_normal((2, 300))
    logs = []
    for seed in seeds:
        dims = [2] + [width] * depth + [1]
        params = ini.initialize_parameters(dims, method, np.random.RandomState(seed))
        cache = Cache(dims, X)
        forward(params, cache, Activation(activation))
        logs.append(np.diff(np.log([np.mean(cache.Z[l] ** 2) for l in range(1, depth + 1)])))
    return float(np.exp(np.mean(logs)))


def test_he_keeps_the_second_moment_of_deep_relu_networks():
    # He et al. 2015, eq. 10: Var[W] = 2 / fan_in gives E[z_l^2] = E[z_(l-1)^2]
    assert _ratio_geomean("he", "relu") == pytest.approx(1.0, rel=0.05)


def test_xavier_halves_the_second_moment_of_deep_relu_networks():
    # square layers: Var[W] = 1 / fan_in, and ReLU keeps half of E[z^2]
    assert _ratio_geomean("xavier", "relu") == pytest.approx(0.5, rel=0.05)
