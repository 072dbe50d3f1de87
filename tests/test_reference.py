"""The harness reproduces the numbers the seed notebook printed."""

import math

import numpy as np
import pytest

from conftest import compose
from nninit import runfolder
from nninit.experiment import run
from nninit.initializers import initialize_parameters


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


def test_initializers_leave_numpy_global_generator_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("init", ["he", "random", "zeros"])
def test_seed_runs_match_the_notebook(reference, init, tmp_path):
    expected = reference["runs"][init]
    metrics = run(compose([f"init={init}"]), tmp_path)
    history = runfolder.read_history(tmp_path / "history.csv")
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
