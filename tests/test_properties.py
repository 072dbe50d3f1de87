"""Properties that are the specification, checked by Hypothesis on random cases.

- the backward pass is the gradient of the cost (centred differences, float64) for any small
  architecture, activation and data;
- the stable cost equals the plain cross-entropy formula wherever the plain one is finite;
- the named schemes are presets of ``variance_scaling``, for any shape and gain;
- every initializer has its formula's variance and support, for any fans, gain and scale;
- LSUV leaves every layer it could rescale at unit variance within ``tol``;
- a training run is plain gradient descent, and the data's order does not matter;
- a comparison's adjusted p-value, its interval and its verdict never disagree, and no verdict
  depends on the units of the metric.

The statistical properties draw at least ``N`` weights per case, pooled over repeated draws from
one generator, and allow six standard errors; they run derandomized (the same cases every time),
so the suite is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from nninit.analysis import stats
from nninit.numerics import initializers as ini
from nninit.numerics.activations import ACTIVATIONS, Activation, activate, backprop_activation, sigmoid
from nninit.numerics.lsuv import lsuv
from nninit.numerics.network import Cache, backward, cost_from_preactivation, forward, new_grads, predict_proba
from nninit.numerics.training import TrainSettings, blew_up, train

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # saturated sigmoids

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATISTICAL = settings(max_examples=25, deadline=None, derandomize=True,  # no shrinking: a failure is reported at once
                       phases=[Phase.explicit, Phase.reuse, Phase.generate],
                       suppress_health_check=[HealthCheck.too_slow])
EPS = np.finfo(float).eps

seeds = st.integers(0, 2**32 - 1)
fans = st.integers(1, 40)
gains = st.one_of(st.none(), st.floats(0.05, 20.0))


@st.composite
def networks(draw):
    """(layers_dims, activation, negative_slope, parameters, X, Y): a small random network and data set."""
    n_x = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
    layers_dims = [n_x, *hidden, 1]
    activation = draw(st.sampled_from(ACTIVATIONS))
    negative_slope = draw(st.one_of(st.just(0.0), st.floats(1e-3, 0.5))) if activation == "leaky_relu" else 0.01
    m = draw(st.integers(1, 8))
    rng = np.random.RandomState(draw(seeds))
    weight_std = draw(st.floats(0.3, 2.0))
    params = {}
    for l in range(1, len(layers_dims)):
        params[f"W{l}"] = weight_std * rng.standard_normal((layers_dims[l], layers_dims[l - 1]))
        params[f"b{l}"] = 0.5 * rng.standard_normal((layers_dims[l], 1))
    X = rng.standard_normal((n_x, m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    return layers_dims, activation, negative_slope, params, X, Y


def _cost(params, layers_dims, X, Y, activation, negative_slope):
    cache = Cache(layers_dims, X)
    forward(params, cache, Activation(activation, negative_slope))
    return cost_from_preactivation(cache.Z[-1], Y)


@FAST
@given(networks())
def test_backward_is_the_gradient_of_the_cost(net):
    layers_dims, activation, slope, params, X, Y = net
    cache = Cache(layers_dims, X)
    forward(params, cache, Activation(activation, slope))
    if activation in ("relu", "leaky_relu"):  # finite differences are wrong across a kink
        assume(all(np.abs(cache.Z[l]).min() > 1e-3 for l in range(1, len(layers_dims) - 1)))
    grads = backward(Y, params, cache, new_grads(params), Activation(activation, slope))
    h = 1e-6
    roundoff = 8 * EPS * (1 + cost_from_preactivation(cache.Z[-1], Y)) / h  # of (plus - minus) / 2h
    for key, value in params.items():
        numeric = np.empty_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            plus = _cost(params, layers_dims, X, Y, activation, slope)
            value[idx] = old - h
            minus = _cost(params, layers_dims, X, Y, activation, slope)
            value[idx] = old
            numeric[idx] = (plus - minus) / (2 * h)
        analytic = grads[f"d{key}"]
        assert analytic.shape == value.shape
        error = np.abs(numeric - analytic).max()
        assert error <= 1e-6 * max(np.abs(numeric).max(), np.abs(analytic).max()) + roundoff, (key, numeric, analytic)


@FAST
@given(net=networks())
def test_the_forward_pass_is_the_composition_of_the_layers(net):
    """forward and predict_proba both compute sigmoid(W_L g(... g(W_1 X + b_1) ...) + b_L)."""
    layers_dims, activation, slope, params, X, _ = net
    A = X
    L = len(layers_dims) - 1
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        if l < L:
            A = {"relu": np.maximum(Z, 0), "leaky_relu": np.where(Z > 0, Z, slope * Z), "tanh": np.tanh(Z),
                 "sigmoid": 1 / (1 + np.exp(-Z))}[activation]
    expected = 1 / (1 + np.exp(-Z))
    cache = Cache(layers_dims, X)
    np.testing.assert_allclose(forward(params, cache, Activation(activation, slope)), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(cache.Z[L], Z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(predict_proba(X, params, Activation(activation, slope)), expected, rtol=1e-12, atol=0)


@FAST
@given(activation=st.sampled_from(ACTIVATIONS), slope=st.floats(0.0, 0.99), seed=seeds,
       shape=st.tuples(st.integers(1, 4), st.integers(1, 6)))
def test_activation_derivatives_are_the_derivatives(activation, slope, seed, shape):
    """backprop_activation multiplies by g'(Z): compared with centred differences of activate."""
    rng = np.random.RandomState(seed)
    Z = 3 * rng.standard_normal(shape)
    assume(np.abs(Z).min() > 1e-3)
    A, plus, minus = np.empty(shape), np.empty(shape), np.empty(shape)
    activate(Z, A, Activation(activation, slope))
    h = 1e-6
    activate(Z + h, plus, Activation(activation, slope))
    activate(Z - h, minus, Activation(activation, slope))
    dA = rng.standard_normal(shape)
    expected = dA * (plus - minus) / (2 * h)
    for mask in (None, np.empty(shape, dtype=bool)):
        got = dA.copy()
        backprop_activation(got, Z, A, Activation(activation, slope), mask)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


finite_z = st.floats(-800.0, 800.0, allow_nan=False)


@FAST
@given(z=st.lists(finite_z, min_size=1, max_size=20), seed=seeds)
def test_the_stable_cost_is_the_plain_cross_entropy_wherever_that_is_finite(z, seed):
    Z = np.array([z])
    Y = (np.random.RandomState(seed).uniform(size=Z.shape) > 0.5).astype(float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        A = 1 / (1 + np.exp(-Z))
        terms = -(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        terms = np.where(Y == 1, -np.log(A), -np.log(1 - A))  # the same, without 0 * inf
        plain = float(np.mean(terms))
        # the plain formula's own rounding: A is rounded (a few eps relative), 1 - A then loses digits
        conditioning = float(np.mean(4 * EPS * (1 + np.where(Y == 1, 1.0, A / (1 - A)))))
    assume(math.isfinite(plain))
    stable = cost_from_preactivation(Z, Y)
    assert stable == pytest.approx(plain, rel=1e-13, abs=conditioning)
    assert stable >= 0


@FAST
@given(z=st.lists(finite_z, min_size=1, max_size=20), seed=seeds)
def test_the_stable_cost_is_finite_and_exact_where_the_plain_one_overflows(z, seed):
    """Per example the cost is softplus(z) for label 0 and softplus(-z) for label 1, for every finite z."""
    Z = np.array([z])
    Y = (np.random.RandomState(seed).uniform(size=Z.shape) > 0.5).astype(float)
    s = np.where(Y == 1, -Z, Z)
    softplus = [max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in s.ravel()]
    assert cost_from_preactivation(Z, Y) == pytest.approx(math.fsum(softplus) / Z.size, rel=1e-14)


def test_sigmoid_saturates_to_exact_values():
    with np.errstate(over="ignore"):
        out = sigmoid(np.array([[-800.0, -710.0, -700.0, 0.0, 36.8, 800.0]]))  # exp(710) overflows
    assert out.tolist() == [[0.0, 0.0, pytest.approx(math.exp(-700.0), rel=1e-12), 0.5, 1.0, 1.0]]


PRESETS = {  # name: (default scale, mode, distribution)
    "he": (2.0, "fan_in", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "xavier": (1.0, "fan_avg", "normal"),
    "xavier_uniform": (1.0, "fan_avg", "uniform"),
    "lecun": (1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
}


@pytest.mark.parametrize("name", sorted(PRESETS))
@FAST
@given(fan_in=fans, fan_out=fans, gain=gains, seed=seeds)
def test_named_schemes_are_variance_scaling_presets(name, fan_in, fan_out, gain, seed):
    """``gain=g`` is ``scale=g**2``; the variance multiplier can also be given directly as ``scale``."""
    default, mode, distribution = PRESETS[name]
    scale = default if gain is None else gain * gain
    general = ini.variance_scaling(fan_in, fan_out, np.random.RandomState(seed), scale=scale, mode=mode,
                                   distribution=distribution)
    for option in ({"gain": gain}, {"scale": scale}):
        named = ini.WEIGHT_INITIALIZERS[name](fan_in, fan_out, np.random.RandomState(seed), **option)
        assert named.shape == (fan_out, fan_in) and np.array_equal(named, general), option


N = 20000


def _pooled(fn, fan_in, fan_out, seed, **kwargs):
    """At least N weights: repeated draws from one generator, each of shape (fan_out, fan_in)."""
    rng = np.random.RandomState(seed)
    draws = [fn(fan_in, fan_out, rng, **kwargs) for _ in range(-(-N // (fan_in * fan_out)))]
    assert all(W.shape == (fan_out, fan_in) and W.dtype == np.float64 for W in draws)
    return np.concatenate([W.ravel() for W in draws])


def _check(w, variance, support, distribution):
    """Zero mean, the variance, and the support of ``distribution`` ('normal', 'truncated' or 'uniform')."""
    std = math.sqrt(variance)
    # standard error of mean(w**2): sqrt(Var(w**2) / n), Var(w**2) = (kurtosis - 1) variance**2 <= 2 variance**2
    assert abs(w.mean()) < 6 * std / math.sqrt(w.size)
    assert np.mean(w * w) == pytest.approx(variance, rel=6 * math.sqrt(2 / w.size))
    top = np.abs(w).max()
    if distribution == "uniform":  # U(-support, support): reaches close to the bound, never past it
        assert 0.99 * support < top <= support
    elif distribution == "truncated":  # N(0, s**2) cut at +-support = 2 s: reaches close to it
        assert 0.95 * support < top <= support
    else:  # untruncated: goes past two standard deviations
        assert top > 2.5 * std


@STATISTICAL
@given(fan_in=fans, fan_out=fans, scale=st.floats(1e-3, 1e3), mode=st.sampled_from(ini.MODES),
       distribution=st.sampled_from(["normal", "truncated_normal", "uniform"]), seed=seeds)
def test_variance_scaling_has_its_variance_and_support(fan_in, fan_out, scale, mode, distribution, seed):
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = _pooled(ini.variance_scaling, fan_in, fan_out, seed, scale=scale, mode=mode, distribution=distribution)
    variance = scale / n
    support = {"normal": None, "truncated_normal": 2 * math.sqrt(variance) / ini.TRUNCATED_NORMAL_STD,
               "uniform": math.sqrt(3 * variance)}[distribution]
    _check(w, variance, support, {"truncated_normal": "truncated"}.get(distribution, distribution))


@STATISTICAL
@given(name=st.sampled_from(sorted(PRESETS)), fan_in=fans, fan_out=fans, gain=gains, seed=seeds)
def test_named_schemes_have_their_papers_variance_and_support(name, fan_in, fan_out, gain, seed):
    default, mode, distribution = PRESETS[name]
    g2 = default if gain is None else gain * gain
    variance = g2 / {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = _pooled(ini.WEIGHT_INITIALIZERS[name], fan_in, fan_out, seed, gain=gain)
    support = {"normal": None, "truncated_normal": 2 * math.sqrt(variance) / ini.TRUNCATED_NORMAL_STD,
               "uniform": math.sqrt(3 * variance)}[distribution]
    _check(w, variance, support, {"truncated_normal": "truncated"}.get(distribution, distribution))


@STATISTICAL
@given(fan_in=fans, fan_out=fans, scale=st.floats(1e-3, 1e3), seed=seeds)
def test_random_is_a_scaled_standard_normal(fan_in, fan_out, scale, seed):
    _check(_pooled(ini.random, fan_in, fan_out, seed, scale=scale), scale**2, None, "normal")
    w = ini.random(fan_in, fan_out, np.random.RandomState(seed), scale=scale)
    assert np.array_equal(w, np.random.RandomState(seed).standard_normal((fan_out, fan_in)) * scale)


def test_random_is_the_notebooks_times_ten_by_default():
    w = ini.random(3, 2, np.random.RandomState(3))
    assert np.array_equal(w, np.random.RandomState(3).standard_normal((2, 3)) * 10.0)


@STATISTICAL
@given(fan_in=fans, fan_out=fans, seed=seeds)
def test_pytorch_default_is_uniform_within_one_over_root_fan_in(fan_in, fan_out, seed):
    bound = 1 / math.sqrt(fan_in)
    _check(_pooled(ini.pytorch_default, fan_in, fan_out, seed), bound**2 / 3, bound, "uniform")


@FAST
@given(fan_in=fans, fan_out=fans, seed=seeds)
def test_zeros_are_zeros(fan_in, fan_out, seed):
    W = ini.zeros(fan_in, fan_out, np.random.RandomState(seed))
    assert W.shape == (fan_out, fan_in) and W.dtype == np.float64 and not W.any()


@FAST
@given(fan_in=fans, fan_out=fans, gain=gains, seed=seeds)
def test_orthogonal_is_gain_times_orthonormal(fan_in, fan_out, gain, seed):
    """Variance exactly gain**2 min(fan_in, fan_out) / (fan_in fan_out); every entry within +-gain."""
    g = 1.0 if gain is None else gain
    W = ini.orthogonal(fan_in, fan_out, np.random.RandomState(seed), gain=gain)
    assert W.shape == (fan_out, fan_in)
    k = min(fan_in, fan_out)
    gram = W @ W.T if fan_out <= fan_in else W.T @ W
    np.testing.assert_allclose(gram, g * g * np.eye(k), atol=1e-12 * g * g)
    assert np.mean(W * W) == pytest.approx(g * g * k / (fan_in * fan_out), rel=1e-12)
    assert np.abs(W).max() <= g * (1 + 1e-12)


@FAST
@given(fan_in=fans, fan_out=fans, gain=gains, seed=seeds)
def test_orthogonal_is_pytorchs_construction(fan_in, fan_out, gain, seed):
    """QR of a standard normal (fan_out, fan_in) matrix, transposed first only when wide (fan_out < fan_in),
    Q's columns times the signs of R's diagonal, times gain: the same draws as torch.nn.init.orthogonal_."""
    flat = np.random.RandomState(seed).standard_normal((fan_out, fan_in))
    q, r = np.linalg.qr(flat.T if fan_out < fan_in else flat)
    q = q * np.sign(np.diag(r))
    expected = (q.T if fan_out < fan_in else q) * (1.0 if gain is None else gain)
    W = ini.orthogonal(fan_in, fan_out, np.random.RandomState(seed), gain=gain)
    np.testing.assert_allclose(W, expected, rtol=0, atol=1e-12 * (1.0 if gain is None else gain))


@FAST
@given(fan_in=fans, fan_out=fans, seed=seeds)
def test_variance_scaling_defaults_are_a_truncated_normal_of_variance_one_over_fan_in(fan_in, fan_out, seed):
    default = ini.variance_scaling(fan_in, fan_out, np.random.RandomState(seed))
    explicit = ini.variance_scaling(fan_in, fan_out, np.random.RandomState(seed), scale=1.0, mode="fan_in",
                                    distribution="truncated_normal")
    assert np.array_equal(default, explicit)


def test_unknown_names_are_refused_with_the_accepted_ones():
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError) as info:
        ini.variance_scaling(3, 2, rng, mode="fan_sideways")
    assert str(info.value) == "init.mode='fan_sideways' is not supported; accepted: " + ", ".join(ini.MODES)
    with pytest.raises(ValueError) as info:
        ini.variance_scaling(3, 2, rng, distribution="cauchy")
    assert str(info.value) == "init.distribution='cauchy' is not supported; accepted: " + ", ".join(ini.DISTRIBUTIONS)
    with pytest.raises(ValueError) as info:
        ini.initialize_parameters([2, 1], "kaiming", rng)
    assert str(info.value) == ("init='kaiming' is not supported; accepted: "
                               + ", ".join(sorted(ini.WEIGHT_INITIALIZERS)) + ", lsuv")


@STATISTICAL
@given(n=st.integers(1, 12), seed=seeds)
def test_orthogonal_is_haar_distributed(n, seed):
    """Haar measure: the diagonal has mean 0 (without the sign correction of R's diagonal, it is positive)."""
    rng = np.random.RandomState(seed)
    diag = np.concatenate([np.diag(ini.orthogonal(n, n, rng)) for _ in range(max(1, 4000 // n))])
    assert abs(diag.mean()) < 6 * math.sqrt(1 / n / diag.size)  # Var(Q_ii) = 1/n


@pytest.mark.parametrize("method", sorted(ini.WEIGHT_INITIALIZERS))
@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5), bias=st.one_of(st.none(), st.floats(-2.0, 2.0)),
       seed=seeds)
def test_initialize_parameters_draws_every_layer_w_before_b(method, sizes, bias, seed):
    params = ini.initialize_parameters(sizes, method, np.random.RandomState(seed), bias=bias)
    assert list(params) == [f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"]
    rng = np.random.RandomState(seed)
    for l in range(1, len(sizes)):
        assert np.array_equal(params[f"W{l}"], ini.WEIGHT_INITIALIZERS[method](sizes[l - 1], sizes[l], rng))
        if bias is not None:
            assert np.array_equal(params[f"b{l}"], np.full((sizes[l], 1), bias))
        elif method == "pytorch_default":
            bound = 1 / math.sqrt(sizes[l - 1])
            assert np.array_equal(params[f"b{l}"], rng.uniform(-bound, bound, (sizes[l], 1)))
        else:
            assert np.array_equal(params[f"b{l}"], np.zeros((sizes[l], 1)))


@FAST
@given(net=networks(), tol=st.floats(0.01, 0.5), max_iter=st.integers(1, 10))
def test_lsuv_leaves_every_layer_it_rescaled_at_unit_variance(net, tol, max_iter):
    layers_dims, activation, slope, params, X, _ = net
    out, passes = lsuv(params, X, activation=Activation(activation, slope), tol=tol, max_iter=max_iter)
    assert len(passes) == len(layers_dims) - 1 and all(0 <= p <= max_iter for p in passes)
    assert all(np.array_equal(params[f"b{l}"], out[f"b{l}"]) for l in range(1, len(layers_dims)))
    cache = Cache(layers_dims, X)
    forward(out, cache, Activation(activation, slope))
    for l in range(1, len(layers_dims)):
        before, after = params[f"W{l}"], out[f"W{l}"]
        ratio = after.ravel()[np.argmax(np.abs(before))] / before.ravel()[np.argmax(np.abs(before))]
        np.testing.assert_allclose(after, ratio * before, rtol=1e-12)  # W only rescaled, by a positive factor
        assert ratio > 0
        var = float(np.mean((cache.Z[l] - cache.Z[l].mean()) ** 2))  # over all units and examples
        if passes[l - 1] < max_iter and var > 1e-300:
            assert abs(var - 1) < tol * (1 + 1e-9), (l, var, passes)
        if passes[l - 1] == 0:
            assert np.array_equal(after, before)


@FAST
@given(net=networks(), tol=st.floats(0.01, 0.5))
def test_lsuv_without_biases_needs_one_pass_per_layer(net, tol):
    """With zero biases Z = W A is linear in W: one division by sqrt(Var(Z)) makes the variance 1."""
    layers_dims, activation, slope, params, X, _ = net
    params = {key: np.zeros_like(value) if key[0] == "b" else value for key, value in params.items()}
    out, passes = lsuv(params, X, activation=Activation(activation, slope), tol=tol, max_iter=10)
    cache = Cache(layers_dims, X)
    forward(out, cache, Activation(activation, slope))
    for l in range(1, len(layers_dims)):
        var = float(np.mean((cache.Z[l] - cache.Z[l].mean()) ** 2))
        start = var * float(np.sum(params[f"W{l}"] ** 2) / np.sum(out[f"W{l}"] ** 2))  # before rescaling
        if not start > 1e-300:  # a dead layer (or one example) cannot be rescaled
            assert passes[l - 1] == 0
        elif abs(start - 1) < tol:
            assert passes[l - 1] == 0 and np.array_equal(out[f"W{l}"], params[f"W{l}"])
        else:
            # rounding: the variance of values far from their mean loses digits (eps mean**2 / var)
            assert passes[l - 1] == 1 and abs(var - 1.0) <= 1e-9 + 64 * EPS * float(cache.Z[l].mean()) ** 2


@FAST
@given(net=networks(), k=st.integers(0, 4), lr=st.floats(1e-3, 1.0))
def test_training_is_plain_gradient_descent(net, k, lr):
    """Every recorded row is the cost before that step; the run stops at the first row whose cost or
    parameters are not finite or whose cost blew up (``blew_up``), else completes after k steps."""
    layers_dims, activation, slope, params, X, Y = net
    result = train(X, Y, params, TrainSettings(lr, k, 1), Activation(activation, slope))
    state = {key: value.copy() for key, value in params.items()}
    costs, status = [], "completed"
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(k + 1):
            cache = Cache(layers_dims, X)
            forward(state, cache, Activation(activation, slope))
            costs.append(cost_from_preactivation(cache.Z[-1], Y))
            finite = math.isfinite(costs[-1]) and all(np.isfinite(v).all() for v in state.values())
            if not finite or blew_up(costs[-1], costs[0]):
                status = "diverged"
                break
            if i < k:
                grads = backward(Y, state, cache, new_grads(state), Activation(activation, slope))
                state = {key: value - lr * grads[f"d{key}"] for key, value in state.items()}
    stop = len(costs) - 1
    assert result.status == status and result.iterations_run == stop
    assert result.diverged_at == (stop if status == "diverged" else None)
    assert [row["iteration"] for row in result.history] == list(range(stop + 1))
    assert [row["cost"] for row in result.history] == pytest.approx(costs, rel=1e-12, abs=1e-15, nan_ok=True)
    for key in params:
        np.testing.assert_allclose(result.parameters[key], state[key], rtol=1e-12, atol=1e-15)


@FAST
@given(net=networks(), seed=seeds)
def test_the_order_of_the_examples_does_not_matter(net, seed):
    layers_dims, activation, slope, params, X, Y = net
    order = np.random.RandomState(seed).permutation(X.shape[1])
    kwargs = dict(settings=TrainSettings(0.1, 3, 1), activation=Activation(activation, slope))
    a = train(X, Y, params, **kwargs)
    b = train(np.ascontiguousarray(X[:, order]), np.ascontiguousarray(Y[:, order]), params, **kwargs)
    assert [r["cost"] for r in a.history] == pytest.approx([r["cost"] for r in b.history], rel=1e-12, abs=1e-15)
    for key in params:
        np.testing.assert_allclose(a.parameters[key], b.parameters[key], rtol=1e-10, atol=1e-13)


# --- Statistics --------------------------------------------------------------------------------------

@st.composite
def group_comparisons(draw):
    """(groups, baseline, direction): 2-4 groups of 2-8 ordinary numbers (a centre, a spread from none
    through rounding-level to large, integer steps), paired by seed or not."""
    k, n, paired = draw(st.integers(2, 4)), draw(st.integers(2, 8)), draw(st.booleans())
    groups = {}
    for g in range(k):
        centre = draw(st.integers(-100, 100)) / 10
        spread = draw(st.sampled_from([0.0, 1e-14, 1e-3, 0.05, 0.3, 1.0, 10.0]))
        steps = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n))
        groups[f"g{g}"] = {(s if paired else (g, s)): centre + spread * v / 10 for s, v in enumerate(steps)}
    baseline = draw(st.one_of(st.none(), st.sampled_from(sorted(groups))))
    return groups, baseline, draw(st.sampled_from([True, False, None]))


@FAST
@given(group_comparisons())
@example(({"g0": {(0, 0): 0.1, (0, 1): 0.1, (0, 2): 0.100000000000001},  # equal up to rounding: found by this test
           "g1": {(1, 0): 0.1, (1, 1): 0.1, (1, 2): 0.1}}, None, True))
def test_p_interval_and_verdict_of_a_comparison_never_disagree(case):
    """One family-wise procedure: adjusted p below 0.05 exactly when the simultaneous interval
    excludes 0, exactly when the verdict is better/worse (or higher/lower)."""
    groups, baseline, direction = case
    for r in stats.compare_groups("m", groups, higher_is_better=direction, baseline=baseline):
        if r.verdict == "too_few_runs":
            continue
        separated = r.ci_low > 0 or r.ci_high < 0
        assert (r.p_adjusted < 0.05) == separated == (r.verdict != "indistinguishable"), r
        assert r.ci_low <= r.difference <= r.ci_high, r


@FAST
@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy's, on values equal up to rounding
@given(group_comparisons(), st.integers(-20, 20))
def test_no_verdict_depends_on_the_units(case, k):
    """Multiplying every value by 10**k (seconds to nanoseconds, a gradient norm around 1e-21) changes
    no verdict and no group's 'exact' (identical values) status."""
    groups, baseline, direction = case
    scaled = {g: {s: v * 10.0**k for s, v in values.items()} for g, values in groups.items()}
    rows = stats.compare_groups("m", groups, higher_is_better=direction, baseline=baseline)
    rows_scaled = stats.compare_groups("m", scaled, higher_is_better=direction, baseline=baseline)
    assert [r.verdict for r in rows] == [r.verdict for r in rows_scaled]
    assert [stats.describe(list(v.values())).method for v in groups.values()] == \
        [stats.describe(list(v.values())).method for v in scaled.values()]
