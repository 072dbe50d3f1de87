"""All initializers: every scheme x 5 seeds on circles and moons, with the seed network.

``python experiments/all_inits.py --launcher joblib`` (120 runs of 15000 iterations, a few minutes).
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import load_runs, main, write_text
from nninit.compare import mean_std, write_summary
from nninit.config import INIT_NAMES

NAME = "all_inits"
DATASETS = ("circles", "moons")
SEEDS = "1,2,3,4,5"


def report(out: Path) -> str:
    table, _ = write_summary([out / "sweep"], out, group_by=["init", "data"], title="All initializers")
    runs = load_runs(out / "sweep")
    iterations = sorted({r.metrics.get("iterations_run") for r in runs if r.metrics.get("status") == "completed"})
    seeds = sorted({r.config.get("seed") for r in runs})
    lines = ["# All initializers on circles and moons", "",
             f"The notebook's network ([2, 10, 5, 1], ReLU, learning rate 0.01) trained for "
             f"{', '.join(map(str, iterations))} iterations with every initializer and {len(seeds)} weight seeds "
             f"each. Full table: [summary.md](summary.md); plots: "
             "[cost curves](cost_curves.png), [accuracy](accuracy.png), [decision boundaries](decision_boundaries.png).", ""]
    for data in DATASETS:
        ranked = []
        for init in INIT_NAMES:
            members = [r for r in runs if r.metrics.get("init") == init and r.metrics.get("data") == data
                       and r.metrics.get("status") == "completed"]
            if members:
                test = mean_std([r.value("test_accuracy") for r in members])
                train = mean_std([r.value("train_accuracy") for r in members])
                chance = sum(bool(r.at_chance()) for r in members)
                ranked.append((test[0], init, train, test, chance, len(members)))
        ranked.sort(reverse=True)
        lines += [f"## {data}: ranked by mean test accuracy", "",
                  "| rank | init | runs | train accuracy | test accuracy | at chance |", "|---|---|---|---|---|---|"]
        for k, (_, init, train, test, chance, n) in enumerate(ranked, 1):
            lines.append(f"| {k} | {init} | {n} | {100 * train[0]:.1f} ± {100 * train[1]:.1f}% | "
                         f"{100 * test[0]:.1f} ± {100 * test[1]:.1f}% | {chance} |")
        lines.append("")
    lines += ["![accuracy](accuracy.png)", "", "![cost curves](cost_curves.png)"]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def sweeps(args) -> list[tuple[list[str], str]]:
    if args.quick:
        return [(["init=zeros,he,lsuv", f"data={','.join(DATASETS)}", "seed=1,2", "train.num_iterations=500"], "sweep")]
    return [([f"init={','.join(INIT_NAMES)}", f"data={','.join(DATASETS)}", f"seed={SEEDS}"], "sweep")]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out)))
