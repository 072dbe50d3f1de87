"""Figures of one run, drawn from the files in its run folder (:func:`plot_run`).

Every function reads saved results, so a figure can be redrawn at any time with :func:`plot_run`
(or ``scripts/plots.py``) without retraining. The run's own figures use a fixed layout (margins set
once, no layout engine) and a modest DPI: they are drawn for every run, so what they cost is part of
what a user waits for. The shared styles are in :mod:`nninit.figures.style`, the decision boundary
and its animation in :mod:`nninit.figures.boundary`; both are importable from here too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from nninit.data import majority_rate
from nninit.figures import style  # first: it imports matplotlib whatever MPLBACKEND says
from nninit.figures.boundary import (  # noqa: F401  (importable from here)
    GRID_FLOP_BUDGET,
    BoundaryAnimation,
    animate_decision_boundary,
    draw_decision_boundary,
    draw_probability_histogram,
    grid_resolution,
    n_classes_of,
    plot_decision_boundary,
)
from nninit.figures.classes import plot_class_figures
from nninit.figures.style import (  # noqa: F401  (importable from here)
    DPI,
    LINE_STYLES,
    POINT_COLORS,
    REGION_COLORS,
    MaxNLocator,
    group_styles,
    log_axis,
    new_figure,
    plot_series,
    run_label,
    save_figure,
    spans_decades,
    warm_up,
)
from nninit.record import runfolder

log = logging.getLogger(__name__)


def plot_training(history: dict[str, np.ndarray], path: Path, title: str, chance: float | None = None) -> None:
    """``cost.png``: the figure of :func:`training_figure`, saved to ``path``."""
    style.save_figure(training_figure(history, title, chance), path)


def training_figure(history: dict[str, np.ndarray], title: str, chance: float | None = None):
    """Two panels over training: train and test cost, train and test accuracy (with the chance
    level, the majority-class rate, when given). Returns the matplotlib ``Figure`` (no pyplot)."""
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
    return fig


def _layer_columns(history: dict[str, np.ndarray], stat: str) -> list[int]:
    prefix = f"{stat}_"
    return sorted(int(k[len(prefix):]) for k in history if k.startswith(prefix) and k[len(prefix):].isdigit())


def plot_signal_propagation(history: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Activation std and weight-gradient norm by layer depth, at initialization and at the end; the
    reference spread 1 spans the hidden layers only (the last point is the output, a sigmoid or softmax, whose
    spread cannot exceed 0.5)."""
    layers = _layer_columns(history, "a_std")
    fig = new_figure(9.5, 3.9, layout=None)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.8, wspace=0.25)
    axes = fig.subplots(1, 2)
    panels = ((axes[0], "a_std", "std of activations", "Activation spread by layer"),
              (axes[1], "grad_norm", "||dW|| (Frobenius)", "Weight gradient by layer"))
    for ax, stat, label, panel_title in panels:
        rows = (0, -1) if len(history["iteration"]) > 1 else (0,)
        for row, line in zip(rows, ("-", "--")):
            ax.plot(layers, [history[f"{stat}_{l}"][row] for l in layers], marker="o", markersize=3, linestyle=line,
                    label=f"iteration {int(history['iteration'][row])}")
        hidden = layers[:-1]  # the aim of a variance-preserving init; the sigmoid output's spread is at most 0.5
        if stat == "a_std" and hidden:
            ax.plot([hidden[0] - 0.3, hidden[-1] + 0.3], [1.0, 1.0], color="gray", linestyle=":", linewidth=1,
                    label="1 (unit spread, hidden layers)")
        log_axis(ax, np.concatenate([history[f"{stat}_{l}"] for l in layers]))
        ax.set(xlabel="layer (last = the output: sigmoid or softmax)", ylabel=label, title=panel_title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    style.save_figure(fig, path)


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
    style.save_figure(fig, path)


def _boundary(run_dir: Path, metrics: dict, data: dict, params: dict, label: str) -> list[Path]:
    """``decision_boundary.png`` for 2-d inputs or two classes; for others a note in the log, nothing drawn."""
    X, model = data["X_train"], metrics["config"]["model"]
    if X.shape[0] != 2 and n_classes_of(params) > 2:
        log.info("decision_boundary.png not drawn: a decision boundary is drawn for 2-d inputs, these are %d-d "
                 "with %d classes (see confusion_matrix.png)", X.shape[0], n_classes_of(params))
        return []

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    title = f"{label}\ntrain {pct(metrics.get('train_accuracy'))}, test {pct(metrics.get('test_accuracy'))}"
    plot_decision_boundary(params, X, data["Y_train"], run_dir / "decision_boundary.png", title,
                           model["activation"], model["negative_slope"], X_test=data["X_test"], Y_test=data["Y_test"])
    return [run_dir / "decision_boundary.png"]


FIGURES = ("cost", "boundary", "signal", "layers", "animation", "confusion", "predictions")
"""The figures of a run, by name (``plot_run(..., only=...)``)."""


def plot_run(run_dir: Path, metrics: dict | None = None, *, animation: bool = False,
             only: set[str] | None = None) -> list[Path]:
    """Draw every figure of a run folder from its saved files; returns the paths written.

    Writes ``cost.png`` (train and test cost, and the accuracies, over training) and
    ``decision_boundary.png`` (2-d inputs, or two classes; else a note in the log); ``confusion_matrix.png``
    (test set) for a fixed data set or more than two classes, ``predictions.png`` for images
    (:func:`nninit.figures.classes.plot_class_figures`); when ``history.csv`` holds the diagnostics,
    ``signal_propagation.png`` and ``layer_stats.png``; with ``animation`` and a
    ``boundary_frames.npz``, ``decision_boundary.gif``. ``metrics`` (the content of
    ``metrics.json``) is read from the folder unless given, as the run itself does before its
    final status is written. ``only`` restricts the drawing to some of :data:`FIGURES`.
    """
    run_dir = Path(run_dir)
    only = set(FIGURES) if only is None else set(only)
    metrics = runfolder.read_json(run_dir / runfolder.METRICS) if metrics is None else metrics
    history = runfolder.read_history(run_dir / runfolder.HISTORY)
    data = runfolder.load_arrays(run_dir / runfolder.DATA)
    label = run_label(metrics)
    written = []
    Y = data["Y_train"]
    if history and "cost" in only:
        plot_training(history, run_dir / "cost.png", f"Training: {label}", chance=majority_rate(Y))
        written.append(run_dir / "cost.png")

    params = runfolder.load_arrays(run_dir / runfolder.PARAMS_FINAL) if only & {"boundary", "confusion",
                                                                                "predictions"} else {}
    if "boundary" in only:
        written += _boundary(run_dir, metrics, data, params, label)
    if params:
        written += plot_class_figures(run_dir, metrics, data, params, only)
    if history and _layer_columns(history, "a_std"):
        if "signal" in only:
            plot_signal_propagation(history, run_dir / "signal_propagation.png", f"Signal propagation: {label}")
            written.append(run_dir / "signal_propagation.png")
        if "layers" in only:
            plot_layer_stats(history, run_dir / "layer_stats.png", f"Layer statistics: {label}")
            written.append(run_dir / "layer_stats.png")
    if ("animation" in only and animation and (run_dir / runfolder.BOUNDARY_FRAMES).exists()
            and data["X_train"].shape[0] == 2):
        animate_decision_boundary(runfolder.load_arrays(run_dir / runfolder.BOUNDARY_FRAMES), history, data,
                                  run_dir / "decision_boundary.gif", label)
        written.append(run_dir / "decision_boundary.gif")
    return written
