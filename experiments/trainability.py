"""Trainability: how deep a tanh network can be and still learn digits, against the depth scale xi_c.

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017 ("Deep information propagation", section 5 and
Fig. 5) trained tanh networks of many depths over the (sigma_w^2, sigma_b^2) plane on MNIST and found
them trainable up to about 6 xi_c layers, xi_c the correlation depth scale of mean-field theory, which
diverges at the critical sigma_w^2 (the edge of chaos): deeper networks stay at chance. In small
here: tanh networks 64 wide on ``data=digits`` (8 x 8 images, 10 classes, chance 10 %), depths 2 to 128,
``W ~ N(0, sigma_w^2 / fan_in)`` and ``b ~ N(0, sigma_b^2)`` at sigma_b^2 = 0.05 (``init=variance_scaling
init.distribution=normal init.scale=sigma_w^2 init.bias_std=sigma_b``), sigma_w^2 from 1 to 4 with the
critical 1.761 (``theory.critical_weight_variance``), 4 seeds. Training: minibatch SGD with heavy-ball
momentum (``train.optimizer=momentum``, mu 0.9, batch 64, learning rate 0.001: a steady-state step of
0.01), 1000 updates (45 epochs), the same for every network. The learning rate is the largest tried at
which a 64-layer network at the critical sigma_w^2 learns (seed 1: 0.03, 0.003, 0.001 give 10 %, 19 %,
92 % test accuracy; with 0.01, a first full run, no 64-layer network learned at any sigma_w^2: 14-19 %):
the paper's question is whether depth, not the step size, stops training.
``python experiments/trainability.py --launcher joblib`` (140 runs, about 13 minutes on 2 busy cores).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from nninit.analysis import stats
from nninit.analysis.claims import decide, interval, verdict_of_all
from nninit.app.study import heading, load_runs, main, write_text
from nninit.figures.plots import new_figure, save_figure
from nninit.numerics import theory
from nninit.numerics.activations import TANH

NAME = "trainability"
BIAS_VARIANCE = 0.05
WIDTH = 64
WEIGHT_VARIANCES = (1.0, 1.3, round(theory.critical_weight_variance(TANH, BIAS_VARIANCE), 4), 3.0, 4.0)
DEPTHS = (2, 4, 8, 16, 32, 64, 128)
SEEDS = "1,2,3,4"
LEARNING_RATE, ITERATIONS, BATCH = 0.001, 1000, 64
QUICK = {"weight_variances": (1.0, WEIGHT_VARIANCES[2]), "depths": (2, 24), "seeds": "1,2", "iterations": 150}
BEYOND, FAILED = 6.0, 0.25
"""Deeper than ``BEYOND * xi_c`` a network should not learn: test accuracy at most ``FAILED`` (chance is 0.1)."""
LEARNED = 0.5
"""A network learns when its test accuracy is at least this (one within xi_c should)."""
PEAK_MARGIN = 0.5
"""The critical sigma_w^2 trains deeper than another when log2 of its trainable depth is larger by at least
this (half a step of the depth grid) on average over seeds, the whole interval."""


def xi_c(wv: float) -> float:
    return theory.depth_scales(TANH, wv, BIAS_VARIANCE).xi_c


def collect(runs) -> dict[tuple[float, int], dict[tuple, float]]:
    """``{(sigma_w^2, depth): {seed: test accuracy}}`` of the completed runs (a run that diverged counts as
    not learning: its accuracy is the majority rate)."""
    grid: dict[tuple[float, int], dict[tuple, float]] = {}
    for r in runs:
        depth = len(r.metrics.get("layers_dims", [])) - 2
        acc = r.value("test_accuracy") if r.completed else r.majority("test")
        grid.setdefault((float(r.config["init.scale"]), depth), {})[r.seed] = float(acc)
    return grid


def regions(grid) -> tuple[list, list]:
    """The cells ``(sigma_w^2, depth)`` of the grid deeper than ``BEYOND`` xi_c, and those within xi_c."""
    return ([(w, d) for (w, d) in sorted(grid) if d > BEYOND * xi_c(w)],
            [(w, d) for (w, d) in sorted(grid) if d <= xi_c(w)])


def cell_claim(grid, cells, band, name: str, quick: bool) -> tuple[str, str] | None:
    """Every cell of ``cells`` has its mean test accuracy in ``band``: one interval per cell (t, over seeds)."""
    if not cells:
        return None
    verdicts, parts = [], []
    for wv, d in cells:
        mean, low, high, n = interval(list(grid[(wv, d)].values()), stats.FRACTION)
        verdicts.append(decide(low, high, band, n, quick))
        parts.append(f"σ_w² {wv:g}, L {d}: {100 * mean:.0f} [{100 * low:.0f}, {100 * high:.0f}] %")
    return f"{name} ({len(cells)} cells; test accuracy, mean [95 % interval] over seeds): " + "; ".join(parts), \
        verdict_of_all(verdicts)


def trainable_depth(grid, wv: float) -> dict[tuple, float]:
    """Per seed, log2 of the deepest network of the grid at ``wv`` that learned (1 below the shallowest)."""
    depths = sorted(d for (w, d) in grid if w == wv)
    seeds = set.intersection(*(set(grid[(wv, d)]) for d in depths))
    return {s: math.log2(max([d for d in depths if grid[(wv, d)][s] >= LEARNED], default=depths[0] / 2))
            for s in seeds}


def peak_claim(grid, wvs, quick: bool) -> tuple[str, str] | None:
    """The critical sigma_w^2 trains deeper than every other one: per other sigma_w^2, the paired-by-seed
    difference of log2 trainable depth (critical minus it), its t interval above ``PEAK_MARGIN``."""
    critical = min(wvs, key=lambda w: abs(w - WEIGHT_VARIANCES[2]))
    if abs(critical - WEIGHT_VARIANCES[2]) > 1e-3 or len(wvs) < 2:
        return None
    at = {w: trainable_depth(grid, w) for w in wvs}
    verdicts, parts = [], []
    for w in wvs:
        if w == critical:
            continue
        seeds = sorted(set(at[critical]) & set(at[w]))
        mean, low, high, n = interval([at[critical][s] - at[w][s] for s in seeds])
        verdicts.append(decide(low, high, (PEAK_MARGIN, math.inf), n, quick))
        parts.append(f"σ_w² {w:g}: {mean:+.2f} [{low:+.2f}, {high:+.2f}], n={n}")
    depth = np.mean([2 ** v for v in at[critical].values()])
    return (f"The trainable depth peaks at the critical σ_w² = {critical:g}: log2 of the deepest network that learned "
            f"(test accuracy ≥ {LEARNED:g}), critical minus each other σ_w², paired by seed, is at least "
            f"{PEAK_MARGIN:g} (mean [95 % interval]): " + "; ".join(parts)
            + f" (at the critical σ_w² the deepest that learned: {depth:.0f} layers on average; the grid stops at "
            f"{max(d for (_, d) in grid)})", verdict_of_all(verdicts))


def report(out: Path, quick: bool = False) -> str:
    grid = collect(load_runs(out / "sweep", completed=False))
    wvs, depths = sorted({w for w, _ in grid}), sorted({d for _, d in grid})
    reduced = (f"σ_w² {', '.join(map(str, QUICK['weight_variances']))} instead of "
               f"{', '.join(map(str, WEIGHT_VARIANCES))}, depths {', '.join(map(str, QUICK['depths']))} instead of "
               f"{', '.join(map(str, DEPTHS))}, {QUICK['iterations']} updates instead of {ITERATIONS}, "
               f"{len(QUICK['seeds'].split(','))} seeds instead of {len(SEEDS.split(','))}")
    lines = heading("Trainability: the depth a tanh network learns at, against ξ_c (Schoenholz et al. 2017, in small)",
                    quick, reduced)
    lines += [f"Tanh networks {WIDTH} units wide, {', '.join(map(str, depths))} hidden layers deep, on `data=digits` "
              f"(1,437 training and 360 test images, 10 classes: chance is 10 %), `init=variance_scaling "
              f"init.distribution=normal init.scale=σ_w² init.bias_std=√{BIAS_VARIANCE:g}` (σ_b² = {BIAS_VARIANCE:g}), "
              f"trained by minibatch SGD with heavy-ball momentum (`train.optimizer=momentum`, μ 0.9, batch {BATCH}, "
              f"learning rate {LEARNING_RATE}) for the same number of updates. ξ_c is the theory's correlation depth "
              "scale (`nninit.numerics.theory.depth_scales`; Schoenholz et al. 2017, section 3), infinite at the "
              f"critical σ_w² = {WEIGHT_VARIANCES[2]:g}. The paper finds networks trainable up to about 6 ξ_c "
              "layers. Each cell is the test accuracy, mean over seeds.", "",
              "| σ_w² | ξ_c (theory) | 6 ξ_c | " + " | ".join(f"L = {d}" for d in depths) + " |",
              "|---|---|---|" + "---|" * len(depths)]
    for w in wvs:
        xi = xi_c(w)
        cells = [f"{100 * np.mean(list(grid[(w, d)].values())):.0f} %" if (w, d) in grid else "—" for d in depths]
        scales = ("∞ (critical)", "∞") if xi > 1e4 else (f"{xi:.3g}", f"{6 * xi:.3g}")
        lines.append(f"| {w:g} | {scales[0]} | {scales[1]} | " + " | ".join(cells) + " |")
    beyond, within = regions(grid)
    claims = [c for c in (
        cell_claim(grid, beyond, (0.0, FAILED), f"Networks deeper than {BEYOND:g} ξ_c do not learn (test accuracy at "
                   f"most {100 * FAILED:g} %, chance 10 %)", quick),
        cell_claim(grid, within, (LEARNED, 1.0), f"Networks within ξ_c (L ≤ ξ_c) learn (test accuracy at least "
                   f"{100 * LEARNED:g} %)", quick),
        peak_claim(grid, wvs, quick)) if c]
    lines += ["", "## The paper's claims, measured", ""]
    lines += [f"- **{verdict}**: {text}" for text, verdict in claims]
    deepest = [f"σ_w² {w:g}: {np.mean([2 ** v for v in trainable_depth(grid, w).values()]):.0f} (6 ξ_c = "
               f"{'∞' if xi_c(w) > 1e4 else f'{6 * xi_c(w):.3g}'})" for w in wvs]
    lines += ["", f"Described, not decided: the deepest network that learned (test accuracy ≥ {100 * LEARNED:g} %), "
              "mean over seeds, against 6 ξ_c: " + "; ".join(deepest) + "."]
    plot(grid, wvs, depths, out / "trainability.png")
    lines += ["", "![test accuracy over (σ_w², depth) with 6 ξ_c](trainability.png)", "",
              "Per-run folders and the sweep's summary: [sweep/summary.md](sweep/summary.md)."]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def _edges(values, log: bool) -> np.ndarray:
    v = np.log2(values) if log else np.asarray(values, dtype=float)
    step = np.diff(v) / 2 if v.size > 1 else np.array([0.5])
    edges = np.concatenate([[v[0] - step[0]], v[:-1] + step, [v[-1] + step[-1]]])
    return 2 ** edges if log else edges


def plot(grid, wvs, depths, path: Path) -> None:
    acc = np.array([[np.mean(list(grid[(w, d)].values())) if (w, d) in grid else np.nan for w in wvs]
                    for d in depths])
    fig = new_figure(7.0, 4.8)
    ax = fig.subplots()
    x_edges, y_edges = _edges(wvs, False), _edges(depths, True)
    mesh = ax.pcolormesh(x_edges, y_edges, acc, vmin=0.0, vmax=1.0, cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="test accuracy (mean over seeds)")
    fine = np.linspace(x_edges[0], x_edges[-1], 400)
    xi = np.array([xi_c(w) for w in fine])
    ax.plot(fine, np.minimum(6 * xi, 1e6), color="white", linewidth=2, label="6 ξ_c (theory)")
    ax.plot(fine, np.minimum(xi, 1e6), color="white", linestyle="--", linewidth=1, label="ξ_c (theory)")
    ax.axvline(WEIGHT_VARIANCES[2], color="red", linestyle=":", linewidth=1, label="critical σ_w²")
    ax.set(xlabel="σ_w² (weight variance × fan_in)", ylabel="hidden layers L", yscale="log",
           ylim=(y_edges[0], y_edges[-1]), xlim=(x_edges[0], x_edges[-1]),
           title=f"tanh, width {WIDTH}, σ_b² = {BIAS_VARIANCE:g}, digits")
    ax.set_yticks(depths, [str(d) for d in depths])
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path)


def sweeps(args) -> list[tuple[list[str], str]]:
    wvs, depths, seeds, iterations = ((QUICK["weight_variances"], QUICK["depths"], QUICK["seeds"], QUICK["iterations"])
                                      if args.quick else (WEIGHT_VARIANCES, DEPTHS, SEEDS, ITERATIONS))
    dims = ",".join(f"[{','.join([str(WIDTH)] * d)}]" for d in depths)
    return [(["data=digits", "init=variance_scaling", "init.distribution=normal", "init.mode=fan_in",
              f"init.scale={','.join(map(str, wvs))}", f"init.bias_std={math.sqrt(BIAS_VARIANCE)!r}",
              "model.activation=tanh", f"model.hidden_dims={dims}", "train.optimizer=momentum",
              f"train.batch_size={BATCH}", f"train.learning_rate={LEARNING_RATE}", f"train.num_iterations={iterations}",
              f"train.print_every={iterations}", "train.diagnostics=false", f"seed={seeds}"], "sweep")]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
