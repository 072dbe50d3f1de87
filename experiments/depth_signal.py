"""Depth and signal propagation: 50-layer networks at initialization, measured against the papers.

ReLU and tanh networks 50 hidden layers deep and 100 wide, at initialization (no training), for
xavier, he, lecun, orthogonal and lsuv over 5 seeds, plus He on ReLU at widths 100, 250 and 500
over 30 seeds (the spread between seeds is the quantity measured there: five seeds cannot
separate spreads that differ by a factor of two, thirty do in about 9 cases of 10).
``python experiments/depth_signal.py`` (135 runs, a few minutes; add ``--launcher joblib``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps

from nninit.analysis import stats
from nninit.analysis.claims import decide, quick_verdict, verdict_of_test
from nninit.app.study import heading, load_runs, main, write_text
from nninit.figures.plots import new_figure, save_figure
from nninit.record.runs import deduplicate

NAME = "depth_signal"
INITS = ("xavier", "he", "lecun", "orthogonal", "lsuv")
ACTIVATIONS = ("relu", "tanh")
DEPTH, WIDTH, WIDER = 50, 100, (250, 500)
SEEDS, WIDTH_SEEDS = "1,2,3,4,5", ",".join(map(str, range(1, 31)))
QUICK = (10, 20, (60,), "1,2,3", "1,2,3")


def second_moments(run) -> np.ndarray:
    """E[z_l^2] for the hidden layers l = 1..depth at initialization (iteration 0)."""
    h = run.history
    depth = len(run.metrics["layers_dims"]) - 2
    return np.array([h[f"z_sq_{l}"][0] for l in range(1, depth + 1)])


def ratio_geomean(runs) -> float:
    """Geometric mean of E[z_l^2] / E[z_(l-1)^2] over layers 2..depth and all runs."""
    logs = [np.diff(np.log(second_moments(r))) for r in runs]
    return float(np.exp(np.mean(np.concatenate(logs)))) if logs else float("nan")


def log_ratios(runs) -> np.ndarray:
    """Per run, the mean over layers 2..depth of log(E[z_l^2] / E[z_(l-1)^2])."""
    return np.array([np.mean(np.diff(np.log(second_moments(r)))) for r in runs])


def ratio_claim(runs, target: float, quick: bool) -> tuple[str, str]:
    """The geometric-mean ratio of the runs with its 95 % interval (t interval of the mean log
    ratio over runs, exponentiated), judged against ``target`` ± 5 %."""
    logs = log_ratios(runs)
    low, high, _ = stats.mean_interval(logs)
    g, lo, hi = np.exp(logs.mean()), np.exp(low), np.exp(high)
    verdict = decide(lo, hi, (0.95 * target, 1.05 * target), len(runs), quick)
    return f"ratio {g:.4f} [95 % interval {lo:.4f}, {hi:.4f}], n={len(runs)}", verdict


def spread_claim(spreads: list[tuple[int, np.ndarray]], quick: bool) -> tuple[str, str]:
    """Does the seed-to-seed spread (std) of log E[z²] shrink from each width to the next?

    Each std gets its 95 % chi-square interval; each step a one-sided F-test of the variance
    ratio (``scipy.stats.f``), Holm-adjusted over the steps. Holds when every step shrinks
    significantly, does not hold when one grows significantly, not decided otherwise.
    """
    parts, shrink, grow = [], [], []
    for w, v in spreads:
        n, s = v.size, float(np.std(v, ddof=1))
        low = s * np.sqrt((n - 1) / sps.chi2.ppf(0.975, n - 1))
        high = s * np.sqrt((n - 1) / sps.chi2.ppf(0.025, n - 1))
        parts.append(f"{s:.3f} [{low:.3f}, {high:.3f}] at width {w} (n={n})")
    for (_, a), (_, b) in zip(spreads, spreads[1:]):
        F = np.var(a, ddof=1) / np.var(b, ddof=1)
        shrink.append(sps.f.sf(F, a.size - 1, b.size - 1))
        grow.append(sps.f.cdf(F, a.size - 1, b.size - 1))
    shrink_adj, grow_adj = stats.holm(shrink), stats.holm(grow)
    verdict = verdict_of_test(all(p < stats.ALPHA for p in shrink_adj), any(p < stats.ALPHA for p in grow_adj),
                              min(v.size for _, v in spreads), quick)
    tests = ", ".join(f"{p:.2g}" for p in shrink_adj)
    return f"{'; '.join(parts)}; one-sided F-test that each step shrinks, Holm-adjusted p = {tests}", verdict


def report(out: Path, depth: int = DEPTH, width: int = WIDTH, quick: bool = False) -> str:
    runs, _ = deduplicate(load_runs(out, completed=True))  # width 100 is in both sweeps
    groups: dict[tuple, list] = {}
    for r in runs:
        dims = r.metrics["layers_dims"][1:-1]
        groups.setdefault((r.metrics["init"], r.config["model.activation"], dims[0], len(dims)), []).append(r)
    reduced = (f"depth {QUICK[0]} instead of {DEPTH}, width {QUICK[1]} instead of {WIDTH}, wider {QUICK[2]} "
               f"instead of {WIDER}, {len(QUICK[3].split(','))} seeds instead of {len(SEEDS.split(','))} "
               f"({len(WIDTH_SEEDS.split(','))} for the widths)")
    lines = heading("Depth and signal propagation at initialization", quick, reduced)
    lines += ["Fully connected networks on make_circles (300 examples), measured at initialization "
             "(`train.num_iterations=0`). `E[z²]` is the second moment of a layer's pre-activations over units "
             "and examples; the ratio is `E[z_l²] / E[z_(l−1)²]`, its geometric mean taken over layers 2–"
             f"{depth} and the seeds. A claim **holds** only when its 95 % interval lies within the stated tolerance, "
             "**does not hold** when the interval lies outside it, and is **not decided** otherwise.", "",
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
        numbers, verdict = ratio_claim(he, 1.0, quick)
        claims.append((f"He on ReLU keeps the second moment: {numbers}; within 5% of 1? (He et al. 2015, eq. 10)",
                       verdict))
    if xavier:
        numbers, verdict = ratio_claim(xavier, 0.5, quick)
        claims.append((f"Xavier on ReLU halves it at every layer: {numbers}; within 5% of 1/2? "
                       f"(He et al. 2015, section 2.2: ReLU zeroes half the signal, Xavier does not make up for it)",
                       verdict))
    spreads = []
    for w in sorted({k[2] for k in groups if k[0] == "he" and k[1] == "relu" and k[3] == depth}):
        members = groups[("he", "relu", w, depth)]
        if len(members) > 1:
            spreads.append((w, np.array([np.log(second_moments(r)[-1]) for r in members])))
    if len(spreads) > 1:
        numbers, verdict = spread_claim(spreads, quick)
        claims.append((f"The seed-to-seed spread (std) of log E[z²] in the last hidden layer (He, ReLU, depth {depth}) "
                       f"shrinks as the width grows: {numbers} (Hanin & Rolnick 2018: the variance of the log second "
                       f"moment grows like depth / width)", verdict))
    lsuv = [r for (init, *_), members in groups.items() if init == "lsuv" for r in members]
    if lsuv:
        worst = max(abs(r.history[f"z_std_{l}"][0] ** 2 - 1) for r in lsuv
                    for l in range(1, len(r.metrics["layers_dims"])))
        tol = lsuv[0].config.get("init.tol", 0.1)
        passes = max(max(r.metrics.get("lsuv_passes", [0])) for r in lsuv)
        verdict = quick_verdict(len(lsuv)) if quick else ("holds" if worst < tol else "does not hold")
        claims.append((f"After LSUV every layer's output variance is within {tol:g} of 1, in every run: worst "
                       f"|Var(z) − 1| = {worst:.2g} over n={len(lsuv)} runs, at most {passes} rescaling passes per "
                       f"layer (Mishkin & Matas 2016; a guarantee of the algorithm, checked run by run)", verdict))
    lines += ["", "## The papers' claims, measured", ""]
    lines += [f"- **{verdict}**: {text}" for text, verdict in claims]
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


def sizes(args) -> tuple[int, int, tuple[int, ...], str, str]:
    """Depth, width, the wider widths, the seeds and the seeds of the width study (smaller with ``--quick``)."""
    return QUICK if args.quick else (DEPTH, WIDTH, WIDER, SEEDS, WIDTH_SEEDS)


def sweeps(args) -> list[tuple[list[str], str]]:
    depth, width, wider, seeds, width_seeds = sizes(args)
    lists = ",".join(f"[{','.join([str(w)] * depth)}]" for w in (width, *wider))
    return [([f"init={','.join(INITS)}", f"model.activation={','.join(ACTIVATIONS)}",
              f"model.hidden_dims=[{','.join([str(width)] * depth)}]", "train.num_iterations=0", f"seed={seeds}"],
             "sweep"),
            (["init=he", "model.activation=relu", f"model.hidden_dims=choice({lists})", "train.num_iterations=0",
              f"seed={width_seeds}"], "width")]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, *sizes(args)[:2], args.quick)))
