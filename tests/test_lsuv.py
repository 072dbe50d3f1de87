"""LSUV's rule on hand-made layers whose variance is known exactly: the stopping rule, the defaults, the warning."""

import logging
import math

import numpy as np
import pytest

from nninit.numerics.activations import Activation
from nninit.numerics.lsuv import lsuv


def test_a_variance_at_exactly_tol_from_one_is_rescaled():
    """The rule is: divide while |Var(Z) - 1| >= tol. Z = [0, 1, 0, 1] has variance 0.25 exactly."""
    params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    X = np.array([[0.0, 1.0, 0.0, 1.0]])
    out, passes = lsuv(params, X, tol=0.75)
    assert passes == [1] and out["W1"][0, 0] == 2.0  # divided by sqrt(0.25)
    out, passes = lsuv(params, X, tol=0.7500001)
    assert passes == [0] and out["W1"][0, 0] == 1.0


def test_the_default_tolerance_is_one_tenth():
    X = np.array([[-1.0, 1.0]])  # Z = [-w, w]: variance w**2
    for w2, expected in ((1.5, [1]), (1.11, [1]), (1.09, [0]), (0.91, [0]), (0.89, [1])):
        out, passes = lsuv({"W1": np.array([[math.sqrt(w2)]]), "b1": np.array([[0.0]])}, X)
        assert passes == expected, w2
        if expected == [1]:
            assert out["W1"][0, 0] == pytest.approx(1.0, rel=1e-15)


def _biased():
    """[1, 2, 1]: the hidden units' biases +-2 keep Var(Z1) above 4 whatever W1 is, so layer 1 never converges."""
    return {"W1": np.array([[1.0], [-0.5]]), "b1": np.array([[2.0], [-2.0]]),
            "W2": np.array([[1.0, 3.0]]), "b2": np.array([[0.0]])}


X_LINE = np.linspace(-1, 1, 11).reshape(1, -1)


def test_at_most_max_iter_passes_ten_by_default():
    out, passes = lsuv(_biased(), X_LINE)
    assert passes == [10, 1]
    assert out["W1"] == pytest.approx(_biased()["W1"] * out["W1"][0, 0], rel=1e-12)  # only rescaled
    assert np.array_equal(out["b1"], _biased()["b1"])  # biases are not touched
    _, passes = lsuv(_biased(), X_LINE, max_iter=3)
    assert passes == [3, 1]


def test_the_defaults_are_relu_and_slope_one_hundredth():
    default, _ = lsuv(_biased(), X_LINE)
    explicit, _ = lsuv(_biased(), X_LINE, activation=Activation("relu", 0.01), tol=0.1, max_iter=10)
    assert all(np.array_equal(default[k], explicit[k]) for k in default)
    leaky, _ = lsuv(_biased(), X_LINE, activation=Activation("leaky_relu"))
    leaky_explicit, _ = lsuv(_biased(), X_LINE, activation=Activation("leaky_relu", 0.01))
    assert all(np.array_equal(leaky[k], leaky_explicit[k]) for k in leaky)
    assert not np.array_equal(leaky["W2"], default["W2"])  # the slope matters in this network


def test_the_caller_parameters_are_not_modified():
    params = _biased()
    lsuv(params, X_LINE)
    assert all(np.array_equal(params[k], _biased()[k]) for k in params)


def test_a_dead_layer_is_left_as_it_is_with_a_warning(caplog):
    params = _biased()
    params["b1"][:] = -10.0  # every hidden unit dead on every example: layer 2's output is constant
    with caplog.at_level(logging.WARNING, logger="nninit.numerics.lsuv"):
        out, passes = lsuv(params, X_LINE)
    assert passes[1] == 0 and np.array_equal(out["W2"], params["W2"])
    assert caplog.messages == ["LSUV: layer 2's output has variance 0.0 on the batch and cannot be rescaled"]


@pytest.mark.parametrize("scale, x_scale", [(1e-300, 1.0), (1e-200, 1e-10), (1e300, 1e10), (1e200, 1.0)])
def test_extreme_scales_work_whatever_numpys_error_settings(scale, x_scale):
    """Under- and overflow inside LSUV are its business: even with every floating-point error set to raise,
    a network at an extreme scale ends with unit variance in every layer (layer 1's inputs up to 1e10)."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2, 50)) * x_scale
    start = {"W1": rng.standard_normal((6, 2)) * scale, "b1": np.zeros((6, 1)),
             "W2": rng.standard_normal((4, 6)) * scale, "b2": np.zeros((4, 1)),
             "W3": rng.standard_normal((1, 4)) * scale, "b3": np.zeros((1, 1))}
    with np.errstate(all="raise"):
        out, passes = lsuv(start, X, activation=Activation("tanh"))
    A = X
    for l in (1, 2, 3):
        Z = out[f"W{l}"] @ A + out[f"b{l}"]
        assert abs(Z.var() - 1.0) < 0.1, (l, Z.var(), passes)
        A = np.tanh(Z)


def test_a_tiny_layer_is_measured_with_its_biases():
    """W1 = 1e-300: Var(Z1) underflows to 0, so W1 is first brought to order one; the trial output keeps b1.

    After it Z1 = [1, -1] + 0.5 has variance 1 (no pass), and layer 2 sees relu(Z1) = [1.5, 0]: variance
    0.5625, one pass divides W2 by 0.75."""
    params = {"W1": np.array([[1e-300]]), "b1": np.array([[0.5]]), "W2": np.array([[1.0]]), "b2": np.array([[0.0]])}
    out, passes = lsuv(params, np.array([[1.0, -1.0]]))
    assert passes == [0, 1]
    assert out["W1"].tolist() == [[1.0]] and out["W2"][0, 0] == pytest.approx(1 / 0.75, rel=1e-15)


def test_the_variance_measured_is_that_of_w_a_plus_b():
    """Two units on a constant input: Z1 = [2 + 1, -2 - 1] has variance 9 (with W A - b it would be exactly 1)."""
    params = {"W1": np.array([[2.0], [-2.0]]), "b1": np.array([[1.0], [-1.0]]),
              "W2": np.array([[1.0, 1.0]]), "b2": np.array([[0.0]])}
    out, passes = lsuv(params, np.ones((1, 3)), max_iter=1)
    assert passes[0] == 1 and out["W1"].tolist() == [[2 / 3], [-2 / 3]]
