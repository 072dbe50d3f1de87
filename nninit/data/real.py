"""Real data sets shipped with scikit-learn (no download): ``digits``, ``breast_cancer``, ``wine``, ``iris``.

Each is a fixed set of examples, split once into a training and a test set by
``sklearn.model_selection.train_test_split`` with ``stratify`` (every class keeps its share in both
splits) and its own seed, ``data.split_seed``; ``data.n_test`` examples go to the test set. The
registry entries (:data:`nninit.data.sets.DATASETS`) are made here by :func:`fixed_entry`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nninit.options import MAX_SEED, Key, boolean, integer


@dataclass(frozen=True)
class RealSet:
    """What a scikit-learn loader gives: ``loader`` (a function name in ``sklearn.datasets``), the
    number of examples, features and classes, the default ``n_test`` (about a fifth) and a summary."""

    loader: str
    n_examples: int
    n_features: int
    n_classes: int
    n_test: int
    summary: str
    image_shape: tuple[int, int] | None = None


REAL_SETS = {
    "digits": RealSet("load_digits", 1797, 64, 10, 360,
                      "8x8 images of handwritten digits, 10 classes (load_digits; UCI optdigits test set)", (8, 8)),
    "breast_cancer": RealSet("load_breast_cancer", 569, 30, 2, 114,
                             "breast cancer diagnosis from 30 cell-nucleus features, 2 classes (load_breast_cancer)"),
    "wine": RealSet("load_wine", 178, 13, 3, 36, "13 chemical measurements of wines from 3 cultivars (load_wine)"),
    "iris": RealSet("load_iris", 150, 4, 3, 30, "Fisher's iris flowers, 4 measurements, 3 species (load_iris)"),
}
"""The real data sets: name -> :class:`RealSet` (sizes as ``sklearn.datasets`` documents them)."""


def split_keys(real: RealSet) -> tuple[Key, ...]:
    """The keys of a real data set: ``n_test`` (at least one example of every class in each split, as
    a stratified split needs), ``split_seed`` and ``standardize``."""
    return (
        Key("n_test", integer(real.n_classes, real.n_examples - real.n_classes),
            f"test examples of the {real.n_examples} (stratified: each class keeps its share)"),
        Key("split_seed", integer(0, MAX_SEED), "random_state of the stratified train/test split"),
        Key("standardize", boolean(), "zero mean, unit variance per feature (fit on the training split)"),
    )


def split_maker(name: str):
    """The maker of a real data set: ``make(*, n_test, split_seed) -> (X_train, y_train, X_test, y_test)``
    in scikit-learn's layout (``X`` of shape (m, n_features), ``y`` (m,) of class indices).

    The split is ``train_test_split(X, y, test_size=n_test, stratify=y, random_state=split_seed)``
    (scikit-learn); scikit-learn is imported only when a set is made (it is slow to import).
    """
    real = REAL_SETS[name]

    def make(*, n_test: int = real.n_test, split_seed: int = 0):
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        X, y = getattr(datasets, real.loader)(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=n_test, stratify=y,
                                                            random_state=split_seed)
        return X_train, y_train, X_test, y_test

    make.__name__ = name
    make.__doc__ = f"``sklearn.datasets.{real.loader}``, split stratified (:func:`split_maker`)."
    return make


def split_sizes(name: str):
    """``sizes(data_cfg) -> (n_train, n_test)`` of a real data set (``n_test``: its default when missing)."""
    real = REAL_SETS[name]

    def sizes(data_cfg: dict) -> tuple[int, int]:
        n_test = data_cfg.get("n_test", real.n_test)
        return real.n_examples - n_test, n_test

    return sizes
