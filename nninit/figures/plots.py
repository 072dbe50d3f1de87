"""Figures of one run, drawn from the files in its run folder.

Uses matplotlib's object-oriented API (``matplotlib.figure.Figure`` with the Agg canvas), so no
global pyplot state is touched and no figure is left open. Import this module only to draw:
it imports matplotlib. Every function reads saved results, so a figure can be redrawn at any
time with :func:`plot_run` (or ``scripts/plots.py``) without retraining.

The run's own figures use a fixed layout (margins set once, no layout engine) and a modest DPI:
they are drawn for every run, so what they cost is part of what a user waits for.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np


def _import_matplotlib(env=os.environ) -> None:
    """Import matplotlib whatever ``MPLBACKEND`` says: nninit only writes files, on the Agg canvas
    whatever the backend, but matplotlib's import stops with a ValueError on a backend it does not
    know (``MPLBACKEND=inline`` outside Jupyter). Such a value is replaced by Agg, for this process
    and the ones it starts, with one warning naming it; a valid one is kept for the user's own plots."""
    if "matplotlib" in sys.modules:
        return
    backend = env.pop("MPLBACKEND", None)
    try:
        import matplotlib
    finally:
        if backend is not None:
            env["MPLBACKEND"] = backend
    if backend:
        try:
            matplotlib.rcParams["backend"] = backend  # what matplotlib's import does with MPLBACKEND
        except ValueError:
            env["MPLBACKEND"] = "agg"
            logging.getLogger(__name__).warning(
                "MPLBACKEND=%s is not a matplotlib backend; nninit draws its figures with Agg (it only "
                "writes files)", backend)


_import_matplotlib()
from matplotlib.colors import ListedColormap  # noqa: E402  (after the backend is checked)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from nninit.numerics.activations import Activation  # noqa: E402
from nninit.numerics.network import predict_proba  # noqa: E402
from nninit.record import runfolder  # noqa: E402

DPI = 100
REGION_COLORS = ("#f6c3a8", "#b9d7ea")  # predicted class 0, 1 (light)
POINT_COLORS = ("#b2182b", "#2166ac")  # label 0, 1 (strong)
GRID_FLOP_BUDGET = 5e9
"""Floating-point operations allowed for one decision-boundary grid; deep, wide networks get a coarser grid."""
LINE_STYLES = ("-", "--", ":", "-.")


def new_figure(width: float = 6.0, height: float = 4.0, *, layout: str | None = "constrained", dpi: int = DPI):
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, nothing to close). ``layout=None``
    for a fixed layout (faster: set the margins with ``fig.subplots_adjust``)."""
    return Figure(figsize=(width, height), layout=layout, dpi=dpi)


def warm_up() -> None:
    """Load what the first figure of a process would otherwise load while it is drawn: the font
    cache, the glyphs and the mathtext parser (about 0.1 s). A run's processes call it while they
    wait for something else."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = new_figure(1.0, 1.0, layout=None)
    fig.text(0.5, 0.5, "warm-up 0.1 $x_1$")
    FigureCanvasAgg(fig).draw()


def save_figure(fig, path: Path, dpi: int = DPI) -> None:
    """Write ``fig`` as a PNG atomically."""
    with warnings.catch_warnings():
        # many panels or long labels can leave no room for the layout engine; the figure is still drawn
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        runfolder.atomic_write(Path(path), lambda f: fig.savefig(f, format="png", dpi=dpi))


def spans_decades(values: np.ndarray) -> bool:
    """True when the positive finite ``values`` span more than a factor of 10 (use a log axis)."""
    v = values[np.isfinite(values) & (values > 0)]
    return v.size > 1 and v.max() / v.min() > 10.0


def group_styles(n: int) -> list[tuple[str, str]]:
    """``n`` distinguishable (colour, line style) pairs: tab10 up to 10, tab20 up to 20, then
    tab10 colours crossed with four line styles."""
    if n <= 10:
        return [(f"C{k}", "-") for k in range(n)]
    if n <= 20:
        from matplotlib import colormaps

        return [(colormaps["tab20"](k), "-") for k in range(n)]
    return [(f"C{k % 10}", LINE_STYLES[(k // 10) % len(LINE_STYLES)]) for k in range(n)]


def log_axis(ax, values: np.ndarray, axis: str = "y") -> None:
    """A log axis when ``values`` span decades; with plain decimal tick labels (0.2, 0.5, not
    2×10⁻¹) when they span fewer than three."""
    if not spans_decades(values):
        return
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    v = values[np.isfinite(values) & (values > 0)]
    if v.max() / v.min() < 1e3:
        target = ax.yaxis if axis == "y" else ax.xaxis
        target.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        target.set_minor_formatter(FuncFormatter(lambda x, _: f"{x:g}" if f"{x:.0e}"[0] in "25" else ""))


def plot_series(ax, x: np.ndarray, y: np.ndarray, **style) -> None:
    """A line with small markers; a single point is drawn as a point, with an axis around it."""
    if len(x) == 1:
        ax.plot(x, y, marker="o", linestyle="none", markersize=6, **{k: v for k, v in style.items() if k != "linestyle"})
        ax.set_xlim(x[0] - 1, x[0] + 1)
    else:
        ax.plot(x, y, marker="o" if len(x) <= 40 else None, markersize=2.5, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def run_label(metrics: dict) -> str:
    """How a run is named in titles: its ``name``, else the command-line overrides (what makes it
    differ from the defaults), else 'defaults'; with the status when it did not complete."""
    label = metrics.get("name") or " ".join(o for o in metrics.get("overrides", []) if not o.startswith("hydra"))
    label = label or f"init={metrics.get('init', '?')} (defaults)"
    if len(label) > 70:
        label = label[:67] + "..."
    status = metrics.get("status")
    return label if status in ("completed", "running", None) else f"{label} ({status})"


def plot_training(history: dict[str, np.ndarray], path: Path, title: str, chance: float | None = None) -> None:
    """Two panels over training: train and test cost, train and test accuracy (with the chance
    level, the majority-class rate, when given)."""
    fig = new_figure(10.0, 4.0, layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.83, wspace=0.22)
    ax_cost, ax_acc = fig.subplots(1, 2)
    it = history["iteration"]
    costs = [history[k] for k in ("cost", "test_cost") if k in history]
    plot_series(ax_cost, it, history["cost"], label="train", color="C0")
    if "test_cost" in history:
        plot_series(ax_cost, it, history["test_cost"], label="test", color="C1", linestyle="--")
    log_axis(ax_cost, np.concatenate(costs))
    ax_cost.set(xlabel="iteration", ylabel="cross-entropy (nats)", title="Cost")
    ax_cost.legend(fontsize=8)
    if "train_accuracy" in history:
        plot_series(ax_acc, it, 100 * history["train_accuracy"], label="train", color="C0")
        plot_series(ax_acc, it, 100 * history["test_accuracy"], label="test", color="C1", linestyle="--")
        if chance is not None:
            ax_acc.axhline(100 * chance, color="gray", linestyle=":", linewidth=1, label="chance (majority class)")
        ax_acc.set_ylim(min(40.0, ax_acc.get_ylim()[0]), 101)
        ax_acc.legend(fontsize=8, loc="lower right")
    else:
        ax_acc.text(0.5, 0.5, "accuracies not recorded\n(a run made before they were)", ha="center", va="center",
                    transform=ax_acc.transAxes)
    ax_acc.set(xlabel="iteration", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_cost, ax_acc):
        ax.grid(True, alpha=0.3, which="both")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def grid_resolution(parameters: dict[str, np.ndarray], largest: int = 250, smallest: int = 40) -> int:
    """Points per side of the decision-boundary grid that fit :data:`GRID_FLOP_BUDGET`."""
    flops_per_point = 2 * sum(W.size for key, W in parameters.items() if key.startswith("W"))
    return int(np.clip(np.sqrt(GRID_FLOP_BUDGET / max(flops_per_point, 1)), smallest, largest))


def _plane(X: np.ndarray, resolution: int, pad: float = 0.5):
    x_min, x_max = X[0].min() - pad, X[0].max() + pad
    y_min, y_max = X[1].min() - pad, X[1].max() + pad
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    return np.vstack([xx.ravel(), yy.ravel()]), (x_min, x_max, y_min, y_max), xx.shape


def _regions(parameters, grid, shape, activation, negative_slope) -> np.ndarray:
    """The predicted class on the grid (NaN where the parameters are not finite: left blank)."""
    if not all(np.isfinite(p).all() for p in parameters.values()):
        return np.full(shape, np.nan)
    return (predict_proba(grid, parameters, Activation(activation, negative_slope)) > 0.5).reshape(shape).astype(float)


def _scatter(ax, X, Y, *, marker_size: float, hollow: bool = False, which: str = "train") -> None:
    for label in (0, 1):
        on = Y.ravel() == label
        if hollow:
            ax.scatter(X[0, on], X[1, on], facecolors="none", edgecolors=POINT_COLORS[label], s=marker_size * 1.3,
                       linewidths=0.9, label=f"{which}, label {label}")
        else:
            ax.scatter(X[0, on], X[1, on], color=POINT_COLORS[label], s=marker_size, edgecolors="k", linewidths=0.3,
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
    drawn instead (:func:`draw_probability_histogram`). Test points, when given, are hollow.
    Non-finite parameters (a diverged run) leave the plane blank. The grid has at most
    ``resolution`` points per side, fewer for networks too large to evaluate that many
    (:func:`grid_resolution`). Returns the image of the regions (None without one).
    """
    if X.shape[0] != 2:
        draw_probability_histogram(ax, parameters, X, Y, activation, negative_slope, X_test=X_test, Y_test=Y_test)
        return None
    resolution = min(resolution, grid_resolution(parameters))
    both = X if X_test is None else np.hstack([X, X_test])
    grid, extent, shape = _plane(both, resolution)
    image = ax.imshow(_regions(parameters, grid, shape, activation, negative_slope), origin="lower", extent=extent,
                      cmap=ListedColormap(REGION_COLORS), vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    _scatter(ax, X, Y, marker_size=marker_size)
    if X_test is not None:
        _scatter(ax, X_test, Y_test, marker_size=marker_size, hollow=True, which="test")
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
    save_figure(fig, path)


class BoundaryAnimation:
    """``decision_boundary.gif``, one frame at a time: the predicted regions at a recorded
    iteration, with the train points and a caption (the iteration, cost and accuracies).

    matplotlib draws the figure once (axes, points, title) on a transparent canvas; each frame
    only evaluates the grid, paints the predicted classes into the axes' pixels under that
    layer and writes its caption, and Pillow (matplotlib's own image library) writes the GIF.
    Redrawing the whole figure for every frame, as matplotlib's animation writers do, cost
    about 55 ms a frame here; this costs a few. Frames can be added while the run trains
    (:class:`nninit.figures.plot_worker.FigureDrawer` does, on the other core) or afterwards from the
    saved snapshots (:func:`animate_decision_boundary`); the file is the same.

    Parameters
    ----------
    X, Y : ndarray
        The training inputs (2, m) and labels (1, m); only 2-d inputs are drawn.
    title : str
    first_parameters : dict of str to ndarray
        The parameters of the first frame (they set the grid's resolution).
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, title: str, first_parameters: dict[str, np.ndarray],
                 activation="relu", negative_slope=0.01, *, resolution: int = 96, ms_per_frame: int = 250):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image, ImageFont

        self.title, self.activation, self.negative_slope = title, activation, negative_slope
        self.ms_per_frame = ms_per_frame
        self.iterations: list[int] = []
        self.frames: list = []
        resolution = min(resolution, grid_resolution(first_parameters))
        self.grid, extent, self.shape = _plane(X, resolution)
        fig = new_figure(4.6, 4.8, layout=None, dpi=90)
        fig.patch.set_alpha(0.0)
        fig.subplots_adjust(left=0.03, right=0.97, bottom=0.03, top=0.86)
        ax = fig.subplots()
        ax.patch.set_visible(False)
        _scatter(ax, X, Y, marker_size=9)
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
        self.palette = np.array([[int(c[k:k + 2], 16) / 255 for k in (1, 3, 5)] for c in (*REGION_COLORS, "#ffffff")])
        self.layer = layer
        self.font = ImageFont.load_default(size=11)
        alpha = layer[..., 3:]
        # one palette for every frame, made from the layer over each region colour, so every colour is in it
        swatches = [layer[..., :3] * alpha + self.palette[k] * (1 - alpha) for k in range(3)]
        reference = Image.fromarray((np.hstack(swatches) * 255).round().astype(np.uint8))
        self.shared = reference.quantize(colors=64, method=Image.Quantize.MEDIANCUT)

    def add(self, iteration: int, parameters: dict[str, np.ndarray], row: dict | None = None) -> None:
        """Draw the frame of ``iteration``; ``row`` (its ``history.csv`` row) gives the caption's
        cost and accuracies."""
        from PIL import Image, ImageDraw

        x0, x1, y0, y1 = self.box
        regions = _regions(parameters, self.grid, self.shape, self.activation, self.negative_slope)
        classes = np.where(np.isnan(regions), 2, regions).astype(int)
        canvas = np.ones(self.layer.shape[:2] + (3,), dtype=np.float32)
        canvas[y0:y1, x0:x1] = self.palette[classes[np.ix_(self.rows, self.cols)]]
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
        runfolder.atomic_write(Path(path), lambda f: frames[0].save(f, format="GIF", save_all=True,
                                                                     append_images=frames[1:], duration=durations, loop=0))


def animate_decision_boundary(snapshots: dict[str, np.ndarray], history: dict[str, np.ndarray], data: dict, path: Path,
                              title: str, activation="relu", negative_slope=0.01, *, resolution: int = 96,
                              ms_per_frame: int = 250) -> None:
    """``decision_boundary.gif`` from a run's saved snapshots (:class:`BoundaryAnimation`).

    Parameters
    ----------
    snapshots : dict
        ``params_history.npz``: ``iteration`` (T,) and each parameter stacked, e.g. ``W1`` (T, n1, n0).
    history : dict
        ``history.csv`` columns (for the captions).
    data : dict
        ``data.npz`` arrays; nothing is drawn unless the inputs are 2-d.
    """
    X, Y = data["X_train"], data["Y_train"]
    if X.shape[0] != 2:
        return
    keys = [k for k in snapshots if k != "iteration"]
    animation = BoundaryAnimation(X, Y, title, {k: snapshots[k][0] for k in keys}, activation, negative_slope,
                                  resolution=resolution, ms_per_frame=ms_per_frame)
    by_iteration = {int(i): r for r, i in enumerate(history.get("iteration", []))}
    for t, i in enumerate(int(v) for v in snapshots["iteration"]):
        row = {k: history[k][by_iteration[i]] for k in history} if i in by_iteration else None
        animation.add(i, {k: snapshots[k][t] for k in keys}, row)
    animation.save(path)


def _layer_columns(history: dict[str, np.ndarray], stat: str) -> list[int]:
    prefix = f"{stat}_"
    return sorted(int(k[len(prefix):]) for k in history if k.startswith(prefix) and k[len(prefix):].isdigit())


def plot_signal_propagation(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Activation std and weight-gradient norm by layer depth, at initialization and at the end; the
    reference spread 1 spans the hidden layers only (the last point is the sigmoid output, whose
    spread cannot exceed 0.5)."""
    layers = _layer_columns(history, "a_std")
    fig = new_figure(9.5, 3.9, layout=None)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.8, wspace=0.25)
    axes = fig.subplots(1, 2)
    panels = ((axes[0], "a_std", "std of activations", "Activation spread by layer"),
              (axes[1], "grad_norm", "||dW|| (Frobenius)", "Weight gradient by layer"))
    for ax, stat, label, panel_title in panels:
        rows = (0, -1) if len(history["iteration"]) > 1 else (0,)
        for row, style in zip(rows, ("-", "--")):
            ax.plot(layers, [history[f"{stat}_{l}"][row] for l in layers], marker="o", markersize=3, linestyle=style,
                    label=f"iteration {int(history['iteration'][row])}")
        hidden = layers[:-1]  # the aim of a variance-preserving init; the sigmoid output's spread is at most 0.5
        if stat == "a_std" and hidden:
            ax.plot([hidden[0] - 0.3, hidden[-1] + 0.3], [1.0, 1.0], color="gray", linestyle=":", linewidth=1,
                    label="1 (unit spread, hidden layers)")
        log_axis(ax, np.concatenate([history[f"{stat}_{l}"] for l in layers]))
        ax.set(xlabel="layer (last = sigmoid output)", ylabel=label, title=panel_title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_layer_stats(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Per-layer statistics over training, one titled panel each: activation std (reference 1),
    gradient norm, fraction of dead units, distinct units. Up to 10 layers get a legend; more
    are coloured by depth (dark = first)."""
    fig = new_figure(10.0, 7.0, layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.89, wspace=0.2, hspace=0.38)
    axes = fig.subplots(2, 2).ravel()
    panels = (("a_std", "std of activations", "Activation spread"), ("grad_norm", "||dW||", "Weight gradient norm"),
              ("dead", "fraction of dead units", "Dead units (zero on every example)"),
              ("distinct", "distinct units", "Distinct units (1: symmetry never broken)"))
    it = history["iteration"]
    from matplotlib import colormaps

    for ax, (stat, label, panel_title) in zip(axes, panels):
        layers = _layer_columns(history, stat)
        many = len(layers) > 10
        for k, l in enumerate(layers):
            color = colormaps["viridis"](k / max(len(layers) - 1, 1)) if many else f"C{k}"
            plot_series(ax, it, history[f"{stat}_{l}"], label=None if many else f"layer {l}", color=color, linewidth=1)
        if stat == "a_std":
            ax.axhline(1.0, color="gray", linestyle=":", linewidth=1, label="1 (unit spread)")
        if stat in ("a_std", "grad_norm") and layers:
            log_axis(ax, np.concatenate([history[f"{stat}_{l}"] for l in layers]))
        if stat == "dead":
            ax.set_ylim(-0.03, 1.03)
        ax.set(xlabel="iteration", ylabel=label, title=panel_title)
        ax.title.set_fontsize(9)
        ax.grid(True, alpha=0.3)
        if not layers:
            ax.text(0.5, 0.5, "no hidden layer", ha="center", va="center", transform=ax.transAxes)
        elif many:
            ax.text(0.99, 0.02, f"colour: layer 1 (dark) … {layers[-1]} (light)", ha="right", va="bottom",
                    fontsize=7, transform=ax.transAxes)
        else:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


FIGURES = ("cost", "boundary", "signal", "layers", "animation")
"""The figures of a run, by name (``plot_run(..., only=...)``)."""


def plot_run(run_dir: Path, metrics: dict | None = None, *, animation: bool = False,
             only: set[str] | None = None, frames: BoundaryAnimation | None = None) -> list[Path]:
    """Draw every figure of a run folder from its saved files; returns the paths written.

    Writes ``cost.png`` (train and test cost, and the accuracies, over training) and
    ``decision_boundary.png``; when ``history.csv`` holds the diagnostics,
    ``signal_propagation.png`` and ``layer_stats.png``; with ``animation`` and a
    ``params_history.npz``, ``decision_boundary.gif``. ``metrics`` (the content of
    ``metrics.json``) is read from the folder unless given, as the run itself does before its
    final status is written. ``only`` restricts the drawing to some of :data:`FIGURES`.
    ``frames``: the animation's frames drawn while the run trained; used when they are those of
    the saved snapshots under the same title (else the animation is drawn from the snapshots).
    """
    run_dir = Path(run_dir)
    only = set(FIGURES) if only is None else set(only)
    metrics = runfolder.read_json(run_dir / runfolder.METRICS) if metrics is None else metrics
    history = runfolder.read_history(run_dir / runfolder.HISTORY)
    data = runfolder.load_arrays(run_dir / runfolder.DATA)
    model = metrics["config"]["model"]
    label = run_label(metrics)
    written = []
    Y = data["Y_train"]
    if history and "cost" in only:
        plot_training(history, run_dir / "cost.png", f"Training: {label}", chance=float(max(Y.mean(), 1 - Y.mean())))
        written.append(run_dir / "cost.png")

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    if "boundary" in only:
        params = runfolder.load_arrays(run_dir / runfolder.PARAMS_FINAL)
        title = f"{label}\ntrain {pct(metrics.get('train_accuracy'))}, test {pct(metrics.get('test_accuracy'))}"
        plot_decision_boundary(params, data["X_train"], Y, run_dir / "decision_boundary.png", title,
                               model["activation"], model["negative_slope"], X_test=data["X_test"], Y_test=data["Y_test"])
        written.append(run_dir / "decision_boundary.png")
    if history and _layer_columns(history, "a_std"):
        if "signal" in only:
            plot_signal_propagation(history, run_dir / "signal_propagation.png", f"Signal propagation: {label}")
            written.append(run_dir / "signal_propagation.png")
        if "layers" in only:
            plot_layer_stats(history, run_dir / "layer_stats.png", f"Layer statistics: {label}")
            written.append(run_dir / "layer_stats.png")
    if ("animation" in only and animation and (run_dir / runfolder.PARAMS_HISTORY).exists()
            and data["X_train"].shape[0] == 2):
        snapshots = runfolder.load_arrays(run_dir / runfolder.PARAMS_HISTORY)
        if (isinstance(frames, BoundaryAnimation) and frames.title == label
                and frames.iterations == [int(i) for i in snapshots["iteration"]]):
            frames.save(run_dir / "decision_boundary.gif")
        else:
            animate_decision_boundary(snapshots, history, data, run_dir / "decision_boundary.gif", label,
                                      model["activation"], model["negative_slope"])
        written.append(run_dir / "decision_boundary.gif")
    return written
