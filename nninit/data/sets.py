"""The data sets a run can use (the ``data`` group): one maker and one registry entry each (:data:`DATASETS`).

Each entry says what its ``conf/data/<name>.yaml`` holds (its keys, each with its rule) and describes
the data set (:meth:`DatasetEntry.describe`: number of features and classes, generated or fixed), so that
nothing elsewhere guesses them. A new data set is its maker and its entry here, and its YAML file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nninit.data.real import REAL_SETS, split_keys, split_maker, split_sizes
from nninit.options import (
    MAX_SEED,
    ConfigError,
    Key,
    boolean,
    in_open_interval,
    integer,
    positive,
)


@dataclass(frozen=True)
class Description:
    """What a configured data set is: ``n_features`` inputs, ``n_classes`` classes, ``n_train`` and
    ``n_test`` examples; ``generated``: each split is drawn with its own seed (else the set is fixed,
    with its own train/test split)."""

    n_features: int
    n_classes: int
    n_train: int
    n_test: int
    generated: bool

    @property
    def n_outputs(self) -> int:
        """Units of the network's output layer: 1 (a sigmoid) for two classes, else ``n_classes`` (a softmax)."""
        return 1 if self.n_classes == 2 else self.n_classes


GENERATED_SPLIT = {"n_train": 300, "n_test": 100, "train_seed": 1, "test_seed": 2}
"""A generated data set's split keys (:data:`SEEDED_SPLITS`) and their defaults: the notebook's sizes and seeds."""


def seeded_sizes(data_cfg: dict) -> tuple[int, int]:
    """The sizes of the splits of a generated data set: ``data.n_train`` and ``data.n_test`` (their
    defaults, :data:`GENERATED_SPLIT`, where missing)."""
    return (data_cfg.get("n_train", GENERATED_SPLIT["n_train"]), data_cfg.get("n_test", GENERATED_SPLIT["n_test"]))


@dataclass(frozen=True)
class DatasetEntry:
    """One option of the ``data`` group.

    Attributes
    ----------
    make : callable
        Generated (``generated=True``): ``make(n_samples, seed, **options) -> (X, y)`` with ``X`` of
        shape (n_samples, n_features) and ``y`` (n_samples,), scikit-learn's layout; drawn once per
        split with ``train_seed`` and ``test_seed``. Fixed: ``make(**options) -> (X_train, y_train,
        X_test, y_test)`` in the same layout. ``options`` are the data set's own keys (not those of
        the split); its signature's defaults are the defaults of :func:`nninit.data.load_dataset`.
    keys : tuple of Key
        The keys of ``conf/data/<name>.yaml`` besides ``name``, in its order.
    summary : str
        One line for ``--help``.
    n_features : int or str
        The number of input features, or the key that sets it (default: ``make``'s default).
    n_classes : int, default=2
        With more than 2, labels are one-hot ``(n_classes, m)`` (:func:`one_hot`).
    generated : bool, default=True
    sizes : callable, default=seeded_sizes
        ``sizes(data_cfg) -> (n_train, n_test)``; a fixed data set gives its own.
    checks : tuple of callable
        Rules across keys: ``check(data)`` raises :class:`nninit.options.ConfigError`.
    standardize : bool, default=False
        The default of ``data.standardize`` (a real data set's features have units of their own: True).
    image_shape : tuple of int or None, default=None
        The shape of an example as an image (``digits``: (8, 8)); None for other data.
    """

    make: Callable
    keys: tuple[Key, ...]
    summary: str
    n_features: int | str = 2
    n_classes: int = 2
    generated: bool = True
    sizes: Callable[[dict], tuple[int, int]] = seeded_sizes
    checks: tuple[Callable[[dict], None], ...] = ()
    standardize: bool = False
    image_shape: tuple[int, int] | None = None

    def features(self, data_cfg: dict) -> int:
        """The number of input features with ``data_cfg`` (a missing key: the maker's default)."""
        if isinstance(self.n_features, int):
            return self.n_features
        return data_cfg.get(self.n_features, inspect.signature(self.make).parameters[self.n_features].default)

    def describe(self, data_cfg: dict) -> Description:
        """The description of this data set configured by ``data_cfg`` (a generated one needs ``n_train``
        and ``n_test``)."""
        return Description(self.features(data_cfg), self.n_classes, *self.sizes(data_cfg), self.generated)


# ---- the keys --------------------------------------------------------------------------
def _different_seeds(data: dict) -> None:
    if data.get("train_seed") is not None and data.get("train_seed") == data.get("test_seed"):
        raise ConfigError("data.test_seed", data["test_seed"],
                          f"must differ from data.train_seed={data['train_seed']}: the same seed draws the test set "
                          "from the same stream as the training set")


SEEDED_SPLITS = (
    Key("n_train", integer(2), "training examples"),
    Key("n_test", integer(2), "test examples"),
    Key("train_seed", integer(0, MAX_SEED), "random_state of the training split"),
    Key("test_seed", integer(0, MAX_SEED), "random_state of the test split (not the training split's)"),
    Key("standardize", boolean(), "zero mean, unit variance per feature (fit on the training split)"),
)
"""The keys of every generated data set: each split drawn with its own seed."""
NOISE = Key("noise", positive(allow_zero=True), "standard deviation of the Gaussian noise")


# ---- the makers (scikit-learn is imported inside: it is slow to import) -------------------
def circles(n_samples: int, seed: int, *, noise: float = 0.05, factor: float = 0.8):
    """``sklearn.datasets.make_circles``: two concentric noisy circles (the notebook's data)."""
    from sklearn import datasets

    return datasets.make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)


def moons(n_samples: int, seed: int, *, noise: float = 0.05):
    """``sklearn.datasets.make_moons``: two interleaving half circles."""
    from sklearn import datasets

    return datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)


def gaussian_quantiles(n_samples: int, seed: int, *, n_features: int = 2, cov: float = 1.0):
    """``sklearn.datasets.make_gaussian_quantiles`` with two classes: an inner ball and an outer shell
    of an isotropic Gaussian, split by quantiles of the distance to the origin."""
    from sklearn import datasets

    return datasets.make_gaussian_quantiles(
        n_samples=n_samples, n_features=n_features, cov=cov, n_classes=2, random_state=seed
    )


def blobs(n_samples: int, seed: int, *, cluster_std: float = 1.0):
    """``sklearn.datasets.make_blobs`` with three classes: isotropic Gaussian blobs around fixed centres
    at distance 3 from the origin, 120 degrees apart (fixed, so that both splits share them; the
    seed draws the points only)."""
    from sklearn import datasets

    angles = 2 * np.pi * np.arange(3) / 3 + np.pi / 2
    centers = 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    return datasets.make_blobs(n_samples=n_samples, centers=centers, cluster_std=cluster_std, random_state=seed)


DATASETS: dict[str, DatasetEntry] = {
    "circles": DatasetEntry(circles, (*SEEDED_SPLITS, NOISE, Key("factor", in_open_interval(0, 1), "inner radius / "
                                                                                             "outer radius")),
                       "two concentric noisy circles (make_circles; the notebook's data)", checks=(_different_seeds,)),
    "moons": DatasetEntry(moons, (*SEEDED_SPLITS, NOISE), "two interleaving half circles (make_moons)",
                     checks=(_different_seeds,)),
    "gaussian_quantiles": DatasetEntry(
        gaussian_quantiles,
        (*SEEDED_SPLITS, Key("n_features", integer(1), "input dimension"),
         Key("cov", positive(), "variance of each feature")),
        "an isotropic Gaussian split into a ball and a shell (make_gaussian_quantiles)",
        n_features="n_features", checks=(_different_seeds,)),
    "blobs": DatasetEntry(blobs, (*SEEDED_SPLITS, Key("cluster_std", positive(), "standard deviation of each blob")),
                          "three Gaussian blobs in the plane, 3 classes (make_blobs)", n_classes=3,
                          checks=(_different_seeds,)),
    **{name: DatasetEntry(split_maker(name), split_keys(real), real.summary, n_features=real.n_features,
                          n_classes=real.n_classes, generated=False, sizes=split_sizes(name), standardize=True,
                          image_shape=real.image_shape)
       for name, real in REAL_SETS.items()},
}
"""The options of the ``data`` group (one ``conf/data/<name>.yaml`` each): three generated two-class sets,
one generated three-class set, and the real sets of :mod:`nninit.data.real`."""


def describe(data_cfg: dict) -> Description:
    """The description of the data set of a ``data`` config node (number of features, classes, ...).

    Raises
    ------
    ValueError
        For an unknown ``data_cfg['name']``.
    """
    return dataset_entry(data_cfg["name"]).describe(data_cfg)


def dataset_entry(name: str) -> DatasetEntry:
    """``DATASETS[name]``; a ValueError listing the accepted names for an unknown one."""
    if name not in DATASETS:
        raise ValueError(f"data={name!r} is not supported; accepted: {', '.join(DATASETS)}")
    return DATASETS[name]


def as_columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``(m, n_features)`` and ``(m,)`` as the notebook's ``(n_features, m)`` and ``(1, m)``, float64."""
    return np.ascontiguousarray(X.T, dtype=np.float64), y.reshape(1, -1).astype(np.float64)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Class indices (any shape with ``m`` values in ``0 .. n_classes - 1``) as one-hot columns,
    float64 of shape ``(n_classes, m)``: the labels of a softmax output."""
    labels = np.asarray(labels).ravel().astype(np.int64)
    Y = np.zeros((n_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def stored_labels(Y: np.ndarray) -> np.ndarray:
    """Labels as a run folder keeps them (``data.npz``): two classes as they are, ``(1, m)`` float64 in
    {0, 1}; one-hot ``(K, m)`` as the class indices, int64 of shape ``(1, m)``."""
    return Y if Y.shape[0] == 1 else np.argmax(Y, axis=0).reshape(1, -1).astype(np.int64)


def majority_rate(Y: np.ndarray) -> float:
    """The accuracy of always predicting the most frequent class: labels ``(1, m)`` (in {0, 1}, or
    class indices as :func:`stored_labels` keeps them) or one-hot ``(K, m)``. Two classes:
    ``max(mean, 1 - mean)``, as before there were more."""
    if Y.shape[0] > 1:
        Y = np.argmax(Y, axis=0).reshape(1, -1)
    if Y.size and Y.max() > 1:
        return float(np.bincount(Y.ravel().astype(np.int64)).max() / Y.size)
    return float(max(Y.mean(), 1 - Y.mean()))
