"""Activations: values at the kinks, the defaults, the errors, and the buffers they write."""

import math

import numpy as np
import pytest

from nninit.numerics.activations import (
    ACTIVATIONS,
    RELU,
    Activation,
    activate,
    backprop_activation,
    calculate_gain,
    calculate_gain_squared,
    check_activation,
)

ACCEPTED = "accepted: relu, leaky_relu, tanh, sigmoid"


def test_check_activation_accepts_the_four_and_names_them_when_refusing():
    for name in ACTIVATIONS:
        check_activation(name)
    with pytest.raises(ValueError) as info:
        check_activation("swish")
    assert str(info.value) == f"model.activation='swish' is not supported; {ACCEPTED}"


def test_an_unknown_activation_is_refused_by_name():
    with pytest.raises(ValueError) as info:
        Activation("swish")
    assert str(info.value) == f"model.activation='swish' is not supported; {ACCEPTED}"


@pytest.mark.parametrize("slope", [-0.1, 1.0, 1.5, math.nan, math.inf, "0.1", None, True])
def test_a_slope_outside_zero_to_one_is_refused_with_its_value(slope):
    with pytest.raises(ValueError) as info:
        Activation("leaky_relu", slope)
    assert str(info.value) == f"model.negative_slope={slope!r} must be a number in [0, 1)"


def test_the_activation_value_is_immutable_and_compares_by_its_fields():
    leaky = Activation("leaky_relu", 0.2)
    assert leaky == Activation("leaky_relu", 0.2) != Activation("leaky_relu", 0.3)
    assert RELU == Activation() == Activation("relu", 0.01)
    assert hash(leaky) == hash(Activation("leaky_relu", 0.2))
    with pytest.raises(AttributeError):
        leaky.negative_slope = 0.5
    assert Activation("leaky_relu", 0).negative_slope == 0  # an integer 0 is a slope


def test_the_value_gives_the_gains_of_its_name_and_slope():
    for name in ACTIVATIONS:
        for slope in (0.0, 0.01, 0.5):
            value = Activation(name, slope)
            assert value.gain == calculate_gain(name, slope)
            assert value.gain_squared == calculate_gain_squared(name, slope)
    assert Activation("relu").gain_squared == 2.0


def test_derivatives_at_zero_follow_pytorch():
    """At Z = 0: ReLU's derivative is 0 (the notebook's mask A > 0), leaky ReLU's is its slope."""
    Z = np.array([[-1.0, 0.0, 2.0]])
    relu, leaky = np.empty_like(Z), np.empty_like(Z)
    activate(Z, relu, Activation("relu"))
    activate(Z, leaky, Activation("leaky_relu", 0.2))
    assert relu.tolist() == [[0.0, 0.0, 2.0]] and leaky.tolist() == [[-0.2, 0.0, 2.0]]
    d_relu, d_leaky = np.ones_like(Z), np.ones_like(Z)
    backprop_activation(d_relu, Z, relu, Activation("relu"))
    backprop_activation(d_leaky, Z, leaky, Activation("leaky_relu", 0.2))
    assert d_relu.tolist() == [[0.0, 0.0, 1.0]] and d_leaky.tolist() == [[0.2, 0.2, 1.0]]


def test_the_default_slope_is_one_hundredth():
    Z = np.array([[-3.0, 0.5]])
    A = np.empty_like(Z)
    activate(Z, A, Activation("leaky_relu"))
    assert A.tolist() == [[-0.03, 0.5]]
    dA = np.ones_like(Z)
    backprop_activation(dA, Z, A, Activation("leaky_relu"))
    assert dA.tolist() == [[0.01, 1.0]]
    assert calculate_gain_squared("leaky_relu") == 2.0 / (1.0 + 0.01**2)
    assert calculate_gain("leaky_relu") == math.sqrt(2.0 / (1.0 + 0.01**2))


def test_relu_writes_its_mask_into_the_buffer_it_is_given():
    """The training loop passes a preallocated mask so that the backward pass allocates nothing."""
    Z = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 1e-300]])
    A = np.maximum(Z, 0.0)
    mask = np.zeros(Z.shape, dtype=bool)
    dA = np.full(Z.shape, 2.0)
    backprop_activation(dA, Z, A, RELU, mask=mask)
    assert mask.tolist() == [[False, False, True], [True, False, True]]
    assert dA.tolist() == [[0.0, 0.0, 2.0], [2.0, 0.0, 2.0]]


def test_gain_tables_and_their_errors():
    assert [calculate_gain_squared(a) for a in ("linear", "sigmoid", "tanh", "relu")] == [1.0, 1.0, 25 / 9, 2.0]
    assert calculate_gain_squared("leaky_relu", 0.5) == 2.0 / 1.25
    for fn in (calculate_gain, calculate_gain_squared):
        with pytest.raises(ValueError) as info:
            fn("swish")
        assert str(info.value) == "no gain for activation 'swish'; accepted: linear, relu, leaky_relu, tanh, sigmoid"
