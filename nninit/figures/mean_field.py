"""Figures of the mean-field measurements (:mod:`nninit.analysis.mean_field`) over a grid of tanh networks.

Each function takes ``rows``: ``{(sigma_w^2, sigma_b^2): (members, scales, chi_1), ...}``, where ``members``
are the :func:`nninit.analysis.mean_field.measure` dicts of that grid point's seeds, ``scales`` its
:func:`nninit.numerics.theory.depth_scales` and ``chi_1`` the theory's; each writes one PNG to ``path``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nninit.analysis.mean_field import theory_curves
from nninit.figures.plots import POINT_COLORS, new_figure, save_figure
from nninit.numerics import theory
from nninit.numerics.activations import TANH
from nninit.numerics.network import output_preactivation
from nninit.record import runfolder

PICTURE_BIAS = 0.05
"""The bias variance of the layer-by-layer figure and of the decision regions."""


def picture_points(rows) -> list[tuple[str, float, float]]:
    """An ordered, the most nearly critical and a chaotic grid point at PICTURE_BIAS (or the nearest bias)."""
    bv = min({b for _, b in rows}, key=lambda b: abs(b - PICTURE_BIAS))
    row = sorted(w for w, b in rows if b == bv)
    target = theory.critical_weight_variance(TANH, bv)
    critical = min(row, key=lambda w: abs(w - target))
    return [("ordered", row[0], bv), ("near critical", critical, bv), ("chaotic", row[-1], bv)]


def plot_layers(rows, path: Path) -> None:
    """q_l and c_l layer by layer at an ordered, a near-critical and a chaotic grid point, measured (one line per
    seed, three pairs of inputs) beside the theory's curves (dashed)."""
    fig = new_figure(12.0, 4.2)
    ax_q, ax_c = fig.subplots(1, 2)
    for k, (phase, wv, bv) in enumerate(picture_points(rows)):
        members, _, _ = rows[(wv, bv)]
        layers, q_theory, c_theory = theory_curves(members[0], len(members[0]["q"]))
        color = f"C{k}"
        for n, m in enumerate(members):
            ax_q.plot(layers, m["q"], color=color, alpha=0.5, linewidth=1,
                      label=f"{phase}: σ_w² = {wv:g}, measured" if n == 0 else None)
        ax_q.plot(layers, q_theory, color=color, linestyle="--", linewidth=2, label="theory" if k == 0 else None)
        m = members[0]
        for p in range(c_theory.shape[1]):
            ax_c.plot(layers, m["c"][:, p], color=color, alpha=0.6, linewidth=1,
                      label=f"{phase}: σ_w² = {wv:g}" if p == 0 else None)
            ax_c.plot(layers, c_theory[:, p], color=color, linestyle="--", linewidth=1.5)
    ax_q.set(xlabel="hidden layer", ylabel="q_l = E[z²]", title=f"second moment (σ_b² = {bv:g}); dashed: theory")
    ax_c.set(xlabel="hidden layer", ylabel="c_l", title="correlation of three pairs of inputs; dashed: theory")
    for ax in (ax_q, ax_c):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def _edges(v) -> np.ndarray:
    v = np.asarray(v, float)
    if v.size == 1:
        return np.array([v[0] - 0.05 * max(v[0], 1.0), v[0] + 0.05 * max(v[0], 1.0)])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[max(0.0, v[0] - (mid[0] - v[0]))], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_phase_diagram(rows, path: Path) -> None:
    """The measured xi_c over the (sigma_w^2, sigma_b^2) grid as a heat map, with the theory's critical line and
    where LeCun, Xavier and He put a tanh network."""
    wvs, bvs = sorted({w for w, _ in rows}), sorted({b for _, b in rows})
    xi = np.full((len(bvs), len(wvs)), np.nan)
    for (w, b), (members, _, _) in rows.items():
        chi_c = float(np.mean([m["chi_c"] for m in members]))
        xi[bvs.index(b), wvs.index(w)] = -1 / math.log(chi_c) if chi_c < 1 else np.nan
    fig = new_figure(7.0, 4.8)
    ax = fig.subplots()
    bv_edges = _edges(bvs)
    mesh = ax.pcolormesh(_edges(wvs), bv_edges, np.log10(xi), cmap="viridis", shading="flat")
    fig.colorbar(mesh, ax=ax, label="log10 measured ξ_c (layers)")
    b_line = np.linspace(0.0, bv_edges[-1], 60)
    w_line = [theory.critical_weight_variance(TANH, b) for b in b_line]
    ax.plot(w_line, b_line, color="w", linewidth=2.5)
    ax.plot(w_line, b_line, color="k", linewidth=1.2, label="theory: χ₁ = 1 (edge of chaos)")
    for name, w, marker in (("LeCun, Xavier", 1.0, "o"), ("He", 2.0, "s"), ("Xavier, gain 5/3", 25 / 9, "^")):
        ax.plot([w], [0.0], marker=marker, color="r", markersize=8, linestyle="none", label=f"{name} (σ_b² = 0)",
                clip_on=False)
    ax.set(xlabel="σ_w² (weight variance × fan_in)", ylabel="σ_b² (bias variance)", ylim=(0, bv_edges[-1]),
           title="Measured ξ_c = −1/log χ_c: ordered left of the line, chaotic right")
    ax.legend(fontsize=7, loc="upper left")
    save_figure(fig, path)


def plot_regions(rows, path: Path, resolution: int = 150) -> None:
    """The output pre-activation of an ordered, a near-critical and a chaotic network over the input plane,
    centred on its median (the colour) with its zero contour: the decision regions the network would have
    if the output bias put the boundary at the median (the raw regions are often one class everywhere)."""
    points = picture_points(rows)
    fig = new_figure(4.2 * len(points), 4.0)
    axes = np.atleast_1d(fig.subplots(1, len(points)))
    for ax, (phase, wv, bv) in zip(axes, points):
        run = rows[(wv, bv)][0][0]["run"]
        params = runfolder.load_arrays(run.path / runfolder.PARAMS_INIT)
        data = runfolder.load_arrays(run.path / runfolder.DATA)
        X, Y = data["X_train"], data["Y_train"]
        lo, hi = X.min(axis=1) - 0.5, X.max(axis=1) + 0.5
        xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
        logit = output_preactivation(np.vstack([xx.ravel(), yy.ravel()]), params, TANH).ravel()
        z = (logit - np.median(logit)).reshape(xx.shape)
        top = np.max(np.abs(z)) or 1.0
        ax.imshow(z, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="RdBu", vmin=-top, vmax=top,
                  aspect="auto", interpolation="nearest")
        ax.contour(xx, yy, z, levels=[0.0], colors="k", linewidths=0.6)
        for label in (0, 1):
            on = Y.ravel() == label
            ax.scatter(X[0, on], X[1, on], color=POINT_COLORS[label], s=5, edgecolors="w", linewidths=0.2)
        ax.set(title=f"{phase}: σ_w² = {wv:g}, σ_b² = {bv:g}", xlabel="$x_1$", ylabel="$x_2$")
    save_figure(fig, path)
