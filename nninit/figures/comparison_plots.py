"""Figures comparing groups of runs, drawn from their run folders and their statistics.

Imports the run reader (:mod:`nninit.record.runs`) and the statistics' result types only; nothing
imports back, so :mod:`nninit.analysis.compare` draws through this module without a cycle.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from nninit.analysis.stats import Difference
from nninit.figures.plots import (
    draw_decision_boundary,
    group_styles,
    log_axis,
    new_figure,
    plot_series,
    save_figure,
)
from nninit.record import runfolder
from nninit.record.runs import Run

log = logging.getLogger(__name__)

MAX_SEEDS_SHOWN = 5


def _curves(runs: list[Run]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Iterations and the mean, min and max cost over a group's runs.

    Only completed runs with a history count, and only at the iterations every one of them
    recorded, so that each point of the curve averages the same runs. Returns also how many runs.
    """
    curves = [h for r in runs if r.metrics.get("status") == "completed" and (h := r.columns(("iteration", "cost")))]
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
    """One line per group (mean over its completed runs) with a min–max band; log y-axis when the
    costs span decades. Distinct colours and line styles for up to 40 groups; a group with one
    recorded iteration is drawn as a point. Diverged and failed runs are left out of the curves
    (the summary table counts them)."""
    fig = new_figure(8.0, 5.0, layout=None)  # one panel, the legend inside: a fixed layout
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.1, top=0.93)
    ax = fig.subplots()
    lowest, values = [], []
    styles = group_styles(len(groups))
    for (label, runs), (color, linestyle) in zip(groups.items(), styles, strict=True):
        it, mean, low, high, n = _curves(runs)
        if it.size == 0:
            continue
        plot_series(ax, it, mean, label=f"{label} (n={n})", color=color, linestyle=linestyle)
        if it.size > 1:
            ax.fill_between(it, low, high, color=color, alpha=0.15, linewidth=0)
        lowest.append(np.nanmin(low))
        values.append(np.concatenate([low, high]))
    if values:
        log_axis(ax, np.concatenate(values))
    ax.set(xlabel="iteration", ylabel="cost (cross-entropy, nats)",
           title="Cost of completed runs: mean over seeds, band = min–max")
    ax.grid(True, alpha=0.3, which="both")
    if lowest:
        ax.legend(fontsize=7, ncols=1 if len(lowest) <= 12 else 2)
    else:
        ax.text(0.5, 0.5, "no completed run", ha="center", va="center", transform=ax.transAxes)
    save_figure(fig, path)


def plot_accuracy(summaries, path: Path) -> None:
    """Train and test accuracy per group: one point per seed, the mean with its 95 % interval as an
    error bar, and the chance level (majority class of the test set) as a dashed segment.

    Parameters
    ----------
    summaries : list of nninit.analysis.compare.GroupSummary
        Need ``label``, ``runs``, ``values`` and ``estimates`` of ``train_accuracy`` and
        ``test_accuracy`` (a missing metric is skipped).
    """
    labels = [s.label for s in summaries]
    fig = new_figure(max(6.0, 1.0 + 0.9 * len(labels)), 4.5)
    ax = fig.subplots()
    rng = np.random.RandomState(0)  # jitter only, fixed so that redrawing gives the same figure
    for offset, metric, color in ((-0.17, "train_accuracy", "tab:blue"), (0.17, "test_accuracy", "tab:orange")):
        for g, s in enumerate(summaries):
            values = list(s.values.get(metric, {}).values())
            if not values:
                continue
            x = g + offset + rng.uniform(-0.05, 0.05, len(values))
            ax.scatter(x, values, s=14, color=color, alpha=0.5, label=metric.replace("_", " ") + " (one per seed)")
            e = s.estimates[metric]
            low, high = (e.ci_low, e.ci_high) if np.isfinite(e.ci_low) else (e.mean, e.mean)
            # never negative, even for a mean a rounding error outside its clipped interval
            yerr = np.maximum([[e.mean - low], [high - e.mean]], 0.0)
            ax.errorbar(g + offset, e.mean, yerr=yerr, fmt="D", color="k", ms=4,
                        capsize=4, linewidth=1.5, label="mean, 95 % interval")
    for g, s in enumerate(summaries):
        chance = [r.majority("test") for r in s.runs if r.completed][:1]
        if chance:
            ax.hlines(chance[0], g - 0.4, g + 0.4, colors="gray", linestyles="--", linewidth=1,
                      label="chance (majority class of the test set)")
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0,
                  ha="right" if len(labels) > 3 else "center", fontsize=8)
    ax.set(ylabel="accuracy", title="Accuracy per group: seeds, mean with 95 % interval, chance")
    ax.set_ylim(min(0.4, ax.get_ylim()[0]), 1.02)
    ax.grid(True, axis="y", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="best", framealpha=0.9)
    save_figure(fig, path)


VERDICT_COLORS = {"better": "tab:green", "worse": "tab:red", "higher": "tab:blue", "lower": "tab:purple",
                  "indistinguishable": "tab:gray", "too_few_runs": "tab:olive"}


def plot_differences(diffs: list[Difference], metric: str, reference: str, path: Path, *, quick: bool = False) -> None:
    """A forest plot: each group's difference from ``reference`` in ``metric`` (other − reference)
    with its 95 % interval, coloured by verdict, and the line of no difference."""
    rows = []
    for d in diffs:
        if d.metric != metric or reference not in (d.group_a, d.group_b):
            continue
        flip = d.group_a == reference
        other = d.group_b if flip else d.group_a
        s = -1.0 if flip else 1.0
        low, high = sorted((s * d.ci_low, s * d.ci_high))
        if d.verdict in ("indistinguishable", "too_few_runs"):
            kind = d.verdict
        else:
            other_wins = d.verdict.startswith("b_") if flip else d.verdict.startswith("a_")
            kind = ("higher" if other_wins else "lower") if d.verdict.endswith("_higher") else \
                ("better" if other_wins else "worse")
        rows.append((other, s * d.difference, low, high, kind, d.n_a if not flip else d.n_b))
    scale = 100.0 if metric.endswith("accuracy") else 1.0
    fig = new_figure(7.5, 1.5 + 0.5 * max(1, len(rows)))
    ax = fig.subplots()
    for y, (_other, diff, low, high, kind, _n) in enumerate(rows):
        color = VERDICT_COLORS[kind]
        if np.isfinite(low):
            ax.hlines(y, scale * low, scale * high, color=color, linewidth=2.5)
        ax.plot(scale * diff, y, "o", color=color, label=kind.replace("_", " "))
    ax.axvline(0.0, color="k", linewidth=1)
    ax.set_yticks(range(len(rows)), [f"{r[0]} (n={r[5]})" for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.4, -0.6)  # first group on top, room above and below
    unit = " (percentage points)" if scale == 100 else ""
    ax.set(xlabel=f"{metric.replace('_', ' ')}: group − {reference}{unit}",
           title=f"Difference from {reference}, 95 % interval" + (" (quick run: decides nothing)" if quick else ""))
    ax.grid(True, axis="x", alpha=0.3)
    if rows:
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="best", framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "one group: nothing to compare", ha="center", va="center", transform=ax.transAxes)
    save_figure(fig, path)


def plot_decision_boundaries(groups: dict[str, list[Run]], path: Path) -> None:
    """A grid of decision boundaries: one row per group, its first seeds across."""
    labels = list(groups)
    cols = min(MAX_SEEDS_SHOWN, max(len(r) for r in groups.values()))
    width, height = 2.3 * cols + 0.5, 2.3 * len(labels) + 0.3
    fig = new_figure(width, height, layout=None)  # panels of a fixed size: margins in inches, no layout engine
    fig.subplots_adjust(left=0.3 / width, right=1 - 0.05 / width, bottom=0.05 / height, top=1 - 0.25 / height,
                        wspace=0.08, hspace=0.14)
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
            acc, status = run.metrics.get("train_accuracy"), run.metrics.get("status")
            ax.set_title(f"seed={run.config.get('seed')}: " + (f"train {100 * acc:.0f}%" if acc is not None else
                                                               str(status)), fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            try:
                params = runfolder.load_arrays(run.path / runfolder.PARAMS_FINAL)
                data = runfolder.load_arrays(run.path / runfolder.DATA)
            except (OSError, ValueError) as error:  # a run without its arrays (stopped early, a copy cut short)
                ax.text(0.5, 0.5, f"{status}\n(no arrays to draw)", ha="center", va="center", transform=ax.transAxes,
                        fontsize=8)
                if run.completed:  # a completed run keeps its arrays: one missing or unreadable is news
                    log.warning("%s: no decision boundary for %s (%s)", path.name, run.path, error)
                continue
            model = run.metrics.get("config", {}).get("model", {})
            draw_decision_boundary(ax, params, data["X_train"], data["Y_train"], model.get("activation", "relu"),
                                   model.get("negative_slope", 0.01), resolution=120, marker_size=4)
    save_figure(fig, path)
