"""nninit.numerics.theory against closed forms, independent quadrature and Monte-Carlo; and init.bias_std.

Monte-Carlo checks allow 4.5 standard errors (a false alarm about once in 150,000 per check) with
fixed seeds, so they are deterministic; the quadrature is checked against scipy.integrate to 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import compose
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps

from nninit.app.config import ConfigError, validate
from nninit.numerics import initializers as ini
from nninit.numerics import theory as T
from nninit.numerics.activations import RELU, Activation
from nninit.numerics.theory import maps

TANH = Activation("tanh")
Z_MAX = 4.5


def _mc_close(samples: np.ndarray, value: float) -> None:
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(mean - value) < Z_MAX * se + 1e-12, (mean, value, se)


def _bivariate(q1: float, q2: float, c: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    z1, z2 = np.random.default_rng(seed).standard_normal((2, n))
    return math.sqrt(q1) * z1, math.sqrt(q2) * (c * z1 + math.sqrt(1 - c * c) * z2)


# ---- ReLU: exact -----------------------------------------------------------------------------------
def test_he_relu_is_exactly_critical():
    assert T.critical_weight_variance(RELU, 0.0) == 2.0
    assert T.critical_weight_variance(RELU, 0.3) == 2.0
    assert abs(T.chi1(RELU, 2.0, 0.0) - 1.0) < 1e-9
    scales = T.depth_scales(RELU, 2.0, 0.0)
    assert scales.chi_c == 1.0 and math.isinf(scales.xi_c)


def test_he_relu_preserves_the_second_moment():
    q = np.array([1e-3, 0.5, 1.0, 7.0])
    np.testing.assert_allclose(T.length_map(RELU, 2.0, 0.0, q), q, rtol=1e-15)
    assert T.q_star(RELU, 2.0, 0.0, q0=0.7) == 0.7


def test_leaky_relu_closed_forms():
    a = 0.2
    assert T.critical_weight_variance(Activation("leaky_relu", a), 0.0) == 2.0 / (1 + a * a)
    assert T.chi1(Activation("leaky_relu", a), 2.0 / (1 + a * a), 0.1) == pytest.approx(1.0, abs=1e-12)
    assert T.q_star(Activation("leaky_relu", a), 1.0, 0.3) == pytest.approx(0.3 / (1 - (1 + a * a) / 2))


def test_relu_q_star_and_divergence():
    assert T.q_star(RELU, 1.5, 0.1) == pytest.approx(0.1 / (1 - 0.75), rel=1e-15)
    assert T.q_star(RELU, 1.5, 0.0) == 0.0
    assert math.isinf(T.q_star(RELU, 2.5, 0.0))
    assert math.isinf(T.q_star(RELU, 2.0, 0.1))


@pytest.mark.parametrize("activation, slope", [("relu", 0.0), ("leaky_relu", 0.1), ("leaky_relu", 0.5)])
@pytest.mark.parametrize("q1, q2, c", [(1.0, 1.0, 0.3), (0.5, 2.0, -0.7), (2.0, 3.0, 0.95), (1.0, 1.0, -1.0)])
def test_arc_cosine_kernels_match_monte_carlo(activation, slope, q1, q2, c):
    u1, u2 = _bivariate(q1, q2, c, 400_000, seed=11)
    def phi(u):
        return np.maximum(u, slope * u)

    def dphi(u):
        return np.where(u > 0, 1.0, slope)

    # covariance map: E[phi phi] through q12' = w E[phi phi] + b, with w = 1, b = 0
    _, _, c_next = T.covariance_map(Activation(activation, slope), 1.0, 0.0, q1, q2, c)
    q1n = T.length_map(Activation(activation, slope), 1.0, 0.0, q1)
    q2n = T.length_map(Activation(activation, slope), 1.0, 0.0, q2)
    _mc_close(phi(u1) * phi(u2), float(c_next * np.sqrt(q1n * q2n)))
    _mc_close(phi(u1) ** 2, float(q1n))
    k0 = maps.pair_kernel(Activation(activation, slope), q1, q2, c, derivative=True)
    _mc_close(dphi(u1) * dphi(u2), float(k0))


def test_relu_correlation_map_is_the_normalised_arc_cosine_kernel():
    c = np.linspace(-1, 1, 9)
    t = np.arccos(c)
    expected = (np.sin(t) + (np.pi - t) * c) / np.pi
    np.testing.assert_allclose(T.correlation_map(RELU, 2.0, 0.0, c), expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(T.correlation_map(RELU, 1.3, 0.0, c), expected, rtol=1e-14, atol=1e-15)


# ---- smooth activations: quadrature ----------------------------------------------------------------
def _quad(f, q):
    return integrate.quad(lambda z: f(math.sqrt(q) * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12,
                          points=[0.0], epsabs=0, epsrel=1e-13, limit=2000)[0]


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # quad on values near 0
@pytest.mark.parametrize("q", [1e-4, 0.03, 0.5, 1.0, 4.0, 30.0, 500.0])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_expectations_match_adaptive_quadrature(activation, q):
    phi, d1, d2 = maps.derivatives(activation)
    for f in (lambda u: phi(u) ** 2, lambda u: d1(u) ** 2, lambda u: phi(u) * d2(u)):
        exact = _quad(f, q)
        assert T.expect(f, q) == pytest.approx(exact, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("q1, q2, c", [(1.0, 1.0, 0.5), (0.3, 2.0, -0.8), (10.0, 20.0, 0.99), (0.05, 0.05, 0.999999),
                                       (4.0, 1.0, 0.2)])
def test_pair_expectations_match_scipy_dblquad(q1, q2, c):
    s = math.sqrt(1 - c * c)
    for f in (np.tanh, lambda u: 1 - np.tanh(u) ** 2, maps._sigmoid):
        exact = integrate.dblquad(
            lambda z2, z1, f=f: f(math.sqrt(q1) * z1) * f(math.sqrt(q2) * (c * z1 + s * z2))
            * math.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * math.pi), -11, 11, -11, 11, epsabs=1e-14, epsrel=1e-12)[0]
        assert T.expect_pair(f, f, q1, q2, c) == pytest.approx(exact, rel=1e-9, abs=1e-13)


def test_quadrature_of_a_kink_would_be_wrong():
    """Why ReLU is closed-form: the smooth rule's answer for He/ReLU's chi_1 with a kink is not 1."""
    from numpy.polynomial.hermite_e import hermegauss

    z, w = hermegauss(101)
    assert abs(2.0 * np.sum(w * (z > 0)) / math.sqrt(2 * math.pi) - 1.0) > 0.05


# ---- smooth activations: fixed points, criticality, Monte-Carlo ------------------------------------
def test_tanh_critical_weight_variance_tends_to_one():
    assert T.critical_weight_variance(TANH, 0.0) == 1.0
    values = [T.critical_weight_variance(TANH, b) for b in (1e-4, 1e-6, 1e-8, 1e-10)]
    assert all(v > 1 for v in values) and values == sorted(values, reverse=True)
    assert values[-1] - 1 < 1e-3


@pytest.mark.parametrize("activation, bias_variance", [("tanh", 0.05), ("tanh", 0.3), ("tanh", 1e-3), ("sigmoid", 0.1)])
def test_critical_point_is_where_chi1_is_one(activation, bias_variance):
    activation = Activation(activation)
    w = T.critical_weight_variance(activation, bias_variance)
    assert T.chi1(activation, w, bias_variance) == pytest.approx(1.0, abs=1e-10)
    assert T.chi1(activation, 0.98 * w, bias_variance) < 1 < T.chi1(activation, 1.02 * w, bias_variance)


@pytest.mark.parametrize("activation, wv, bv", [("tanh", 1.5, 0.05), ("tanh", 3.0, 0.2), ("tanh", 2.0, 0.0),
                                                ("sigmoid", 4.0, 0.1), ("tanh", 0.5, 0.5)])
def test_fixed_point_and_chi1_match_monte_carlo(activation, wv, bv):
    """q* solves q = wv E[phi(sqrt(q) z)^2] + bv, and chi_1 = wv E[phi'^2], by sampling z."""
    phi, d1, _ = maps.derivatives(activation)
    q = T.q_star(Activation(activation), wv, bv)
    assert q > 0
    z = np.random.default_rng(5).standard_normal(1_000_000)
    _mc_close(wv * phi(math.sqrt(q) * z) ** 2 + bv, q)
    _mc_close(wv * d1(math.sqrt(q) * z) ** 2, T.chi1(Activation(activation), wv, bv))


@pytest.mark.parametrize("wv, bv", [(1.5, 0.05), (3.0, 0.2), (2.5, 0.01)])
def test_correlation_map_matches_monte_carlo(wv, bv):
    q = T.q_star(TANH, wv, bv)
    for c in (-0.5, 0.2, 0.9):
        u1, u2 = _bivariate(q, q, c, 1_000_000, seed=int(100 * (c + 1)))
        _mc_close((wv * np.tanh(u1) * np.tanh(u2) + bv) / q, float(T.correlation_map(TANH, wv, bv, c)))


def test_fixed_points_are_fixed_and_slopes_are_the_chis():
    for wv, bv in ((1.3, 0.05), (3.0, 0.1), (2.0, 0.0)):
        scales = T.depth_scales(TANH, wv, bv)
        q, c = scales.q_star, scales.c_star
        assert float(T.length_map(TANH, wv, bv, q)) == pytest.approx(q, rel=1e-12)
        assert float(T.correlation_map(TANH, wv, bv, c)) == pytest.approx(c, abs=1e-11)
        h = 1e-5
        slope_q = (T.length_map(TANH, wv, bv, q + h) - T.length_map(TANH, wv, bv, q - h)) / (2 * h)
        assert scales.chi_q == pytest.approx(float(slope_q), rel=1e-7)
        low = c - h if c < 1 else c - 2 * h
        slope_c = (T.correlation_map(TANH, wv, bv, min(c + h, 1.0)) - T.correlation_map(TANH, wv, bv, low)) / (
            min(c + h, 1.0) - low)
        assert scales.chi_c == pytest.approx(float(slope_c), rel=1e-4)
        if T.chi1(TANH, wv, bv) > 1:
            assert c < 1 and scales.xi_c == pytest.approx(-1 / math.log(scales.chi_c))
        else:
            assert c == 1.0 and scales.chi_c == pytest.approx(T.chi1(TANH, wv, bv), rel=1e-9)
    assert T.c_star(TANH, 2.0, 0.0) == pytest.approx(0.0, abs=1e-10)  # odd activation, no bias


def test_xi_c_diverges_at_the_critical_line():
    w = T.critical_weight_variance(TANH, 0.05)
    near = [T.depth_scales(TANH, w * f, 0.05).xi_c for f in (0.8, 0.95, 0.99, 1.01, 1.05, 1.2)]
    assert near[2] > near[1] > near[0] and near[3] > near[4] > near[5]
    assert min(near[2], near[3]) > 50


@settings(max_examples=25, deadline=None)
@given(st.floats(0.3, 4.0), st.floats(0.001, 1.0))
def test_phase_is_decided_by_the_critical_line(wv, bv):
    w_crit = T.critical_weight_variance(TANH, bv)
    if abs(wv - w_crit) > 1e-6 * w_crit:
        assert (T.chi1(TANH, wv, bv) > 1) == (wv > w_crit)
    q = T.q_star(TANH, wv, bv)
    assert float(T.length_map(TANH, wv, bv, q)) == pytest.approx(q, rel=1e-10)


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_a_wide_random_network_follows_the_maps():
    """Monte-Carlo over networks: pre-activations of a width-1500 tanh network (weights and biases
    drawn by initialize_parameters with bias_std) against the iterated covariance map."""
    wv, bv, depth, width = 1.8, 0.05, 12, 1500
    X = np.array([[1.0, 0.6], [0.3, -0.9]]) * math.sqrt(2)  # two inputs, n_0 = 2
    finals = []
    for seed in range(4):
        params = ini.initialize_parameters([2] + [width] * depth, "variance_scaling", np.random.RandomState(seed),
                                           bias_std=math.sqrt(bv), scale=wv, mode="fan_in", distribution="normal")
        A = X
        for l in range(1, depth + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            A = np.tanh(Z)
        C = Z.T @ Z / width
        finals.append((C[0, 0], C[1, 1], C[0, 1] / math.sqrt(C[0, 0] * C[1, 1])))
    G = wv * X.T @ X / 2 + bv
    q1, q2, c = G[0, 0], G[1, 1], G[0, 1] / math.sqrt(G[0, 0] * G[1, 1])
    for _ in range(depth - 1):
        q1, q2, c = T.covariance_map(TANH, wv, bv, q1, q2, c)
    finals = np.array(finals)
    for column, value in zip(finals.T, (q1, q2, c)):
        low, high = sps.t.interval(0.999, len(column) - 1, column.mean(), column.std(ddof=1) / 2)
        slack = 3.0 / width  # the O(1/width) bias of a finite network
        assert low - slack < float(value) < high + slack, (column, value)


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="weight_variance"):
        T.q_star(TANH, -1.0, 0.1)
    with pytest.raises(ValueError, match="bias_variance"):
        T.chi1(TANH, 1.0, math.nan)
    with pytest.raises(ValueError, match="model.activation"):
        Activation("gelu")
    with pytest.raises(TypeError, match=r"must be an Activation, e.g. Activation\('tanh'\)"):
        T.chi1("tanh", 1.0, 0.0)


# ---- init.bias_std -----------------------------------------------------------------------------------
def test_bias_std_unset_or_zero_changes_no_draw():
    dims = [2, 10, 5, 1]
    base = ini.initialize_parameters(dims, "he", np.random.RandomState(3))
    for value in (None, 0.0):
        params = ini.initialize_parameters(dims, "he", np.random.RandomState(3), bias_std=value)
        for k in base:
            np.testing.assert_array_equal(params[k], base[k])


def test_bias_std_draws_normal_biases_after_the_weights():
    dims = [3, 4000, 2]
    rng = np.random.RandomState(0)
    params = ini.initialize_parameters(dims, "variance_scaling", np.random.RandomState(0), bias_std=0.5,
                                       scale=1.0, distribution="normal")
    W1 = ini.variance_scaling(3, 4000, rng, 1.0, "fan_in", "normal")
    np.testing.assert_array_equal(params["W1"], W1)  # W1 first, then b1 from the same stream
    np.testing.assert_array_equal(params["b1"], rng.standard_normal((4000, 1)) * 0.5)
    assert sps.kstest(params["b1"].ravel(), sps.norm(scale=0.5).cdf).pvalue > 1e-3


def test_bias_std_refuses_a_constant_bias_and_bad_values():
    with pytest.raises(ValueError, match="not both"):
        ini.initialize_parameters([2, 3, 1], "he", np.random.RandomState(0), bias=0.1, bias_std=0.2)
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="bias_std"):
            ini.initialize_parameters([2, 3, 1], "he", np.random.RandomState(0), bias_std=bad)


@pytest.mark.parametrize("value", [-0.5, float("nan"), float("inf"), "wide", True])
def test_config_refuses_bad_bias_std(value):
    cfg = compose(["init=variance_scaling"])
    cfg["init"]["bias_std"] = value
    with pytest.raises(ConfigError, match=r"^init\.bias_std=.* must be null or a finite number >= 0"):
        validate(cfg)


def test_config_refuses_bias_std_with_a_constant_bias():
    with pytest.raises(ConfigError, match=r"^init\.bias_std=0\.1 is not accepted: cannot be combined with a "
                                          r"constant init\.bias=0\.2"):
        validate(compose(["init=orthogonal", "init.bias_std=0.1", "init.bias=0.2"]))


def test_bias_std_reaches_the_run(circles):
    from nninit.app.experiment import initial_parameters

    cfg = compose(["init=variance_scaling", "init.distribution=normal", "init.scale=1.76", "init.bias_std=0.3",
                   "model.activation=tanh"])
    validate(cfg)
    params, _ = initial_parameters(cfg, [2, 50, 1], circles.X_train)
    rng = np.random.RandomState(cfg["seed"])
    np.testing.assert_array_equal(params["W1"], ini.variance_scaling(2, 50, rng, 1.76, "fan_in", "normal"))
    np.testing.assert_array_equal(params["b1"], rng.standard_normal((50, 1)) * 0.3)
