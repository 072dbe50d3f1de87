"""Figures comparing groups of runs, drawn from their run folders."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from nninit import runfolder
from nninit.compare import Run
from nninit.plots import draw_decision_boundary, new_figure, save_figure

MAX_SEEDS_SHOWN = 5


def _curves(runs: list[Run]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Iterations and the mean, min and max cost over a group's runs.

    Only completed runs with a history count, and only at the iterations every one of them
    recorded, so that each point of the curve averages the same runs. Returns also how many runs.
    """
    curves = [r.history for r in runs if r.metrics.get("status") == "completed" and r.history]
    if not curves:
        return np.array([]), np.array([]), np.array([]), np.array([]), 0
    common = set.intersection(*({int(i) for i in h["iteration"]} for h in curves))
    iterations = np.array(sorted(common))
    by_iteration = [dict(zip(h["iteration"].astype(int), h["cost"], strict=True)) for h in curves]
    table = np.array([[costs[i] for i in iterations] for costs in by_iteration])
    table[~np.isfinite(table)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column
        return iterations, np.nanmean(table, 0), np.nanmin(table, 0), np.nanmax(table, 0), len(curves)


def plot_cost_curves(groups: dict[str, list[Run]], path: Path) -> None:
    """One line per group (mean over its completed runs) with a min–max band; log y-axis.

    Diverged and failed runs are left out of the curves (the summary table counts them).
    """
    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    lowest = []
    for label, runs in groups.items():
        it, mean, low, high, n = _curves(runs)
        if it.size == 0:
            continue
        (line,) = ax.plot(it, mean, label=f"{label} (n={n})")
        ax.fill_between(it, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        lowest.append(np.nanmin(low))
    if lowest and min(lowest) > 0:
        ax.set_yscale("log")
    ax.set(xlabel="iteration", ylabel="cost (cross-entropy, nats)",
           title="Cost of completed runs: mean over seeds, band = min–max")
    ax.grid(True, alpha=0.3, which="both")
    if lowest:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no completed run", ha="center", va="center", transform=ax.transAxes)
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
            ax.scatter(x, values, s=14, color=color, alpha=0.7, label=metric.replace("_", " "))
            ax.hlines(np.mean(values), g + offset - 0.12, g + offset + 0.12, color="k", linewidth=2)
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center", fontsize=8)
    ax.set(ylabel="accuracy", title="Accuracy per group (points: runs, bars: mean)")
    ax.set_ylim(min(0.4, ax.get_ylim()[0]), 1.02)
    ax.grid(True, axis="y", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8)
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
            ax.set_title(f"seed={run.config.get('seed')}: " + (f"train {100 * acc:.0f}%" if acc is not None else status),
                         fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    save_figure(fig, path)
