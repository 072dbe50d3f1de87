"""All initializers: every scheme x 5 seeds on circles and moons, with the seed network.

``python experiments/all_inits.py --launcher joblib`` (120 runs of 15000 iterations, a few minutes).
"""

from __future__ import annotations

import sys
from pathlib import Path

from nninit.analysis.compare import summarize
from nninit.analysis.summary import markdown_table, which_is_best
from nninit.app.config import INIT_NAMES
from nninit.app.report import write_comparison
from nninit.app.study import heading, main, write_text

NAME = "all_inits"
DATASETS = ("circles", "moons")
SEEDS = "1,2,3,4,5"
QUICK = {"inits": ("zeros", "he", "lsuv"), "seeds": "1,2", "iterations": 500}


def report(out: Path, quick: bool) -> str:
    """``report.md``: per data set, "Which is best?" by test accuracy and the grouped table."""
    sections, ran = [], set()
    for data in DATASETS:
        folder = out / data
        if not folder.is_dir():
            continue
        c = summarize([folder], group_by=["init"])
        write_comparison(c, folder, title=f"Initializers on {data}", quick=quick)
        ran |= {r.config.get("init.name") for r in c.runs}
        seeds = sorted({r.config.get("seed") for r in c.runs})
        iterations = sorted({r.metrics.get("iterations_run") for r in c.runs if r.completed})
        sections += [f"## {data}", "",
                     f"{len(c.groups)} initializers × {len(seeds)} weight seeds, {', '.join(map(str, iterations))} "
                     "iterations. Full summary with every pairwise comparison: "
                     f"[{data}/summary.md]({data}/summary.md).",
                     "", "### Which is best?", "", *which_is_best(c.summaries, c.diffs, c.primary, quick=quick), "",
                     markdown_table(c.summaries, ("test_accuracy", "train_accuracy")), "",
                     f"![accuracy]({data}/accuracy.png) ![differences]({data}/differences.png)", ""]
    if not sections:
        raise LookupError(f"no sweep folder ({', '.join(DATASETS)}) under {out}")
    every = set(INIT_NAMES) <= ran
    title = "All initializers on circles and moons" if every else \
        f"{len(ran)} of the {len(INIT_NAMES)} initializers ({', '.join(sorted(ran))}) on circles and moons"
    reduced = (f"{len(QUICK['inits'])} initializers instead of {len(INIT_NAMES)}, seeds {QUICK['seeds']} instead of "
               f"{SEEDS}, {QUICK['iterations']} iterations instead of 15000")
    lines = heading(title, quick, reduced)
    lines += ["The notebook's network ([2, 10, 5, 1], ReLU, learning rate 0.01) trained with "
              + ("every initializer" if every else "these initializers") + " on each data set. Each number is a mean "
              "over seeds with its 95 % interval; a group is better or worse than the best only when a paired, "
              "Bonferroni-adjusted test says so, which is exactly when the interval of the difference excludes 0.", "",
              *sections]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def sweeps(args) -> list[tuple[list[str], str]]:
    if args.quick:
        return [([f"init={','.join(QUICK['inits'])}", f"data={data}", f"seed={QUICK['seeds']}",
                  f"train.num_iterations={QUICK['iterations']}"], data) for data in DATASETS]
    return [([f"init={','.join(INIT_NAMES)}", f"data={data}", f"seed={SEEDS}"], data) for data in DATASETS]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
