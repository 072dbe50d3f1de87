"""Figures comparing groups of runs, drawn from their run folders."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from nninit import runfolder
from nninit.compare import Run
from nninit.plots import draw_decision_boundary, new_figure, save_figure

MAX_SEEDS_SHOWN = 5


def _curves(runs: list[Run]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Iterations, and the mean, min and max cost over the runs that recorded each iteration."""
    iterations = sorted({int(i) for r in runs if r.history for i in r.history["iteration"]})
    table = np.full((len(runs), len(iterations)), np.nan)
    index = {it: j for j, it in enumerate(iterations)}
    for k, r in enumerate(runs):
        if r.history:
            for it, c in zip(r.history["iteration"], r.history["cost"]):
                table[k, index[int(it)]] = c if math.isfinite(c) else np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (iterations after a divergence)
        return np.array(iterations), np.nanmean(table, 0), np.nanmin(table, 0), np.nanmax(table, 0)


def plot_cost_curves(groups: dict[str, list[Run]], path: Path) -> None:
    """One line per group (mean over its runs) with a min–max band; log y-axis."""
    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    everything = []
    for label, runs in groups.items():
        it, mean, low, high = _curves(runs)
        if it.size == 0:
            continue
        (line,) = ax.plot(it, mean, label=f"{label} (n={len(runs)})")
        ax.fill_between(it, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        everything.append(high)
    values = np.concatenate(everything) if everything else np.array([])
    if values.size and np.nanmin(values) > 0:
        ax.set_yscale("log")
    ax.set(xlabel="iteration", ylabel="cost (cross-entropy, nats)", title="Cost: mean over seeds, band = min–max")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_accuracy(groups: dict[str, list[Run]], path: Path) -> None:
    """Train and test accuracy per group: one point per run, the mean as a bar."""
    labels = list(groups)
    fig = new_figure(max(6.0, 1.0 + 0.9 * len(labels)), 4.5)
    ax = fig.subplots()
    rng = np.random.RandomState(0)  # jitter only, fixed so that redrawing gives the same figure
    for offset, metric, color in ((-0.17, "train_accuracy", "tab:blue"), (0.17, "test_accuracy", "tab:orange")):
        for g, label in enumerate(labels):
            values = [r.value(metric) for r in groups[label] if r.metrics.get("status") == "completed"]
            values = [v for v in values if v is not None]
            if not values:
                continue
            x = g + offset + rng.uniform(-0.05, 0.05, len(values))
            ax.scatter(x, values, s=14, color=color, alpha=0.7,
                       label=metric.replace("_", " ") if g == 0 else None)
            ax.hlines(np.mean(values), g + offset - 0.12, g + offset + 0.12, color="k", linewidth=2)
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center", fontsize=8)
    ax.set(ylabel="accuracy", title="Accuracy per group (points: runs, bars: mean)")
    ax.set_ylim(min(0.4, ax.get_ylim()[0]), 1.02)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_decision_boundaries(groups: dict[str, list[Run]], path: Path) -> None:
    """A grid of decision boundaries: one row per group, its first seeds across."""
    labels = list(groups)
    cols = min(MAX_SEEDS_SHOWN, max(len(r) for r in groups.values()))
    fig = new_figure(2.3 * cols + 0.5, 2.3 * len(labels) + 0.3)
    axes = np.atleast_2d(fig.subplots(len(labels), cols, squeeze=False))
    for g, label in enumerate(labels):
        runs = groups[label]
        for c in range(cols):
            ax = axes[g, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(runs):
                ax.set_axis_off()
                continue
            run = runs[c]
            try:
                params = runfolder.load_arrays(run.path / runfolder.PARAMS_FINAL)
                data = runfolder.load_arrays(run.path / runfolder.DATA)
            except (OSError, ValueError):
                ax.text(0.5, 0.5, run.metrics.get("status", "?"), ha="center", va="center", transform=ax.transAxes)
                continue
            model = run.metrics.get("config", {}).get("model", {})
            draw_decision_boundary(ax, params, data["X_train"], data["Y_train"], model.get("activation", "relu"),
                                   model.get("negative_slope", 0.01), resolution=120, marker_size=4)
            acc = run.metrics.get("train_accuracy")
            status = run.metrics.get("status")
            ax.set_title(f"seed={run.config.get('seed')}: " + (f"{100 * acc:.0f}%" if acc is not None else status), fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    save_figure(fig, path)
