"""Figures of a classifier's test predictions, for any number of classes: the confusion matrix
(``confusion_matrix.png``) and, for image data (``digits``), a grid of test images with their
predicted labels (``predictions.png``). Both are drawn from a run folder's saved files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nninit.figures import style  # first: it imports matplotlib whatever MPLBACKEND says
from nninit.figures.style import new_figure
from nninit.numerics.activations import Activation
from nninit.numerics.network import predict
from nninit.numerics.outputs import class_of_labels

CLASS_COLORS_CMAP = "tab10"
"""Colours of the classes beyond two (matplotlib's qualitative map; it repeats after 10)."""


def class_colors(n_classes: int) -> tuple[list[str], list[str]]:
    """``(regions, points)``: a light and a strong colour per class. Two classes keep the figures'
    own pair (:data:`nninit.figures.style.REGION_COLORS`, ``POINT_COLORS``); more take ``tab10``, the
    regions mixed two parts in three with white."""
    if n_classes <= 2:
        return list(style.REGION_COLORS), list(style.POINT_COLORS)
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    strong = [np.array(colormaps[CLASS_COLORS_CMAP](k % 10)[:3]) for k in range(n_classes)]
    return [to_hex(c / 3 + 2 / 3) for c in strong], [to_hex(c) for c in strong]


def test_predictions(parameters: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, activation="relu",
                     negative_slope=0.01) -> tuple[np.ndarray, np.ndarray, int]:
    """``(true, predicted, n_classes)``: the class indices of the labels ``Y`` ((1, m) stored labels or
    one-hot (K, m)) and of the network's predictions on ``X``, and the number of classes (the output
    layer's units, 2 for one sigmoid unit)."""
    n_out = parameters[f"W{len(parameters) // 2}"].shape[0]
    with np.errstate(all="ignore"):
        predicted = predict(X, parameters, Activation(activation, negative_slope))[0]
    return class_of_labels(Y), predicted, max(n_out, 2)


def plot_confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int, path: Path, title: str,
                          class_names: list[str] | None = None) -> np.ndarray:
    """The confusion matrix of the test set: row = true class, column = predicted class, each cell its
    count (``sklearn.metrics.confusion_matrix``), shaded by the share of its row (recall on the diagonal).

    Parameters
    ----------
    true, predicted : ndarray of int, shape (m,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int
    path : Path
        The PNG to write.
    title : str
    class_names : list of str, optional
        Tick labels (default: the class indices).

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
        The counts drawn.
    """
    from sklearn.metrics import confusion_matrix

    counts = confusion_matrix(true, predicted, labels=np.arange(n_classes))
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.6 + 0.42 * n_classes
    fig = new_figure(size + 0.9, size)
    ax = fig.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8 if n_classes <= 10 else 6,
                color="white" if shares[i, j] > 0.6 else "black")
    names = class_names or [str(k) for k in range(n_classes)]
    ax.set_xticks(range(n_classes), names, fontsize=8)
    ax.set_yticks(range(n_classes), names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title}\ntest set: {counts.sum()} examples, accuracy {100 * accuracy:.1f}%", fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    style.save_figure(fig, path)
    return counts


def plot_prediction_grid(X: np.ndarray, true: np.ndarray, predicted: np.ndarray, image_shape: tuple[int, int],
                         path: Path, title: str, rows: int = 5, cols: int = 10) -> None:
    """The first ``rows * cols`` test examples as images (``X`` of shape (n_pixels, m), examples are
    columns), each titled with its predicted label, in red with the true one where they differ."""
    fig = new_figure(1.0 * cols, 1.15 * rows + 0.5, layout=None)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.5 / (1.15 * rows + 0.5), hspace=0.45)
    axes = np.atleast_2d(fig.subplots(rows, cols))
    for k, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if k >= X.shape[1]:
            continue
        ax.imshow(X[:, k].reshape(image_shape), cmap="gray_r", interpolation="nearest")
        wrong = predicted[k] != true[k]
        ax.set_title(f"{predicted[k]}" + (f" (true {true[k]})" if wrong else ""), fontsize=8,
                     color="#b2182b" if wrong else "black")
    fig.suptitle(f"{title}: predicted label of test images (red: wrong, with the true label)", fontsize=9)
    style.save_figure(fig, path)


def _images(metrics: dict, X_test: np.ndarray) -> np.ndarray:
    """The test inputs as images: a standardized run's test set drawn again without the standardization
    (the same stratified split: :func:`nninit.data.cache.cached_dataset`), so that pixels look like pixels."""
    data_cfg = metrics.get("config", {}).get("data", {})
    if not data_cfg.get("standardize"):
        return X_test
    from nninit.data.cache import cached_dataset

    return cached_dataset({**data_cfg, "standardize": False}).X_test


def plot_class_figures(run_dir: Path, metrics: dict, data: dict, parameters: dict, only: set[str]) -> list[Path]:
    """``confusion_matrix.png`` for a fixed (real) data set or more than two classes, and ``predictions.png``
    for image data (``digits``), from a run folder's arrays; none when the parameters are not finite
    (a diverged run predicts nothing). Returns the paths written. ``only``: ``confusion``, ``predictions``."""
    from nninit.data import DATASETS

    entry = DATASETS.get(metrics.get("config", {}).get("data", {}).get("name"))
    model = metrics["config"]["model"]
    if entry is None or not all(np.isfinite(p).all() for p in parameters.values()):
        return []
    true, predicted, n_classes = test_predictions(parameters, data["X_test"], data["Y_test"], model["activation"],
                                                  model["negative_slope"])
    label, written = style.run_label(metrics), []
    if "confusion" in only and (not entry.generated or n_classes > 2):
        plot_confusion_matrix(true, predicted, n_classes, run_dir / "confusion_matrix.png", label)
        written.append(run_dir / "confusion_matrix.png")
    if "predictions" in only and entry.image_shape is not None:
        plot_prediction_grid(_images(metrics, data["X_test"]), true, predicted, entry.image_shape,
                             run_dir / "predictions.png", label)
        written.append(run_dir / "predictions.png")
    return written
