"""Figures of one run, drawn from the files in its run folder.

Uses matplotlib's object-oriented API (``matplotlib.figure.Figure`` with the Agg canvas), so no
global pyplot state is touched and no figure is left open. Import this module only to draw:
it imports matplotlib. Every function reads saved results,
so a figure can be redrawn at any time with :func:`plot_run` without retraining.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nninit import runfolder
from nninit.network import predict_proba


def new_figure(width: float = 6.0, height: float = 4.0):
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, nothing to close)."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, path: Path) -> None:
    """Write ``fig`` as a PNG atomically."""
    with warnings.catch_warnings():
        # many panels or long labels can leave no room for the layout engine; the figure is still drawn
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        runfolder.atomic_write(Path(path), lambda f: fig.savefig(f, format="png", dpi=110))


def spans_decades(values: np.ndarray) -> bool:
    """True when the positive finite ``values`` span more than a factor of 10 (use a log axis)."""
    v = values[np.isfinite(values) & (values > 0)]
    return v.size > 1 and v.max() / v.min() > 10.0


def plot_cost(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Cost against iteration; log y-axis when the cost spans decades."""
    fig = new_figure()
    ax = fig.subplots()
    ax.plot(history["iteration"], history["cost"], marker="o", markersize=3)
    if spans_decades(history["cost"]):
        ax.set_yscale("log")
    ax.set(xlabel="iteration", ylabel="cost (cross-entropy, nats)", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    save_figure(fig, path)


REGION_COLORS = ("#f6c3a8", "#b9d7ea")  # predicted class 0, 1 (light)
POINT_COLORS = ("#b2182b", "#2166ac")  # label 0, 1 (strong)
GRID_FLOP_BUDGET = 5e9
"""Floating-point operations allowed for one decision-boundary grid; deep, wide networks get a coarser grid."""


def grid_resolution(parameters: dict[str, np.ndarray], largest: int = 250, smallest: int = 40) -> int:
    """Points per side of the decision-boundary grid that fit :data:`GRID_FLOP_BUDGET`."""
    flops_per_point = 2 * sum(W.size for key, W in parameters.items() if key.startswith("W"))
    return int(np.clip(np.sqrt(GRID_FLOP_BUDGET / max(flops_per_point, 1)), smallest, largest))


def draw_decision_boundary(ax, parameters, X, Y, activation="relu", negative_slope=0.01, *,
                           resolution: int = 250, marker_size: float = 12) -> None:
    """Shade the predicted class over the plane and scatter the examples on ``ax``.

    ``X`` is ``(2, m)``; for other input sizes nothing is drawn but a note. Non-finite
    parameters (a diverged run) leave the plane blank. The grid has at most ``resolution``
    points per side, fewer for networks too large to evaluate that many (:func:`grid_resolution`).
    """
    resolution = min(resolution, grid_resolution(parameters))
    if X.shape[0] != 2:
        ax.text(0.5, 0.5, f"{X.shape[0]}-d inputs:\nno 2-d boundary", ha="center", va="center")
        return
    pad = 0.5
    x_min, x_max = X[0].min() - pad, X[0].max() + pad
    y_min, y_max = X[1].min() - pad, X[1].max() + pad
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    if all(np.isfinite(p).all() for p in parameters.values()):
        proba = predict_proba(grid, parameters, activation, negative_slope)
        regions = (proba > 0.5).reshape(xx.shape).astype(float)  # class per grid point
        ax.imshow(regions, origin="lower", extent=(x_min, x_max, y_min, y_max), cmap=ListedColormap(REGION_COLORS),
                  vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for label in (0, 1):
        on = Y.ravel() == label
        ax.scatter(X[0, on], X[1, on], color=POINT_COLORS[label], s=marker_size, edgecolors="k", linewidths=0.3,
                   label=f"label {label}")
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)


def plot_decision_boundary(parameters, X, Y, path: Path, title: str, activation="relu", negative_slope=0.01) -> None:
    """The predicted regions with the training points over them, as in the notebook."""
    fig = new_figure(5.5, 5.0)
    ax = fig.subplots()
    draw_decision_boundary(ax, parameters, X, Y, activation, negative_slope)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    if X.shape[0] == 2:
        ax.legend(loc="upper right", fontsize=8, title="training points; shade = prediction", title_fontsize=7)
    save_figure(fig, path)


def _layer_columns(history: dict[str, np.ndarray], stat: str) -> list[int]:
    prefix = f"{stat}_"
    return sorted(int(k[len(prefix):]) for k in history if k.startswith(prefix) and k[len(prefix):].isdigit())


def plot_signal_propagation(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Activation std and weight-gradient norm by layer depth, at initialization and at the end."""
    layers = _layer_columns(history, "a_std")
    fig = new_figure(9.0, 3.8)
    axes = fig.subplots(1, 2)
    for ax, stat, label in ((axes[0], "a_std", "std of activations"), (axes[1], "grad_norm", "||dW|| (Frobenius)")):
        for row, name in ((0, f"iteration {int(history['iteration'][0])}"), (-1, f"iteration {int(history['iteration'][-1])}")):
            ax.plot(layers, [history[f"{stat}_{l}"][row] for l in layers], marker="o", markersize=3, label=name)
        values = np.concatenate([history[f"{stat}_{l}"] for l in layers])
        if spans_decades(values):
            ax.set_yscale("log")
        ax.set(xlabel="layer (last = sigmoid output)", ylabel=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    save_figure(fig, path)


def plot_layer_stats(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Per-layer statistics over training: activation std, gradient norm, dead fraction, distinct units."""
    fig = new_figure(10.0, 7.0)
    axes = fig.subplots(2, 2).ravel()
    panels = (("a_std", "std of activations"), ("grad_norm", "||dW||"), ("dead", "fraction of dead units"),
              ("distinct", "distinct units"))
    it = history["iteration"]
    for ax, (stat, label) in zip(axes, panels):
        layers = _layer_columns(history, stat)
        for l in layers:
            ax.plot(it, history[f"{stat}_{l}"], label=f"layer {l}", linewidth=1)
        if stat in ("a_std", "grad_norm") and layers and spans_decades(np.concatenate([history[f"{stat}_{l}"] for l in layers])):
            ax.set_yscale("log")
        ax.set(xlabel="iteration", ylabel=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if 0 < len(layers) <= 8:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_run(run_dir: Path, metrics: dict | None = None) -> list[Path]:
    """Draw every figure of a run folder from its saved files; returns the paths written.

    Writes ``cost.png`` and ``decision_boundary.png``, and, when ``history.csv`` holds the
    diagnostics, ``signal_propagation.png`` and ``layer_stats.png``. ``metrics`` (the content of
    ``metrics.json``) is read from the folder unless given, as the run itself does before its
    final status is written.
    """
    run_dir = Path(run_dir)
    metrics = runfolder.read_json(run_dir / runfolder.METRICS) if metrics is None else metrics
    history = runfolder.read_history(run_dir / runfolder.HISTORY)
    params = runfolder.load_arrays(run_dir / runfolder.PARAMS_FINAL)
    data = runfolder.load_arrays(run_dir / runfolder.DATA)
    model = metrics["config"]["model"]
    init = metrics["init"]
    status = "" if metrics["status"] == "completed" else f" ({metrics['status']})"
    written = []
    if history:
        plot_cost(history, run_dir / "cost.png", f"Cost, init={init}{status}")
        written.append(run_dir / "cost.png")

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    title = f"init={init}: train {pct(metrics['train_accuracy'])}, test {pct(metrics['test_accuracy'])}{status}"
    plot_decision_boundary(params, data["X_train"], data["Y_train"], run_dir / "decision_boundary.png", title,
                           model["activation"], model["negative_slope"])
    written.append(run_dir / "decision_boundary.png")
    if history and _layer_columns(history, "a_std"):
        plot_signal_propagation(history, run_dir / "signal_propagation.png", f"Signal propagation, init={init}{status}")
        plot_layer_stats(history, run_dir / "layer_stats.png", f"Layer statistics, init={init}{status}")
        written += [run_dir / "signal_propagation.png", run_dir / "layer_stats.png"]
    return written
