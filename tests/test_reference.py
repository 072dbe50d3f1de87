"""The harness reproduces the numbers the seed notebook printed."""

import math

import numpy as np
import pytest
from conftest import compose

from nninit.app.experiment import initial_parameters, run
from nninit.numerics.initializers import initialize_parameters
from nninit.record import runfolder


def _layers_dims(key: str) -> list[int]:
    # e.g. "he_layers_2_4_1_seed3" -> [2, 4, 1]
    part = key.split("layers_")[1].split("_seed")[0]
    return [int(n) for n in part.split("_")]


@pytest.mark.parametrize("key", ["random_x10_layers_3_2_1_seed3", "he_layers_2_4_1_seed3",
                                 "he_layers_3_1_2_seed3", "zeros_layers_3_2_1"])
def test_initializer_values_match_the_notebook(reference, key):
    expected = reference["initializer_outputs"][key]
    method = key.split("_")[0]
    options = {"scale": 10.0} if method == "random" else {}
    params = initialize_parameters(_layers_dims(key), method, np.random.RandomState(3), **options)
    for name, values in expected.items():
        np.testing.assert_allclose(params[name], np.array(values), rtol=0, atol=reference["initializer_atol"])


def _notebook_he(layers_dims):
    """The notebook's initialize_parameters_he, written out: np.random.seed(3), then per layer
    randn(n_l, n_(l-1)) * sqrt(2 / n_(l-1)) and zero biases."""
    rng = np.random.RandomState(3)
    params = {}
    for l in range(1, len(layers_dims)):
        params[f"W{l}"] = rng.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2.0 / layers_dims[l - 1])
        params[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return params


@pytest.mark.parametrize("gain", [None, "auto"])
@pytest.mark.parametrize("layers_dims", [[2, 10, 5, 1], [2, 4, 1], [3, 1, 2]])
def test_he_is_the_notebooks_bit_for_bit_also_with_gain_auto(circles, gain, layers_dims):
    # calculate_gain('relu')**2 is 2.0000000000000004: squaring it would change W2 of the seed network by one ulp
    cfg = compose(["init=he", f"init.gain={'null' if gain is None else gain}"])
    assert cfg["init"]["gain"] == gain and cfg["model"]["activation"] == "relu"
    params, _ = initial_parameters(cfg, layers_dims, circles.X_train)
    expected = _notebook_he(layers_dims)
    assert sorted(params) == sorted(expected)
    for name in expected:
        assert np.array_equal(params[name], expected[name]), name


def test_initializers_leave_numpy_global_generator_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    assert np.array_equal(np.random.get_state()[1], before)


def assert_matches_the_notebook(init: str, history: dict, metrics: dict, expected: dict) -> None:
    """A seed run (``history.csv`` read back, ``metrics.json``) against the costs and accuracies the
    notebook printed: every printed cost within the reference's ``cost_rtol`` (1e-9 relative for He,
    which does not depend on the order of a BLAS sum beyond its last bits; looser for the chaotic random
    x10 run, whose later costs differ by ~1e-3 between BLAS kernels), the accuracies exactly (a count of
    examples over 300 or 100, compared to 1e-12)."""
    costs = history["cost"][history["iteration"] < 15000]
    assert list(history["iteration"][:15]) == list(range(0, 15000, 1000))
    assert history["iteration"][-1] == 15000
    for got, want in zip(costs, expected["costs"]):
        if want is None:  # the notebook printed inf; the true cost is finite and large
            assert math.isfinite(got) and got > 100
        else:
            assert got == pytest.approx(want, rel=expected["cost_rtol"])
    assert metrics["status"] == "completed"
    assert metrics["train_accuracy"] == pytest.approx(expected["train_accuracy"], abs=1e-12)
    assert metrics["test_accuracy"] == pytest.approx(expected["test_accuracy"], abs=1e-12)
    if init == "zeros":
        np.testing.assert_allclose(history["cost"], math.log(2), rtol=1e-12)
        assert all(history[f"distinct_{l}"][-1] == 1 for l in (1, 2))  # symmetry never broken


@pytest.mark.parametrize("init", ["he", "random", "zeros"])
def test_seed_runs_match_the_notebook(reference, init, tmp_path):
    metrics = run(compose([f"init={init}"]), tmp_path)
    assert_matches_the_notebook(init, runfolder.read_history(tmp_path / "history.csv"), metrics,
                                reference["runs"][init])
