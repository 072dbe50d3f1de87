"""Each initializer against its published formula, by statistics on large matrices."""

import math

import numpy as np
import pytest

from nninit import initializers as ini
from nninit.activations import calculate_gain
from nninit.experiment import initial_parameters
from nninit.lsuv import lsuv
from nninit.network import Cache, forward

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
    assert ini.TRUNCATED_NORMAL_STD == pytest.approx(math.sqrt(1 - 4 * phi / mass), rel=1e-12)


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


def test_orthogonal_is_haar_distributed():
    # with the sign correction the diagonal of an orthogonal draw has mean ~0; without it, it is biased
    diag = np.concatenate([np.diag(ini.orthogonal(20, 20, np.random.RandomState(s))) for s in range(200)])
    assert abs(diag.mean()) < 0.02


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


def test_calculate_gain_refuses_unknown_activations():
    with pytest.raises(ValueError, match="swish.*accepted: linear, relu"):
        calculate_gain("swish")


def test_unknown_method_lists_the_accepted_ones():
    with pytest.raises(ValueError, match="accepted: .*he.*xavier"):
        ini.initialize_parameters([2, 1], "kaiming", np.random.RandomState(0))


def test_gain_auto_uses_the_activation(circles):
    cfg = {"init": {"name": "he", "gain": "auto", "bias": None}, "seed": 0,
           "model": {"activation": "tanh", "negative_slope": 0.01}}
    params, info = initial_parameters(cfg, [2, 400, 1], circles.X_train)
    assert info["gain"] == pytest.approx(5 / 3)
    assert params["W2"].std() == pytest.approx((5 / 3) / math.sqrt(400), rel=0.15)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_gives_unit_variance_in_every_layer(circles, activation):
    layers_dims = [2] + [50] * 8 + [1]
    start = ini.initialize_parameters(layers_dims, "orthogonal", np.random.RandomState(0))
    params, passes = lsuv(start, circles.X_train, activation=activation, tol=0.1, max_iter=10)
    assert len(passes) == len(layers_dims) - 1 and max(passes) <= 10 and sum(passes) > 0
    cache = Cache(layers_dims, circles.X_train)
    forward(params, cache, activation)
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
        forward(params, cache, activation)
        logs.append(np.diff(np.log([np.mean(cache.Z[l] ** 2) for l in range(1, depth + 1)])))
    return float(np.exp(np.mean(logs)))


def test_he_keeps_the_second_moment_of_deep_relu_networks():
    # He et al. 2015, eq. 10: Var[W] = 2 / fan_in gives E[z_l^2] = E[z_(l-1)^2]
    assert _ratio_geomean("he", "relu") == pytest.approx(1.0, rel=0.05)


def test_xavier_halves_the_second_moment_of_deep_relu_networks():
    # square layers: Var[W] = 1 / fan_in, and ReLU keeps half of E[z^2]
    assert _ratio_geomean("xavier", "relu") == pytest.approx(0.5, rel=0.05)
