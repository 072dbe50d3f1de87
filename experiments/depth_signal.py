"""Depth and signal propagation: 50-layer networks at initialization, measured against the papers.

ReLU and tanh networks 50 hidden layers deep and 100 wide, at initialization (no training), for
xavier, he, lecun, orthogonal and lsuv over 5 seeds, plus He on ReLU at widths 250 and 500.
``python experiments/depth_signal.py`` (65 runs, about two minutes; add ``--launcher joblib``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common import load_runs, main, write_text
from nninit.plots import new_figure, save_figure

NAME = "depth_signal"
INITS = ("xavier", "he", "lecun", "orthogonal", "lsuv")
ACTIVATIONS = ("relu", "tanh")
DEPTH, WIDTH, WIDER = 50, 100, (250, 500)
SEEDS = "1,2,3,4,5"


def second_moments(run) -> np.ndarray:
    """E[z_l^2] for the hidden layers l = 1..depth at initialization (iteration 0)."""
    h = run.history
    depth = len(run.metrics["layers_dims"]) - 2
    return np.array([h[f"z_sq_{l}"][0] for l in range(1, depth + 1)])


def ratio_geomean(runs) -> float:
    """Geometric mean of E[z_l^2] / E[z_(l-1)^2] over layers 2..depth and all runs."""
    logs = [np.diff(np.log(second_moments(r))) for r in runs]
    return float(np.exp(np.mean(np.concatenate(logs)))) if logs else float("nan")


def within(value: float, target: float, rel: float) -> bool:
    return abs(value / target - 1) <= rel


def report(out: Path, depth: int = DEPTH, width: int = WIDTH) -> str:
    runs = load_runs(out, completed=True)
    groups: dict[tuple, list] = {}
    for r in runs:
        dims = r.metrics["layers_dims"][1:-1]
        groups.setdefault((r.metrics["init"], r.config["model.activation"], dims[0], len(dims)), []).append(r)
    lines = ["# Depth and signal propagation at initialization", "",
             "Fully connected networks on make_circles (300 examples), measured at initialization "
             "(`train.num_iterations=0`). `E[z²]` is the second moment of a layer's pre-activations over units "
             "and examples; the ratio is `E[z_l²] / E[z_(l−1)²]`, its geometric mean taken over layers 2–"
             f"{depth} and the seeds.", "",
             "| init | activation | width | seeds | ratio (geometric mean) | E[z²] layer 1 | E[z²] last hidden layer | "
             "std of last activations | dead units (last layer) |", "|---|---|---|---|---|---|---|---|---|"]
    for (init, act, w, d), members in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        sm = np.array([second_moments(r) for r in members])
        last = d
        a_std = np.mean([r.history[f"a_std_{last}"][0] for r in members])
        dead = np.mean([r.history[f"dead_{last}"][0] for r in members])
        lines.append(f"| {init} | {act} | {w} | {len(members)} | {ratio_geomean(members):.4f} | "
                     f"{sm[:, 0].mean():.3g} | {sm[:, -1].mean():.3g} | {a_std:.3g} | {100 * dead:.0f}% |")

    claims = []
    he = groups.get(("he", "relu", width, depth), [])
    xavier = groups.get(("xavier", "relu", width, depth), [])
    if he:
        g = ratio_geomean(he)
        claims.append((f"He on ReLU keeps the second moment: ratio {g:.4f}, within 5% of 1 (He et al. 2015, eq. 10)",
                       within(g, 1.0, 0.05)))
    if xavier:
        g = ratio_geomean(xavier)
        claims.append((f"Xavier on ReLU halves it at every layer: ratio {g:.4f}, within 5% of 1/2 "
                       f"(He et al. 2015, section 2.2: ReLU zeroes half the signal, Xavier does not make up for it)",
                       within(g, 0.5, 0.05)))
    spreads = []
    for w in sorted({k[2] for k in groups if k[0] == "he" and k[1] == "relu" and k[3] == depth}):
        members = groups[("he", "relu", w, depth)]
        if len(members) > 1:
            spreads.append((w, float(np.std([np.log(second_moments(r)[-1]) for r in members], ddof=1))))
    if len(spreads) > 1:
        text = ", ".join(f"{s:.3f} at width {w}" for w, s in spreads)
        shrinking = all(b[1] < a[1] for a, b in zip(spreads, spreads[1:]))
        claims.append((f"The seed-to-seed spread of log E[z²] in the last hidden layer (He, ReLU, depth {depth}) "
                       f"shrinks as the width grows: {text} (Hanin & Rolnick 2018: the variance of the log "
                       f"second moment grows like depth / width)", shrinking))
    lsuv = [r for (init, *_), members in groups.items() if init == "lsuv" for r in members]
    if lsuv:
        worst = max(abs(r.history[f"z_std_{l}"][0] ** 2 - 1) for r in lsuv
                    for l in range(1, len(r.metrics["layers_dims"])))
        tol = lsuv[0].config.get("init.tol", 0.1)
        passes = max(max(r.metrics.get("lsuv_passes", [0])) for r in lsuv)
        claims.append((f"After LSUV every layer's output variance is within {tol:g} of 1: worst |Var(z) − 1| = "
                       f"{worst:.2g} over {len(lsuv)} runs, at most {passes} rescaling passes per layer "
                       f"(Mishkin & Matas 2016)", worst < tol))
    lines += ["", "## The papers' claims, measured", ""]
    lines += [f"- **{'holds' if ok else 'does not hold'}**: {text}" for text, ok in claims]
    plot(groups, depth, width, out / "depth_signal.png")
    lines += ["", "![second moment by depth](depth_signal.png)", "",
              "Per-run folders (each with `signal_propagation.png`): [sweep/](sweep/), [width/](width/)."]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def plot(groups, depth: int, width: int, path: Path) -> None:
    fig = new_figure(13.0, 4.2)
    axes = fig.subplots(1, 3)
    for ax, act in zip(axes[:2], ACTIVATIONS):
        for init in INITS:
            members = groups.get((init, act, width, depth))
            if members:
                sm = np.array([second_moments(r) for r in members])
                ax.plot(range(1, depth + 1), np.exp(np.log(sm).mean(0)), label=init)
        ax.set(yscale="log", xlabel="hidden layer", ylabel="E[z²] (geometric mean over seeds)",
               title=f"{act}, width {width}")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
    ax = axes[2]
    widths = sorted({k[2] for k in groups if k[:2] == ("he", "relu") and k[3] == depth})
    for color, w in enumerate(widths):
        for i, r in enumerate(groups[("he", "relu", w, depth)]):
            ax.plot(range(1, depth + 1), second_moments(r), color=f"C{color}", alpha=0.6, linewidth=1,
                    label=f"width {w}" if i == 0 else None)
    ax.set(yscale="log", xlabel="hidden layer", ylabel="E[z²], one line per seed", title="He on ReLU: spread by width")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def sizes(args) -> tuple[int, int, tuple[int, ...], str]:
    """Depth, width, the wider widths and the seeds (smaller with ``--quick``)."""
    return (10, 20, (60,), "1,2,3") if args.quick else (DEPTH, WIDTH, WIDER, SEEDS)


def sweeps(args) -> list[tuple[list[str], str]]:
    depth, width, wider, seeds = sizes(args)
    at_init = ["train.num_iterations=0", f"seed={seeds}"]
    lists = ",".join(f"[{','.join([str(w)] * depth)}]" for w in wider)
    return [([f"init={','.join(INITS)}", f"model.activation={','.join(ACTIVATIONS)}",
              f"model.hidden_dims=[{','.join([str(width)] * depth)}]", *at_init], "sweep"),
            (["init=he", "model.activation=relu", f"model.hidden_dims=choice({lists})", *at_init], "width")]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, *sizes(args)[:2])))
