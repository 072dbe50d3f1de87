"""The decision boundary of a run: the predicted regions over the plane with the examples
(``decision_boundary.png``), and their animation over training (``decision_boundary.gif``).
Inputs that are not 2-d get a histogram of the predicted probability per class instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nninit.figures import style  # first: it imports matplotlib whatever MPLBACKEND says
from nninit.figures.boundary_grid import (  # noqa: F401  (grid_resolution, GRID_FLOP_BUDGET: re-exported)
    BLANK,
    GRID_FLOP_BUDGET,
    grid_resolution,
    n_classes_of,
    plane,
    regions,
)
from nninit.figures.classes import class_colors
from nninit.figures.style import POINT_COLORS, ListedColormap, new_figure
from nninit.numerics.activations import Activation
from nninit.numerics.network import predict_proba
from nninit.numerics.outputs import class_of_labels
from nninit.record import runfolder


def _scatter(ax, X, Y, *, marker_size: float, hollow: bool = False, which: str = "train", n_classes: int = 2) -> None:
    """The examples of each class in its colour; ``Y`` as stored ((1, m) class indices) or one-hot (K, m)."""
    labels, colors = class_of_labels(Y), class_colors(n_classes)[1]
    for label in range(n_classes):
        on = labels == label
        if hollow:
            ax.scatter(X[0, on], X[1, on], facecolors="none", edgecolors=colors[label], s=marker_size * 1.3,
                       linewidths=0.9, label=f"{which}, label {label}")
        else:
            ax.scatter(X[0, on], X[1, on], color=colors[label], s=marker_size, edgecolors="k", linewidths=0.3,
                       label=f"{which}, label {label}")


def draw_probability_histogram(ax, parameters, X, Y, activation="relu", negative_slope=0.01, *, X_test=None,
                               Y_test=None) -> None:
    """For inputs that are not 2-d: the predicted probability of class 1, per true class (train
    filled, test outlined), with the decision threshold 0.5."""
    bins = np.linspace(0, 1, 26)
    finite = all(np.isfinite(p).all() for p in parameters.values())
    for X_, Y_, kind in ((X, Y, "train"), (X_test, Y_test, "test")):
        if X_ is None or not finite:
            continue
        p = predict_proba(X_, parameters, Activation(activation, negative_slope)).ravel()
        for label in (0, 1):
            on = Y_.ravel() == label
            ax.hist(p[on], bins=bins, histtype="stepfilled" if kind == "train" else "step", alpha=0.5 if kind == "train"
                    else 1.0, color=POINT_COLORS[label], linewidth=1.2, label=f"{kind}, label {label}")
    ax.axvline(0.5, color="k", linestyle=":", linewidth=1)
    ax.set(xlabel="predicted probability of class 1", ylabel="examples",
           title=f"{X.shape[0]}-d inputs: predictions per class")


def draw_decision_boundary(ax, parameters, X, Y, activation="relu", negative_slope=0.01, *,
                           resolution: int = 250, marker_size: float = 12, X_test=None, Y_test=None):
    """Shade the predicted class over the plane and scatter the examples on ``ax``.

    ``X`` is ``(2, m)``; for other input sizes the predicted-probability histogram per class is
    drawn instead (:func:`draw_probability_histogram`) for two classes, and a note for more. Each
    class has its colour (:func:`nninit.figures.classes.class_colors`). Test points, when given, are hollow.
    Non-finite parameters (a diverged run) leave the plane blank. The grid has at most
    ``resolution`` points per side, fewer for networks too large to evaluate that many
    (:func:`grid_resolution`). Returns the image of the regions (None without one).
    """
    K = n_classes_of(parameters)
    if X.shape[0] != 2 and K > 2:
        ax.text(0.5, 0.5, f"{X.shape[0]}-d inputs, {K} classes:\nno decision boundary", ha="center", va="center",
                fontsize=8, transform=ax.transAxes)
        return None
    if X.shape[0] != 2:
        draw_probability_histogram(ax, parameters, X, Y, activation, negative_slope, X_test=X_test, Y_test=Y_test)
        return None
    resolution = min(resolution, grid_resolution(parameters))
    both = X if X_test is None else np.hstack([X, X_test])
    grid, extent, shape = plane(both, resolution)
    image = ax.imshow(regions(parameters, grid, shape, activation, negative_slope), origin="lower", extent=extent,
                      cmap=ListedColormap(class_colors(K)[0]), vmin=0, vmax=K - 1, aspect="auto",
                      interpolation="nearest")
    _scatter(ax, X, Y, marker_size=marker_size, n_classes=K)
    if X_test is not None:
        _scatter(ax, X_test, Y_test, marker_size=marker_size, hollow=True, which="test", n_classes=K)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    return image


def plot_decision_boundary(parameters, X, Y, path: Path, title: str, activation="relu", negative_slope=0.01, *,
                           X_test=None, Y_test=None) -> None:
    """The predicted regions with the training points (filled) and test points (hollow) over them."""
    fig = new_figure(5.5, 5.2, layout=None)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.1, top=0.9)
    ax = fig.subplots()
    draw_decision_boundary(ax, parameters, X, Y, activation, negative_slope, X_test=X_test, Y_test=Y_test)
    ax.set_title(title, fontsize=9)
    if X.shape[0] == 2:
        ax.set(xlabel="$x_1$", ylabel="$x_2$")
        ax.legend(loc="upper right", fontsize=7, title="shade = predicted class", title_fontsize=7, framealpha=0.85)
    else:
        ax.legend(fontsize=7)
    style.save_figure(fig, path)


class BoundaryAnimation:
    """``decision_boundary.gif``, one frame at a time: the predicted regions at a recorded
    iteration, with the train points and a caption (the iteration, cost and accuracies).

    matplotlib draws the figure once (axes, points, title) on a transparent canvas; each frame
    only paints the predicted classes (a grid of :class:`nninit.figures.boundary_grid.BoundaryFrames`)
    into the axes' pixels under that layer and writes its caption, and Pillow (matplotlib's own image
    library) writes the GIF. Redrawing the whole figure for every frame, as matplotlib's animation
    writers do, cost about 55 ms a frame here; this costs a few.

    Parameters
    ----------
    X, Y : ndarray
        The training inputs (2, m) and labels ((1, m), or one-hot (K, m)); only 2-d inputs are drawn.
    title : str
    resolution : int
        Grid points per side of the frames' class grids.
    n_classes : int, default=2
        The classes the frames hold (a colour each).
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, title: str, resolution: int, *, n_classes: int = 2,
                 ms_per_frame: int = 250):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image, ImageFont

        self.title, self.ms_per_frame = title, ms_per_frame
        self.iterations: list[int] = []
        self.frames: list = []
        _, extent, self.shape = plane(X, resolution)
        fig = new_figure(4.6, 4.8, layout=None, dpi=90)
        fig.patch.set_alpha(0.0)
        fig.subplots_adjust(left=0.03, right=0.97, bottom=0.03, top=0.86)
        ax = fig.subplots()
        ax.patch.set_visible(False)
        _scatter(ax, X, Y, marker_size=9, n_classes=n_classes)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xticks([])
        ax.set_yticks([])
        fig.suptitle(title, fontsize=8)
        canvas_agg = FigureCanvasAgg(fig)
        canvas_agg.draw()
        layer = np.asarray(canvas_agg.buffer_rgba(), dtype=np.float32) / 255.0  # (H, W, 4), row 0 at the top
        self.height = layer.shape[0]
        box = ax.get_window_extent()
        x0, x1 = int(round(box.x0)), int(round(box.x1))
        y0, y1 = self.height - int(round(box.y1)), self.height - int(round(box.y0))
        self.box = (x0, x1, y0, y1)
        self.rows = (np.arange(y1 - y0)[::-1] * self.shape[0]) // (y1 - y0)  # nearest grid row for each pixel row
        self.cols = (np.arange(x1 - x0) * self.shape[1]) // (x1 - x0)
        shades = (*class_colors(n_classes)[0], "#ffffff")  # a colour per class, white where not finite (BLANK)
        self.palette = np.array([[int(c[k:k + 2], 16) / 255 for k in (1, 3, 5)] for c in shades])
        self.index = np.arange(256)  # a frame's class -> its palette row: 0..K-1 themselves, BLANK the white
        self.index[BLANK] = n_classes
        self.layer = layer
        self.font = ImageFont.load_default(size=11)
        alpha = layer[..., 3:]
        # one palette for every frame, made from the layer over each region colour, so every colour is in it
        swatches = [layer[..., :3] * alpha + self.palette[k] * (1 - alpha) for k in range(len(self.palette))]
        reference = Image.fromarray((np.hstack(swatches) * 255).round().astype(np.uint8))
        self.shared = reference.quantize(colors=64, method=Image.Quantize.MEDIANCUT)

    def add(self, iteration: int, classes: np.ndarray, row: dict | None = None) -> None:
        """Paint the frame of ``iteration`` from its class grid (r, r) of 0 to K - 1 and
        :data:`~nninit.figures.boundary_grid.BLANK`; ``row`` (its ``history.csv`` row) gives the caption's
        cost and accuracies."""
        from PIL import Image, ImageDraw

        x0, x1, y0, y1 = self.box
        canvas = np.ones(self.layer.shape[:2] + (3,), dtype=np.float32)
        pixel_classes = np.asarray(classes, dtype=np.intp)[np.ix_(self.rows, self.cols)]
        canvas[y0:y1, x0:x1] = self.palette[self.index[pixel_classes]]
        alpha = self.layer[..., 3:]
        pixels = (self.layer[..., :3] * alpha + canvas * (1 - alpha)) * 255
        image = Image.fromarray(pixels.round().astype(np.uint8))
        text = f"iteration {iteration}"
        if row is not None:
            text += f": cost {row['cost']:.4g}"
            if "train_accuracy" in row:
                text += f", train {100 * row['train_accuracy']:.0f}%, test {100 * row['test_accuracy']:.0f}%"
        ImageDraw.Draw(image).text((image.width // 2, int(0.105 * self.height)), text, fill=(0, 0, 0), font=self.font,
                                   anchor="mm")
        self.iterations.append(int(iteration))
        self.frames.append(image.quantize(palette=self.shared, dither=Image.Dither.NONE))

    def save(self, path: Path) -> None:
        """Write the GIF (atomically); the last frame rests four times as long."""
        frames = self.frames
        durations = [self.ms_per_frame] * (len(frames) - 1) + [4 * self.ms_per_frame]
        runfolder.atomic_write(Path(path), lambda f: frames[0].save(
            f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0))


def animate_decision_boundary(frames: dict[str, np.ndarray], history: dict[str, np.ndarray], data: dict, path: Path,
                              title: str, *, ms_per_frame: int = 250) -> None:
    """``decision_boundary.gif`` from a run's saved frames (:class:`BoundaryAnimation`).

    Parameters
    ----------
    frames : dict
        ``boundary_frames.npz`` (:meth:`nninit.figures.boundary_grid.BoundaryFrames.arrays`): ``iteration`` (T,)
        and ``classes`` (T, r, r), and ``n_classes`` (2 where absent).
    history : dict
        ``history.csv`` columns (for the captions).
    data : dict
        ``data.npz`` arrays; nothing is drawn unless the inputs are 2-d.
    """
    X, Y = data["X_train"], data["Y_train"]
    if X.shape[0] != 2 or not len(frames["iteration"]):
        return
    n_classes = int(frames["n_classes"]) if "n_classes" in frames else 2
    animation = BoundaryAnimation(X, Y, title, frames["classes"].shape[1], n_classes=n_classes,
                                  ms_per_frame=ms_per_frame)
    by_iteration = {int(i): r for r, i in enumerate(history.get("iteration", []))}
    for i, classes in zip((int(v) for v in frames["iteration"]), frames["classes"]):
        row = {k: history[k][by_iteration[i]] for k in history} if i in by_iteration else None
        animation.add(i, classes, row)
    animation.save(path)
