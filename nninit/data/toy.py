"""Toy two-class data sets from scikit-learn, in the notebook's layout.

``X`` has shape ``(n_features, m)`` (examples are columns) and ``Y`` shape ``(1, m)``, both
float64. Each split is drawn with its own seed through scikit-learn's ``random_state``, which
gives the same arrays as the notebook's ``numpy.random.seed(s)`` followed by an unseeded call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

DATASETS = ("circles", "moons", "gaussian_quantiles")
"""Accepted values of ``data.name`` (the ``data`` config group)."""


@dataclass
class Dataset:
    """Train and test splits. ``X_*``: (n_features, m) float64; ``Y_*``: (1, m) float64 in {0, 1}."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


CACHE_MAX_VALUES = 2_000_000
"""Splits up to this many values are kept for the process: the jobs of a sweep that a launcher runs
in one process (the basic launcher, a joblib worker) share their data instead of drawing it again."""


def _draw(name: str, n_samples: int, seed: int, noise: float, factor: float, n_features: int, cov: float):
    """A split as scikit-learn draws it, ``(X, y)``, read-only; kept for the process when small."""
    if n_samples * max(n_features, 2) <= CACHE_MAX_VALUES:
        return _draw_cached(name, n_samples, seed, noise, factor, n_features, cov)
    return _draw_uncached(name, n_samples, seed, noise, factor, n_features, cov)


@functools.lru_cache(maxsize=16)
def _draw_cached(*args):
    X, y = _draw_uncached(*args)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def _draw_uncached(name: str, n_samples: int, seed: int, noise: float, factor: float, n_features: int, cov: float):
    from sklearn import datasets  # imported here: scikit-learn is slow to import

    if name == "circles":
        return datasets.make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    if name == "moons":
        return datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    if name == "gaussian_quantiles":
        return datasets.make_gaussian_quantiles(
            n_samples=n_samples, n_features=n_features, cov=cov, n_classes=2, random_state=seed
        )
    raise ValueError(f"data={name!r} is not supported; accepted: {', '.join(DATASETS)}")


def load_dataset(
    name: str = "circles",
    *,
    n_train: int = 300,
    n_test: int = 100,
    noise: float = 0.05,
    train_seed: int = 1,
    test_seed: int = 2,
    factor: float = 0.8,
    n_features: int = 2,
    cov: float = 1.0,
    standardize: bool = False,
) -> Dataset:
    """Draw the train and test splits of a scikit-learn toy data set.

    Parameters
    ----------
    name : {'circles', 'moons', 'gaussian_quantiles'}, default='circles'
        ``sklearn.datasets.make_circles``, ``make_moons`` or ``make_gaussian_quantiles``
        (two classes split by quantiles of the chi-squared distance to the origin).
    n_train, n_test : int, default=300, 100
        Examples in each split (the notebook's sizes).
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to circles and moons (input units).
    train_seed, test_seed : int, default=1, 2
        ``random_state`` of each split (the notebook's seeds).
    factor : float, default=0.8
        Circles only: radius of the inner circle relative to the outer one.
    n_features : int, default=2
        Gaussian quantiles only.
    cov : float, default=1.0
        Gaussian quantiles only: the variance of each feature.
    standardize : bool, default=False
        Shift and scale every feature to zero mean and unit variance on the training split (the
        same transform is applied to the test split). Off by default, as in the notebook.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown ``name``.
    """
    splits = []
    for n, seed in ((n_train, train_seed), (n_test, test_seed)):
        X, y = _draw(name, n, seed, noise, factor, n_features, cov)
        splits += [np.ascontiguousarray(X.T, dtype=np.float64), y.reshape(1, -1).astype(np.float64)]
    data = Dataset(*splits)
    if standardize:
        mean = data.X_train.mean(axis=1, keepdims=True)
        std = data.X_train.std(axis=1, keepdims=True)
        std[std == 0] = 1.0
        data.X_train = (data.X_train - mean) / std
        data.X_test = (data.X_test - mean) / std
    return data


def make_dataset(data_cfg: dict) -> Dataset:
    """The data set described by the ``data`` config node (:func:`load_dataset` of its keys)."""
    options = {k: v for k, v in data_cfg.items() if k != "name"}
    return load_dataset(data_cfg["name"], **options)
