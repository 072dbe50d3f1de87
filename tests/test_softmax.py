"""The softmax output of K > 2 classes: cost, gradients, predictions, initializers' fans, LSUV, diagnostics."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import numeric_gradient

from nninit.numerics.activations import Activation
from nninit.numerics.diagnostics import layer_statistics
from nninit.numerics.initializers import initial_parameters, initialize_parameters
from nninit.numerics.network import (
    Cache,
    accuracy,
    backward,
    cost_from_preactivation,
    forward,
    new_grads,
    output_preactivation,
    predict,
    predict_proba,
)
from nninit.numerics.outputs import class_of_labels, fraction_correct, softmax
from nninit.numerics.training import TrainSettings, train

CONF = Path(__file__).resolve().parents[1] / "conf" / "init"


def _one_hot(labels, K):
    Y = np.zeros((K, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def _cost(params, X, Y, activation):
    cache = Cache([X.shape[0]] + [params[f"b{l}"].shape[0] for l in range(1, len(params) // 2 + 1)], X)
    forward(params, cache, Activation(activation))
    return cost_from_preactivation(cache.Z[-1], Y)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("layers_dims", [[3, 4], [4, 6, 5, 4]])
def test_gradient_check_of_the_softmax_network(layers_dims, activation):
    """Centred differences in float64 (step 1e-5) agree with backward's dZ = (A - Y)/m to a relative
    error < 1e-7 (the truncation error is O(h^2) ~ 1e-10 relative, rounding ~ 1e-11 / h)."""
    rng = np.random.RandomState(1)
    K, m = layers_dims[-1], 15
    X = rng.standard_normal((layers_dims[0], m))
    Y = _one_hot(rng.randint(0, K, m), K)
    params = initialize_parameters(layers_dims, "xavier", rng, gain=1.5)
    for l in range(1, len(layers_dims)):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    cache = Cache(layers_dims, X)
    forward(params, cache, Activation(activation))
    grads = backward(Y, params, cache, new_grads(params), Activation(activation))
    numeric_grads = numeric_gradient(params, lambda: _cost(params, X, Y, activation), h=1e-5)
    for key, numeric in numeric_grads.items():
        analytic = grads[f"d{key}"]
        rel = np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12)
        assert rel < 1e-7, f"{key}: relative error {rel:.2e}"


def test_the_categorical_cost_is_the_plain_formula_and_stays_finite_where_it_saturates():
    rng = np.random.RandomState(0)
    Z = rng.standard_normal((5, 40))
    Y = _one_hot(rng.randint(0, 5, 40), 5)
    plain = -np.mean(np.sum(Y * np.log(np.exp(Z) / np.exp(Z).sum(axis=0)), axis=0))
    assert cost_from_preactivation(Z, Y) == pytest.approx(plain, rel=1e-13)
    # a logit of 1000 on the wrong class: softmax rounds the true class to 0, the cost is exactly 1000 nats
    Z = np.array([[1000.0, 0.0], [0.0, 0.0], [0.0, 1000.0]])
    Y = _one_hot(np.array([1, 2]), 3)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # exp may underflow to 0: harmless
        assert cost_from_preactivation(Z, Y) == pytest.approx(500.0, rel=1e-15)
        assert np.allclose(softmax(Z).sum(axis=0), 1.0) and np.isfinite(softmax(Z)).all()


def test_predictions_are_the_argmax_and_accuracy_counts_one_hot_labels():
    rng = np.random.RandomState(2)
    params = initialize_parameters([4, 6, 3], "he", rng)
    X = rng.standard_normal((4, 50))
    P = predict_proba(X, params)
    assert P.shape == (3, 50) and np.allclose(P.sum(axis=0), 1.0)
    labels = predict(X, params)
    assert labels.shape == (1, 50) and np.array_equal(labels[0], np.argmax(output_preactivation(X, params), axis=0))
    truth = rng.randint(0, 3, 50)
    Y = _one_hot(truth, 3)
    assert accuracy(X, Y, params) == pytest.approx(np.mean(labels[0] == truth))
    assert fraction_correct(P, Y) == accuracy(X, Y, params)
    assert np.array_equal(class_of_labels(Y), truth) and np.array_equal(class_of_labels(truth[None, :]), truth)


def test_training_a_softmax_network_lowers_the_cost_and_records_test_accuracy():
    from nninit.numerics.recording import on_test_set

    rng = np.random.RandomState(4)
    centres = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    labels = rng.randint(0, 3, 120)
    X = centres[:, labels] + 0.7 * rng.standard_normal((2, 120))
    Y = _one_hot(labels, 3)
    params = initialize_parameters([2, 8, 3], "he", np.random.RandomState(0))
    result = train(X[:, :90], Y[:, :90], params, TrainSettings(0.5, 300, 100),
                   records=[on_test_set(X[:, 90:], Y[:, 90:])])
    first, last = result.history[0], result.history[-1]
    assert result.status == "completed"
    assert first["cost"] == pytest.approx(cost_from_preactivation(output_preactivation(X[:, :90], params), Y[:, :90]))
    assert last["cost"] < 0.5 * first["cost"] and last["test_accuracy"] > 0.9


def _scheme_configs():
    for path in sorted(CONF.glob("*.yaml")):
        yield path.stem, yaml.safe_load(path.read_text())


@pytest.mark.parametrize("name, init", list(_scheme_configs()))
def test_every_initializer_gives_a_k_unit_output_layer_with_its_fans(name, init):
    """Every scheme draws W_L of shape (K, n_{L-1}); for xavier, whose variance depends on fan_out,
    the output layer's variance is 2 / (fan_in + K) (a 4-sigma band for 16,000 draws)."""
    K, n_hidden = 10, 1600
    cfg = {"init": init, "model": {"activation": "relu", "negative_slope": 0.01}, "seed": 0}
    X = np.random.RandomState(1).standard_normal((5, 64))
    params, _ = initial_parameters(cfg, [5, n_hidden, K], X)
    assert params["W2"].shape == (K, n_hidden) and params["b2"].shape == (K, 1)
    if name == "xavier":
        expected = 2.0 / (n_hidden + K)
        assert abs(params["W2"].var() / expected - 1) < 4 * np.sqrt(2 / params["W2"].size)


def test_lsuv_and_the_diagnostics_work_unchanged_with_a_softmax_output():
    cfg = {"init": yaml.safe_load((CONF / "lsuv.yaml").read_text()),
           "model": {"activation": "tanh", "negative_slope": 0.01}, "seed": 0}
    X = np.random.RandomState(1).standard_normal((8, 200))
    params, info = initial_parameters(cfg, [8, 20, 20, 4], X)
    Z = output_preactivation(X, params, Activation("tanh"))
    assert Z.shape == (4, 200) and abs(Z.var() - 1) < cfg["init"]["tol"]  # the output layer rescaled too
    cache = Cache([8, 20, 20, 4], X)
    forward(params, cache, Activation("tanh"))
    Y = _one_hot(np.arange(200) % 4, 4)
    grads = backward(Y, params, cache, new_grads(params), Activation("tanh"))
    row = layer_statistics(params, cache, grads)
    assert row["a_mean_3"] == pytest.approx(0.25)  # softmax columns sum to one: their mean is 1/K
    assert row["distinct_2"] == 20 and "dead_3" not in row
