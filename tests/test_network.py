"""Forward/backward passes: the gradient check, the cost, predictions."""

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from conftest import numeric_gradient

from nninit.numerics.activations import ACTIVATIONS, RELU, Activation
from nninit.numerics.initializers import initialize_parameters
from nninit.numerics.network import (
    Cache,
    accuracy,
    backward,
    backward_layers,
    cost_from_preactivation,
    forward,
    forward_layers,
    layer_lists,
    new_grads,
    output_preactivation,
    predict,
    predict_proba,
)


def _cost(params, X, Y, activation):
    cache = Cache([X.shape[0]] + [params[f"b{l}"].shape[0] for l in range(1, len(params) // 2 + 1)], X)
    forward(params, cache, Activation(activation, 0.1))
    return cost_from_preactivation(cache.Z[-1], Y)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("layers_dims", [[2, 1], [2, 3, 1], [3, 5, 4, 1], [2, 10, 5, 1], [4] + [6] * 10 + [1]])
def test_gradient_check(layers_dims, activation):
    """Centred differences in float64 (step 1e-5) agree with backward to a relative error < 1e-7."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((layers_dims[0], 20))
    Y = (rng.uniform(size=(1, 20)) > 0.5).astype(float)
    # a gain that keeps the signal alive through ten layers (sigmoid's slope is at most 1/4), so
    # that no gradient is so small that the finite differences measure only rounding
    params = initialize_parameters(layers_dims, "xavier", rng, gain=4.0 if activation == "sigmoid" else 1.5)
    for l in range(1, len(layers_dims)):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    cache = Cache(layers_dims, X)
    forward(params, cache, Activation(activation, 0.1))
    grads = backward(Y, params, cache, new_grads(params), Activation(activation, 0.1))
    numeric_grads = numeric_gradient(params, lambda: _cost(params, X, Y, activation), h=1e-5)
    for key, numeric in numeric_grads.items():
        analytic = grads[f"d{key}"]
        rel = np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12)
        assert rel < 1e-7, f"{key}: relative error {rel:.2e}"


def test_cost_is_stable_where_the_sigmoid_saturates():
    Z = np.array([[800.0, -800.0, 0.0, 40.0]])
    Y = np.array([[0.0, 1.0, 1.0, 1.0]])
    expected = (800 + 800 + math.log(2) + math.log1p(math.exp(-40))) / 4
    assert cost_from_preactivation(Z, Y) == pytest.approx(expected, rel=1e-15)


def test_cost_matches_the_plain_formula_away_from_saturation():
    rng = np.random.RandomState(1)
    Z = rng.standard_normal((1, 50))
    Y = (rng.uniform(size=(1, 50)) > 0.5).astype(float)
    A = 1 / (1 + np.exp(-Z))
    plain = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert cost_from_preactivation(Z, Y) == pytest.approx(plain, rel=1e-13)


def test_prediction_threshold_is_strict():
    # zero weights: every output is exactly 0.5, which predicts class 0
    params = initialize_parameters([2, 3, 1], "zeros", np.random.RandomState(0))
    assert predict(np.ones((2, 4)), params).tolist() == [[0, 0, 0, 0]]


def _leaky_net():
    rng = np.random.RandomState(4)
    params = initialize_parameters([2, 6, 5, 1], "xavier", rng, gain=2.0)
    X = rng.standard_normal((2, 40))
    return params, X, (rng.uniform(size=(1, 40)) > 0.5).astype(float)


def test_the_defaults_are_relu_and_slope_one_hundredth():
    params, X, Y = _leaky_net()
    grads = {}
    relu, leaky, leaky_explicit, steep = (Activation("relu", 0.01), Activation("leaky_relu"),
                                          Activation("leaky_relu", 0.01), Activation("leaky_relu", 0.3))
    for args in ((), (relu,), (leaky,), (leaky_explicit,), (steep,)):
        cache = Cache([2, 6, 5, 1], X)
        forward(params, cache, *args)
        grads[args] = backward(Y, params, cache, new_grads(params), *args)
        assert np.array_equal(predict_proba(X, params, *args), cache.A[3])
        assert np.array_equal(output_preactivation(X, params, *args), cache.Z[3])
        assert np.array_equal(predict(X, params, *args), (cache.A[3] > 0.5).astype(np.int64))
        assert accuracy(X, Y, params, *args) == np.mean((cache.A[3] > 0.5) == Y)
    for a, b in ((), (relu,)), ((leaky,), (leaky_explicit,)):
        assert all(np.array_equal(grads[a][k], grads[b][k]) for k in grads[a])
    assert not np.array_equal(grads[(leaky_explicit,)]["dW1"], grads[(steep,)]["dW1"])
    # one unit at x = -1: leaky output -slope, then Z = -slope + 0.05 decides the class
    tiny = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]]), "W2": np.array([[1.0]]), "b2": np.array([[0.05]])}
    X1, Y1 = np.array([[-1.0]]), np.array([[1.0]])
    assert predict(X1, tiny, leaky).tolist() == [[1]] and accuracy(X1, Y1, tiny, leaky) == 1.0
    slope = Activation("leaky_relu", 0.1)
    assert predict(X1, tiny, slope).tolist() == [[0]] and accuracy(X1, Y1, tiny, slope) == 0.0


def test_prediction_of_saturated_outputs_warns_about_nothing():
    """Saturated and non-finite output pre-activations give a probability and a prediction without a
    floating-point warning. Each column's pre-activation is fixed by IEEE arithmetic whatever order a BLAS
    sums in (no column adds an inf to a -inf, which may round to NaN or to +-inf depending on that order):
    Z = 1000, -1000, +inf, -inf and NaN."""
    params = {"W1": np.array([[1e3, -1e3]]), "b1": np.array([[0.0]])}
    X = np.array([[1.0, -1.0, np.inf, -np.inf, np.nan], [0.0, 0.0, 0.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = output_preactivation(X, params)
        proba = predict_proba(X, params)
        labels = predict(X, params)
    assert Z[0, :4].tolist() == [1e3, -1e3, np.inf, -np.inf] and np.isnan(Z[0, 4])
    assert proba[0, :4].tolist() == [1.0, 0.0, 1.0, 0.0] and np.isnan(proba[0, 4])
    assert labels.tolist() == [[1, 0, 1, 0, 0]] and labels.dtype == np.int64  # NaN > 0.5 is False


def test_the_relu_passes_allocate_nothing_per_iteration():
    """The loop's claim: with preallocated buffers a forward and backward pass allocates no array (ReLU, the
    notebook's activation). One hidden layer's mask alone would be 400 x 500 bytes."""
    dims, m = [2, 400, 400, 1], 500
    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((2, m)), (rng.uniform(size=(1, m)) > 0.5).astype(float)
    params = initialize_parameters(dims, "he", rng)
    grads = new_grads(params)
    cache = Cache(dims, X)
    W, b = layer_lists(params)
    W_T = [None] + [w.T for w in W[1:]]
    dW, db = layer_lists(grads, prefix="d")
    forward_layers(W, b, cache, RELU)
    backward_layers(Y, W_T, cache, dW, db, RELU)
    tracemalloc.start()
    try:
        forward_layers(W, b, cache, RELU)
        backward_layers(Y, W_T, cache, dW, db, RELU)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400 * m // 2  # numpy's casting buffers (64 kB), no array the size of a layer
