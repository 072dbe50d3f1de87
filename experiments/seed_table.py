"""The seed table: the notebook's three runs (zeros, random x10, He), beside the notebook's numbers.

    python experiments/seed_table.py            # about 15 s; writes report.md
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from nninit.app.study import REPO, heading, load_runs, main, write_text

NAME = "seed_table"
# The numbers the notebook printed, kept with the tests as data.
REFERENCE = REPO / "tests" / "data" / "seed_notebook.json"
INITS = ("zeros", "random", "he")
QUICK_ITERATIONS = 2000


def compare_costs(history, expected: list, rtol: float) -> tuple[str, bool]:
    """Largest relative difference over the printed costs the run also recorded."""
    recorded = dict(zip(history["iteration"].astype(int), history["cost"]))
    worst, checked = 0.0, 0
    for k, want in enumerate(expected):
        it = 1000 * k
        if want is None or it not in recorded:
            continue
        worst = max(worst, abs(recorded[it] / want - 1))
        checked += 1
    text = f"max relative difference {worst:.1e} over {checked} costs (tolerance {rtol:g})"
    return text, checked > 0 and worst <= rtol


def report(out: Path, quick: bool = False) -> str:
    reference = json.loads(REFERENCE.read_text())["runs"]
    runs = {r.metrics.get("init"): r for r in load_runs(out / "sweep")}
    reduced = (f"{QUICK_ITERATIONS} iterations instead of 15000: only the costs printed up to there are compared, "
               "the final accuracies are not the notebook's")
    lines = heading("Seed table: the notebook's three runs", quick, reduced)
    lines += ["Network [2, 10, 5, 1] (ReLU, sigmoid output), make_circles (300 train, seed 1; 100 test, seed 2), "
             "learning rate 0.01, weights from `RandomState(3)`.", "",
             "| init | quantity | notebook | nninit | matches |", "|---|---|---|---|---|"]
    verdicts = []
    for init in INITS:
        run, ref = runs.get(init), reference[init]
        if run is None or run.metrics.get("status") != "completed":
            lines.append(f"| {init} | run | — | {'missing' if run is None else run.metrics.get('status')} | no |")
            verdicts.append(False)
            continue
        for key in () if quick else ("train_accuracy", "test_accuracy"):
            got, want = run.metrics[key], ref[key]
            ok = abs(got - want) < 1e-9
            verdicts.append(ok)
            lines.append(f"| {init} | {key.replace('_', ' ')} | {100 * want:.2f}% | {100 * got:.2f}% | "
                         f"{'yes' if ok else 'no'} |")
        text, ok = compare_costs(run.history, ref["costs"], ref["cost_rtol"])
        verdicts.append(ok)
        lines.append(f"| {init} | cost every 1000 iterations | {len(ref['costs'])} printed values | {text} | "
                     f"{'yes' if ok else 'no'} |")
        if ref["costs"][0] is None:
            first = float(run.history["cost"][0])
            ok = math.isfinite(first)
            lines.append(f"| {init} | cost at iteration 0 | inf (rounding: log of a sigmoid rounded to 1.0) | "
                         f"{first:.6g} (stable formula) | {'finite, as it should be' if ok else 'no'} |")
    iterations = {int(r.metrics["iterations_run"]) for r in runs.values() if r.metrics.get("status") == "completed"}
    ran = f"runs of {', '.join(map(str, sorted(iterations)))} iterations" if iterations else "no run completed"
    if quick:
        verdict = "The costs compared match." if all(verdicts) else "Some costs do not match"
    else:
        verdict = "All numbers match." if all(verdicts) else "Some numbers do not match"
    lines += ["", f"**{verdict}** ({ran}; the notebook ran 15000).", ""]
    lines += ["## Decision boundaries", ""]
    for init in INITS:
        if init in runs:
            lines.append(f"![{init}]({runs[init].path.relative_to(out.resolve())}/decision_boundary.png)")
    lines += ["", "The whole sweep summary, with cost curves: [sweep/summary.md](sweep/summary.md)."]
    text = "\n".join(lines) + "\n"
    write_text(out / "report.md", text)
    return text


def sweeps(args) -> list[tuple[list[str], str]]:
    iterations = [f"train.num_iterations={QUICK_ITERATIONS}"] if args.quick else []
    return [([f"init={','.join(INITS)}", *iterations], "sweep")]


if __name__ == "__main__":
    sys.exit(main(NAME, __doc__.split("\n")[0], sweeps, lambda out, args: report(out, args.quick)))
