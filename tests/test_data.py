"""Data sets: the notebook's arrays, the other scikit-learn sets, standardization."""

import numpy as np
import pytest

from nninit.data import load_dataset


def test_circles_are_the_notebooks_arrays():
    # the notebook seeds numpy's global generator then calls make_circles without random_state
    from sklearn.datasets import make_circles

    state = np.random.get_state()
    try:
        np.random.seed(1)
        X, y = make_circles(n_samples=300, noise=0.05)
    finally:
        np.random.set_state(state)
    data = load_dataset("circles")
    assert np.array_equal(data.X_train, X.T) and np.array_equal(data.Y_train, y.reshape(1, -1))
    assert data.X_train.shape == (2, 300) and data.Y_test.shape == (1, 100)
    assert data.X_train.dtype == np.float64 and data.X_train.flags.c_contiguous


@pytest.mark.parametrize("name, kwargs", [("moons", {"noise": 0.2}), ("gaussian_quantiles", {"n_features": 3})])
def test_other_data_sets(name, kwargs):
    data = load_dataset(name, n_train=200, n_test=50, **kwargs)
    assert data.X_train.shape == (kwargs.get("n_features", 2), 200) and data.Y_test.shape == (1, 50)
    assert set(np.unique(data.Y_train)) == {0.0, 1.0}


def test_standardize_uses_the_training_statistics():
    raw = load_dataset("moons", noise=0.1)
    data = load_dataset("moons", noise=0.1, standardize=True)
    np.testing.assert_allclose(data.X_train.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=1), 1, rtol=1e-12)
    mean, std = raw.X_train.mean(axis=1, keepdims=True), raw.X_train.std(axis=1, keepdims=True)
    np.testing.assert_allclose(data.X_test, (raw.X_test - mean) / std, rtol=1e-12)


def test_unknown_data_set():
    with pytest.raises(ValueError, match="accepted: circles, moons, gaussian_quantiles"):
        load_dataset("spirals")
