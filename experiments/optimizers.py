"""Optimizers: does the initialization still matter under momentum and Adam?

Zeros, random N(0, 1) x 10 (the notebook's), Xavier and He, each trained by gradient descent, heavy-ball
momentum (mu 0.9) and Adam (Kingma & Ba 2015; beta1 0.9, beta2 0.999), on ``circles`` (the notebook's
network [2, 10, 5, 1], ReLU, sigmoid output, full batch, 5000 updates) and on ``digits`` (ReLU [64, 64,
32, 10], softmax output, minibatches of 64, 1500 updates: 67 epochs), 10 seeds each: 240 runs.

Learning rates, one per optimizer, the same for every init (the question is whether the init matters
under each optimizer run as it usually is, not under a rate tuned per init): plain gradient descent
0.1; momentum 0.01, because with mu = 0.9 its steady-state step is lr / (1 - mu) = 0.1, the same as
gradient descent's; Adam 0.001 on digits (the paper's default) and 0.01 on circles (full batch,
5000 updates: at 0.001 He's runs have not finished learning there), since Adam's step is about lr per
weight whatever the gradient's scale. The budgets are the same for the three optimizers of a data set,
long enough for He to learn under each (a pilot of 2 seeds: 92-99 % test accuracy). ``python
experiments/optimizers.py --launcher joblib`` (240 runs, about 8 minutes on 2 busy cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from nninit.analysis.claims import decide, interval
from nninit.analysis.compare import summarize
from nninit.analysis.summary import markdown_table, which_is_best
from nninit.app.report import write_comparison
from nninit.app.study import heading, load_runs, main, write_text
from nninit.figures.plots import new_figure, save_figure

NAME = "optimizers"
INITS = ("zeros", "random", "xavier", "he")
OPTIMIZERS = ("gd", "momentum", "adam")
SEEDS = ",".join(map(str, range(1, 11)))
DATASETS = {
    "circles": {"overrides": [], "iterations": 5000, "print_every": 500,
                "learning_rate": {"gd": 0.1, "momentum": 0.01, "adam": 0.01}},
    "digits": {"overrides": ["model.hidden_dims=[64,32]", "train.batch_size=64"], "iterations": 1500,
               "print_every": 250, "learning_rate": {"gd": 0.1, "momentum": 0.01, "adam": 0.001}},
}
QUICK = {"seeds": "1,2", "fraction": 10, "optimizers": ("gd", "adam")}
"""A quick run: 2 seeds, a tenth of the updates, gd and Adam only."""
GAP = ("he", "random")
"""The gap between inits whose shrinking is measured: test accuracy of He minus random x 10."""
METRICS = ("test_accuracy", "train_accuracy", "final_cost")


def gap_by_seed(c, data: str) -> dict[tuple, float]:
    """Per seed, He's test accuracy minus random x 10's in one sweep's comparison ``c``."""
    values = {s.label.split("=", 1)[1]: s.values["test_accuracy"] for s in c.summaries}
    a, b = values.get(GAP[0], {}), values.get(GAP[1], {})
    return {seed: a[seed] - b[seed] for seed in sorted(set(a) & set(b))}


def shrink_claim(data: str, gaps: dict[str, dict], optimizer: str, quick: bool) -> tuple[str, str]:
    """The gap is smaller under ``optimizer`` than under gd: the difference of differences
    (He − random)_gd − (He − random)_optimizer, paired by seed, its 95 % interval above 0."""
    seeds = sorted(set(gaps["gd"]) & set(gaps[optimizer]))
    dd = [gaps["gd"][s] - gaps[optimizer][s] for s in seeds]
    mean, low, high, n = interval(dd)
    g_gd, g_opt = (np.mean([gaps[o][s] for s in seeds]) if seeds else np.nan for o in ("gd", optimizer))
    return (f"The gap between He and random ×10 on {data} shrinks under {optimizer}: (He − random) under gd minus "
            f"(He − random) under {optimizer}, test accuracy, paired by seed = {100 * mean:+.1f} [95 % interval "
            f"{100 * low:+.1f}, {100 * high:+.1f}] points, n={n} (the gaps: {100 * g_gd:.1f} points under gd, "
            f"{100 * g_opt:.1f} under {optimizer})", decide(low, high, (0.0, np.inf), n, quick))


def report(out: Path, quick: bool = False) -> str:
    sections, claims, accuracy = [], [], {}
    for data in DATASETS:
        gaps = {}
        for optimizer in OPTIMIZERS:
            folder = out / f"{data}_{optimizer}"
            if not folder.is_dir():
                continue
            load_runs(folder, completed=False)
            c = summarize([folder], group_by=["init"], metrics=METRICS, primary="test_accuracy")
            write_comparison(c, folder, title=f"{data}, {optimizer}: four inits", quick=quick)
            gaps[optimizer] = gap_by_seed(c, data)
            accuracy[(data, optimizer)] = {s.label.split("=", 1)[1]: list(s.values["test_accuracy"].values())
                                           for s in c.summaries}
            sections += [f"## {data}, {optimizer}", "",
                         *which_is_best(c.summaries, c.diffs, "test_accuracy", quick=quick), "",
                         markdown_table(c.summaries, METRICS), "",
                         f"Full summary: [{folder.name}/summary.md]({folder.name}/summary.md).", ""]
        claims += [shrink_claim(data, gaps, o, quick) for o in OPTIMIZERS[1:] if "gd" in gaps and o in gaps]
    if not accuracy:
        raise LookupError(f"no <data>_<optimizer> sweep folder under {out}")
    reduced = (f"{len(QUICK['seeds'].split(','))} seeds instead of {len(SEEDS.split(','))}, gd and adam only, a tenth "
               f"of the updates "
               f"({', '.join(str(d['iterations'] // QUICK['fraction']) for d in DATASETS.values())} instead of "
               f"{', '.join(str(d['iterations']) for d in DATASETS.values())})")
    lines = heading("Optimizers: does the initialization still matter under momentum and Adam?", quick, reduced)
    lines += ["Zeros, random N(0, 1) × 10, Xavier and He, each trained by gradient descent (`train.optimizer=gd`), "
              "heavy-ball momentum (`momentum`, μ 0.9) and Adam (`adam`, β₁ 0.9, β₂ 0.999; Kingma & Ba 2015), on "
              "make_circles (the notebook's network [2, 10, 5, 1], full batch) and on digits (ReLU [64, 64, 32, 10], "
              "softmax output, minibatches of 64). One learning rate per optimizer, the same for every init:", "",
              "| data | updates | batch | gd | momentum | adam |", "|---|---|---|---|---|---|"]
    for data, d in DATASETS.items():
        lr = d["learning_rate"]
        batch = "64" if "train.batch_size=64" in d["overrides"] else "full"
        lines.append(f"| {data} | {d['iterations'] // (QUICK['fraction'] if quick else 1)} | {batch} | {lr['gd']} | "
                     f"{lr['momentum']} | {lr['adam']} |")
    lines += ["", "Every number is a mean over seeds [95 % interval]; the comparisons of each sweep are paired by "
              "seed and Bonferroni-adjusted (the sweep summaries' statistics). Zeros never breaks the symmetry "
              "between the units of a layer, whatever the optimizer (every update is the same for all of them).", "",
              "## Does the gap between inits shrink under momentum and Adam?", ""]
    lines += [f"- **{verdict}**: {text}" for text, verdict in claims]
    plot(accuracy, out / "optimizers.png")
    lines += ["", "![test accuracy per init and optimizer](optimizers.png)", "", *sections]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def plot(accuracy: dict, path: Path) -> None:
    datasets = [d for d in DATASETS if any(k[0] == d for k in accuracy)]
    fig = new_figure(6.0 * len(datasets), 4.2)
    axes = np.atleast_1d(fig.subplots(1, len(datasets)))
    for ax, data in zip(axes, datasets):
        for k, optimizer in enumerate(OPTIMIZERS):
            by_init = accuracy.get((data, optimizer), {})
            for i, init in enumerate(INITS):
                values = np.array(by_init.get(init, []), dtype=float)
                x = i + (k - 1) * 0.25
                ax.scatter(np.full(values.size, x), values, color=f"C{k}", s=10, alpha=0.5)
                if values.size:
                    ax.plot([x - 0.1, x + 0.1], [values.mean()] * 2, color=f"C{k}", linewidth=2,
                            label=optimizer if i == 0 else None)
        ax.set_xticks(range(len(INITS)), ["zeros", "random ×10", "Xavier", "He"])
        ax.set(ylabel="test accuracy", ylim=(0, 1.02), title=f"{data}: one point per seed, line: mean")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def sweeps(args) -> list[tuple[list[str], str]]:
    seeds, fraction = (QUICK["seeds"], QUICK["fraction"]) if args.quick else (SEEDS, 1)
    jobs = []
    for data, d in DATASETS.items():
        iterations = d["iterations"] // fraction
        for optimizer in QUICK["optimizers"] if args.quick else OPTIMIZERS:
            jobs.append(([f"data={data}", *d["overrides"], f"init={','.join(INITS)}", f"train.optimizer={optimizer}",
                          f"train.learning_rate={d['learning_rate'][optimizer]}", f"train.num_iterations={iterations}",
                          f"train.print_every={min(d['print_every'], iterations)}", f"seed={seeds}"],
                         f"{data}_{optimizer}"))
    return jobs


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
