"""Data sets from scikit-learn in the notebook's layout: the generated toys, and the real sets of
:mod:`nninit.data.real`.

``X`` has shape ``(n_features, m)`` (examples are columns) and ``Y`` shape ``(1, m)`` for two classes
(one-hot ``(K, m)`` for K > 2), both float64. Each split of a generated set is drawn with its own seed
through scikit-learn's ``random_state``, which gives the same arrays as the notebook's
``numpy.random.seed(s)`` followed by an unseeded call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nninit.data.sets import DATASETS, GENERATED_SPLIT, as_columns, dataset_entry, one_hot


@dataclass
class Dataset:
    """Train and test splits. ``X_*``: (n_features, m) float64; ``Y_*``: (1, m) float64 in {0, 1} for
    two classes, one-hot (K, m) float64 for K > 2."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


CACHE_MAX_VALUES = 2_000_000
"""Splits up to this many values are kept for the process: the jobs of a sweep that a launcher runs
in one process (the basic launcher, a joblib worker) share their data instead of drawing it again."""


def _draw(name: str, n_samples: int, seed: int, options: dict):
    """A split as scikit-learn draws it, ``(X, y)``, read-only; kept for the process when small."""
    n_features = DATASETS[name].features(options)
    if n_samples * max(n_features, 2) <= CACHE_MAX_VALUES:
        return _draw_cached(name, n_samples, seed, tuple(sorted(options.items())))
    return DATASETS[name].make(n_samples, seed, **options)


@functools.lru_cache(maxsize=16)
def _draw_cached(name: str, n_samples: int, seed: int, options: tuple):
    X, y = DATASETS[name].make(n_samples, seed, **dict(options))
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_dataset(
    name: str = "circles",
    *,
    standardize: bool | None = None,
    **options,
) -> Dataset:
    """The train and test splits of a data set of :data:`nninit.data.sets.DATASETS`.

    Parameters
    ----------
    name : str, default='circles'
        A key of :data:`nninit.data.sets.DATASETS`.
        Generated: ``sklearn.datasets.make_circles``, ``make_moons`` or ``make_gaussian_quantiles``
        (two classes split by quantiles of the chi-squared distance to the origin), ``make_blobs``
        (three classes, :func:`nninit.data.sets.blobs`). Fixed (real):
        ``load_digits``, ``load_breast_cancer``, ``load_wine``, ``load_iris`` (:mod:`nninit.data.real`).
    standardize : bool or None, default=None
        Shift and scale every feature to zero mean and unit variance with the training split's
        statistics (the same transform is applied to the test split). None: the data set's default
        (off for the generated sets, as in the notebook; on for the real ones).
    **options
        A generated data set's split: ``n_train`` and ``n_test`` (300 and 100: the notebook's sizes),
        ``train_seed`` and ``test_seed`` (1 and 2: the notebook's ``random_state`` of each split); a fixed
        data set receives every option (its own split keys: ``n_test`` and ``split_seed``). Then the data
        set's own keys,
        defaults from its maker (:mod:`nninit.data.sets`): ``noise`` (0.05,
        circles and moons: standard deviation of the Gaussian noise, input units), ``factor`` (0.8,
        circles: inner radius / outer radius), ``n_features`` (2) and ``cov`` (1.0, the variance of
        each feature) for gaussian_quantiles.

    Returns
    -------
    Dataset
        With more than two classes, ``Y_train`` and ``Y_test`` are one-hot ``(K, m)``.

    Raises
    ------
    ValueError
        For an unknown ``name``.
    TypeError
        For an option the data set does not have.
    """
    entry = dataset_entry(name)
    if entry.generated:
        split = {**GENERATED_SPLIT, **{k: options.pop(k) for k in GENERATED_SPLIT if k in options}}
        splits = [a for n, seed in ((split["n_train"], split["train_seed"]), (split["n_test"], split["test_seed"]))
                  for a in as_columns(*_draw(name, n, seed, options))]
    else:  # a fixed data set with its own split
        X_train, y_train, X_test, y_test = entry.make(**options)
        splits = [*as_columns(X_train, y_train), *as_columns(X_test, y_test)]
    if entry.n_classes > 2:
        splits[1], splits[3] = one_hot(splits[1], entry.n_classes), one_hot(splits[3], entry.n_classes)
    data = Dataset(*splits)
    if entry.standardize if standardize is None else standardize:
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
