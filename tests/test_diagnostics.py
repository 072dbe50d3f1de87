"""Per-layer diagnostics against a direct computation: a plain forward and backward pass written here."""

import numpy as np
import pytest

from nninit.numerics.diagnostics import STAT_NAMES, distinct_units, layer_statistics
from nninit.numerics.network import Cache, backward, forward, new_grads
from nninit.numerics.recording import diagnostics
from nninit.numerics.training import TrainSettings, train

LAYERS = [3, 6, 4, 1]


def _parameters():
    rng = np.random.RandomState(7)
    params = {}
    for l in range(1, len(LAYERS)):
        params[f"W{l}"] = rng.standard_normal((LAYERS[l], LAYERS[l - 1]))
        params[f"b{l}"] = 0.3 * rng.standard_normal((LAYERS[l], 1))
    params["b1"][[1, 4]] = -100.0  # two of the six first-layer units dead on every example
    params["W2"][3] = params["W2"][0]  # layer 2: units 0 and 3 identical, so 3 distinct units of 4
    params["b2"][3] = params["b2"][0]
    return params


def _data():
    rng = np.random.RandomState(8)
    X = rng.standard_normal((LAYERS[0], 9))
    return X, (rng.uniform(size=(1, 9)) > 0.5).astype(float)


def _direct(params, X, Y):
    """The statistics by their definitions, from a forward and backward pass written out in full."""
    L = len(params) // 2
    Z, A = {}, {0: X}
    for l in range(1, L + 1):
        Z[l] = params[f"W{l}"] @ A[l - 1] + params[f"b{l}"]
        A[l] = np.maximum(Z[l], 0) if l < L else 1 / (1 + np.exp(-Z[l]))
    m = X.shape[1]
    dZ = (A[L] - Y) / m
    dW = {}
    for l in range(L, 0, -1):
        dW[l] = dZ @ A[l - 1].T
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * (Z[l - 1] > 0)
    expected = {}
    for l in range(1, L + 1):
        z, a = Z[l].ravel(), A[l].ravel()
        n = z.size
        expected[f"z_mean_{l}"] = sum(z) / n
        expected[f"z_std_{l}"] = np.sqrt(sum((z - sum(z) / n) ** 2) / n)  # population std: all units x examples
        expected[f"z_sq_{l}"] = sum(z * z) / n
        expected[f"a_mean_{l}"] = sum(a) / n
        expected[f"a_std_{l}"] = np.sqrt(sum((a - sum(a) / n) ** 2) / n)
        expected[f"w_norm_{l}"] = np.sqrt((params[f"W{l}"] ** 2).sum())
        expected[f"grad_norm_{l}"] = np.sqrt((dW[l] ** 2).sum())
        if l < L:
            units = A[l].shape[0]
            expected[f"dead_{l}"] = sum(all(A[l][u] == 0) for u in range(units)) / units
            rows = {tuple(np.append(params[f"W{l}"][u], params[f"b{l}"][u])) for u in range(units)}
            expected[f"distinct_{l}"] = len(rows)
    return expected


def test_layer_statistics_equal_their_definitions():
    params, (X, Y) = _parameters(), _data()
    cache = Cache(LAYERS, X)
    forward(params, cache)
    grads = backward(Y, params, cache, new_grads(params))
    row = layer_statistics(params, cache, grads)
    expected = _direct(params, X, Y)
    assert sorted(row) == sorted(expected)
    assert sorted({key.rsplit("_", 1)[0] for key in row}) == sorted(STAT_NAMES)
    assert row["dead_1"] == 2 / 6 and row["distinct_1"] == 6 and row["distinct_2"] == 3
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_the_training_loop_records_the_statistics_of_the_parameters_it_reports():
    """Iteration 0: the initial parameters; the last row: the parameters after the last update."""
    params, (X, Y) = _parameters(), _data()
    result = train(X, Y, params, TrainSettings(0.5, 7, 5), records=[diagnostics])
    assert [row["iteration"] for row in result.history] == [0, 5, 7]
    for row, state in ((result.history[0], params), (result.history[-1], result.parameters)):
        expected = _direct(state, X, Y)
        assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert result.history[-1]["w_norm_1"] != result.history[0]["w_norm_1"]  # training moved the weights


@pytest.mark.parametrize("rows, expected", [
    ([[1.0, 2.0, 0.5], [1.0, 2.0, 0.5], [1.0, 2.0, 0.5]], 1),
    ([[1.0, 2.0, 0.5], [1.0, 2.0, -0.5], [1.0, 2.0, 0.5]], 2),  # differ only in the bias
    ([[1e6, 0.0, 0.0], [1e6 + 1e-5, 0.0, 0.0]], 1),  # compared relative to the largest magnitude:
    ([[1e-12, 0.0, 0.0], [2e-12, 0.0, 0.0]], 2),  # a relative difference of 1e-11 is rounding, one of 1 is not
    ([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], 1),
    ([[np.inf, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], 2),
])
def test_distinct_units(rows, expected):
    rows = np.array(rows)
    assert distinct_units(rows[:, :-1], rows[:, -1:]) == expected
