"""Write what a comparison says: ``summary.md``, ``summary.csv``, ``comparisons.csv``, ``runs.csv``
and the figures, in plain words and with every number's interval.

Used by the sweep callback at the end of a multirun, by ``scripts/compare.py`` and by the
named experiments. The numbers come from :func:`nninit.analysis.compare.summarize`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from nninit.analysis import stats
from nninit.analysis.compare import (
    Comparison,
    GroupSummary,
    higher_is_better,
)
from nninit.record import runfolder
from nninit.record.runs import SEED_KEYS, SHORT_NAMES, Run, varying_keys

COMPARISON_COLUMNS = ("metric", "group_a", "group_b", "paired", "n_a", "n_b", "difference", "ci_low", "ci_high",
                      "p_value", "p_adjusted", "prob_improvement", "verdict")
"""The columns of ``comparisons.csv``; ``difference`` is mean of a − mean of b."""
FIGURE_FILES = ("cost_curves.png", "accuracy.png", "differences.png", "decision_boundaries.png")


def plural(n: int, word: str) -> str:
    """``'1 run'``, ``'3 runs'``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _number(x: float, metric: str) -> str:
    if metric.endswith("accuracy"):
        return f"{100 * x:.1f}"
    return f"{x:.4f}" if x == 0 or 1e-3 <= abs(x) < 1e5 else f"{x:.4g}"


def fmt_estimate(e: stats.Estimate, metric: str) -> str:
    """``'95.2 [94.1, 96.3]%'`` (accuracies in percent), ``'0.0712 [0.0650, 0.0774]'``; no
    interval for one value; ``n/a`` for none."""
    if e.n == 0:
        return "n/a"
    unit = "%" if metric.endswith("accuracy") else ""
    if math.isnan(e.ci_low):
        return _number(e.mean, metric) + unit
    return f"{_number(e.mean, metric)} [{_number(e.ci_low, metric)}, {_number(e.ci_high, metric)}]{unit}"


def fmt_difference(d: stats.Difference, *, flip: bool = False) -> str:
    """The difference with its interval, in points for accuracies: ``'−0.3 points [−1.2, 0.6]'``."""
    s = -1.0 if flip else 1.0
    diff, low, high = s * d.difference, *sorted((s * d.ci_low, s * d.ci_high))
    unit = " points" if d.metric.endswith("accuracy") else ""

    def f(x):
        return "n/a" if math.isnan(x) else f"{_number(x, d.metric).replace('-', '−')}"

    interval = "" if math.isnan(low) else f" [{f(low)}, {f(high)}]"
    return f"{'+' if diff > 0 else ''}{f(diff)}{unit}{interval}"


def fmt_p(p: float) -> str:
    """A p-value for a table cell: ``0.465``, ``< 0.001``, ``n/a``."""
    return "n/a" if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def fmt_p_is(p: float) -> str:
    """A p-value in a sentence: ``p = 0.465``, ``p < 0.001``."""
    cell = fmt_p(p)
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def markdown_table(summaries: list[GroupSummary], metrics: tuple[str, ...]) -> str:
    """The grouped table in Markdown: counts, then each metric's mean [95 % interval]."""
    head = ["group", "n", "diverged", "failed", "at chance", "symmetric", *metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        c = s.counts
        symmetric = str(c["symmetric"]) + (f" ({c['history unreadable']} not known)" if c["history unreadable"] else "")
        cells = [s.label, str(c["seeds"]), str(c["diverged"]), str(c["failed"]), str(c["at chance"]), symmetric]
        cells += [fmt_estimate(s.estimates[m], m) for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_table(diffs: list[stats.Difference]) -> str:
    """The comparisons of one metric as a Markdown table."""
    lines = ["| a | b | paired | n | a − b [simultaneous 95 % interval] | p (Bonferroni) | P(a better) | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for d in diffs:
        prob = "n/a" if math.isnan(d.prob_improvement) else f"{d.prob_improvement:.2f}"
        lines.append(f"| {d.group_a} | {d.group_b} | {'yes' if d.paired else 'no'} | {d.n_a}, {d.n_b} | "
                     f"{fmt_difference(d)} | {fmt_p(d.p_adjusted)} | {prob} | {d.verdict} |")
    return "\n".join(lines)


def _against(d: stats.Difference, reference: str) -> tuple[str, bool]:
    """The other group of a comparison involving ``reference``, and whether the sign must flip
    so that the difference reads 'other − reference'."""
    return (d.group_a, False) if d.group_b == reference else (d.group_b, True)


def which_is_best(summaries: list[GroupSummary], diffs: list[stats.Difference], metric: str, *,
                  baseline: str | None = None, quick: bool = False) -> list[str]:
    """The "Which is best?" section in plain words: the best group by ``metric`` (or the
    ``baseline``), the groups indistinguishable from it with seeds needed, the worse ones."""
    direction = higher_is_better(metric)
    name = metric.replace("_", " ")
    if quick:
        return ["This is a reduced (quick) run: it decides nothing and ranks nothing."]
    if direction is None:
        return [f"`{metric}` has no better direction; the comparisons below say which groups differ."]
    ranked = [s for s in summaries if s.estimates[metric].n >= stats.MIN_RUNS]
    few = [s for s in summaries if s.estimates[metric].n < stats.MIN_RUNS]
    lines = []
    if not ranked or (baseline is None and len(ranked) < 2 and len(summaries) > 1):
        lines.append(f"**No ranking**: a group needs at least {stats.MIN_RUNS} seeds with a {name} to be "
                     f"compared, and " + ("none has." if not ranked else "only one has."))
    elif len(summaries) == 1:
        return [f"One group only: nothing to compare ({name} {fmt_estimate(summaries[0].estimates[metric], metric)}, "
                f"n={summaries[0].estimates[metric].n})."]
    else:
        if baseline is not None:
            reference = next(s for s in summaries if s.label == baseline)
            lines.append(f"Each group against the baseline **{baseline}**: {name} "
                         f"{fmt_estimate(reference.estimates[metric], metric)} (n={reference.estimates[metric].n}).")
        else:
            pick = max if direction else min
            reference = pick(ranked, key=lambda s: s.estimates[metric].mean)
            lines.append(f"**Best by {name}: {reference.label}**, {fmt_estimate(reference.estimates[metric], metric)} "
                         f"(mean [95 % interval], n={reference.estimates[metric].n}).")
        mine = [d for d in diffs if d.metric == metric and reference.label in (d.group_a, d.group_b)]
        same, worse, better = [], [], []
        for d in mine:
            other, flip = _against(d, reference.label)
            if d.verdict == "too_few_runs":
                continue
            text = f"{other} ({fmt_difference(d, flip=flip)}, {fmt_p_is(d.p_adjusted)}"
            if d.verdict == "indistinguishable":
                if d.seeds_needed:
                    text += f"; about {d.seeds_needed} seeds per group would separate a difference this size)"
                elif d.difference == 0:
                    text += "; no difference observed)"
                else:  # stats.seeds_needed searches up to its limit
                    text += "; more than 100,000 seeds per group would be needed to separate a difference this size)"
                same.append(text)
            else:
                text += ")"
                a_wins = d.verdict == "a_better"
                other_wins = a_wins if d.group_a == other else not a_wins
                (better if other_wins else worse).append(text)
        ref = "the baseline" if baseline is not None else "it"
        if better:
            lines.append(f"- Better than {ref}: " + "; ".join(better) + ".")
        lines.append(f"- Indistinguishable from {ref}: " + ("; ".join(same) + "." if same else "none."))
        lines.append(f"- Worse than {ref}: " + ("; ".join(worse) + "." if worse else "none."))
        if baseline is None and same:
            lines.append(f"- So the best is not decided between {reference.label} and "
                         f"{len(same)} other group{'s' if len(same) > 1 else ''} at these numbers of seeds.")
    diverged = [s for s in few if s.counts["diverged"] and s.counts["diverged"] + s.counts["failed"] == s.counts["runs"]]
    few = [s for s in few if s not in diverged]
    if diverged:
        lines.append("- Diverged on every seed (no number to compare; worse than any group that trains): "
                     + ", ".join(f"{s.label} ({s.counts['diverged']} of {plural(s.counts['runs'], 'run')} diverged)"
                                 for s in diverged) + ".")
    if few:
        lines.append(f"- Too few runs to rank (fewer than {stats.MIN_RUNS} seeds): "
                     + ", ".join(f"{s.label} (n={s.estimates[metric].n})" for s in few) + ".")
    lines += ["", f"Differences are (other − reference) in {name}"
              + (", in percentage points" if metric.endswith("accuracy") else "")
              + "; with m pairs compared, one Bonferroni adjustment gives both: p is the test's p times m and "
                "the intervals are simultaneous 95 % intervals (each the same test's at 1 − 0.05/m), so that a "
                "group is better or worse exactly when that p is below 0.05, exactly when its interval excludes 0. "
                "Seeds needed: 80 % power at the same adjusted level."]
    return lines


def test_set_note(runs: list[Run], summaries: list[GroupSummary]) -> list[str]:
    """What the test set's size allows: its accuracy step and one run's Wilson interval."""
    sizes = sorted({n for r in runs if (n := r.test_size())})
    accs = [s.estimates["test_accuracy"].mean for s in summaries
            if "test_accuracy" in s.estimates and s.estimates["test_accuracy"].n]
    if not sizes or not accs:
        return []
    n, acc = sizes[0], max(accs)
    k = round(acc * n)
    low, high = stats.wilson_interval(k, n)
    step = 100 / n
    return [f"The test set has {n} example{'s' if n > 1 else ''}"
            + (f" (up to {sizes[-1]} in some runs)" if len(sizes) > 1 else "")
            + f": one run's test accuracy moves in steps of {step:.2g} point{'' if step == 1 else 's'}, and a single run at "
              f"{100 * k / n:.1f}% has the 95 % Wilson interval [{100 * low:.1f}%, {100 * high:.1f}%]. Two single "
              f"runs closer than that cannot be told apart by this test set alone; `runs.csv` gives each run's interval."]


def warnings_for(runs: list[Run], groups: dict[str, list[Run]], keys: list[str],
                 dropped: list[tuple[Path, Path]], platforms: tuple[str, ...] = ()) -> list[str]:
    """Lines that must be read before the numbers: groups that mix iteration counts, config keys,
    code or package versions; runs made under different BLAS (``platforms``: of every run found, repeats
    included); repeated runs counted once."""
    lines = []
    for label, members in groups.items():
        iterations = sorted({r.metrics.get("iterations_run") for r in members if r.completed} - {None})
        if len(iterations) > 1:
            lines.append(f"group {label} mixes runs of {', '.join(map(str, iterations))} iterations")
    for key in (k for k in varying_keys(runs) if k not in keys and k not in SEED_KEYS):
        if any(len({json.dumps(r.config.get(key)) for r in members}) > 1 for members in groups.values()):
            lines.append(f"`{key}` varies within groups but is not grouped by (its runs are pooled)")
    for key in ("git_commit", "git_dirty", "numpy", "scikit-learn", "hydra-core", "python"):
        values = {str(r.metrics["environment"].get(key)) for r in runs if r.metrics.get("environment")}
        if len(values) > 1:
            lines.append(f"runs were made with different `{key}`: {', '.join(sorted(values))}")
    if len(platforms) > 1:  # over every run found, repeats included (a repeat under another BLAS is dropped)
        lines.append("runs were made with different `blas` (the BLAS library, version and kernel: the last bits of "
                     "every matrix product differ, and a chaotic run can end elsewhere; `--group-by blas_kernel` "
                     f"compares them): {', '.join(platforms)}")
    if dropped:
        lines.append(f"{len(dropped)} run{'s' if len(dropped) > 1 else ''} repeat the config and seeds of another and "
                     "count once (the most recent kept): "
                     + "; ".join(f"`{d}` (kept `{k}`)" for d, k in dropped))
    return lines


def differences(runs: list[Run], groups: dict[str, list[Run]], keys: list[str]) -> list[str]:
    """Lines naming what differs between groups, and the seeds pooled within them."""
    lines = []
    for key in keys:
        values = list(dict.fromkeys("null" if grp[0].get(key) is None else str(grp[0].get(key)) for grp in groups.values()))
        if len(values) > 1:  # a key asked for (--group-by) whose runs all share one value differs in nothing
            lines.append(f"- `{key}` differs between groups: {', '.join(values)}")
        else:
            lines.append(f"- `{key}` is {values[0]} in every run")
    for key in (k for k in varying_keys(runs) if k in SEED_KEYS and k not in keys):
        within = max(len({json.dumps(r.config.get(key)) for r in members}) for members in groups.values())
        if within > 1:
            lines.append(f"- `{key}` is pooled within groups (up to {within} values in a group)")
    return lines


# ---------------------------------------------------------------- files

def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows)
    runfolder.atomic_write(path, lambda f: f.write(buf.getvalue().encode()))


def group_rows(summaries: list[GroupSummary], metrics: tuple[str, ...]) -> list[dict]:
    """``summary.csv``: one row per group and metric."""
    rows = []
    for s in summaries:
        for m in metrics:
            e = s.estimates[m]
            rows.append({"group": s.label, "metric": m, "n": e.n, "mean": e.mean, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "ci_method": e.method, "std": e.std, "median": e.median, "iqm": e.iqm,
                         "runs": s.counts["runs"], "completed": s.counts["completed"],
                         "diverged": s.counts["diverged"], "failed": s.counts["failed"],
                         "at_chance": s.counts["at chance"], "symmetric": s.counts["symmetric"]})
    return rows


SUMMARY_COLUMNS = ["group", "metric", "n", "mean", "ci_low", "ci_high", "ci_method", "std", "median", "iqm",
                   "runs", "completed", "diverged", "failed", "at_chance", "symmetric"]
RUN_COLUMNS = ["group", "overrides", "status", "seed", "data.train_seed", "data.test_seed", "train_accuracy",
               "test_accuracy", "test_accuracy_ci_low", "test_accuracy_ci_high", "final_cost", "iterations",
               "diverged_at", "wall_time_s", "error", "run_dir"]


def run_rows(groups: dict[str, list[Run]]) -> list[dict]:
    """``runs.csv``: one row per run, with the Wilson interval of its test accuracy."""
    rows = []
    for label, runs in groups.items():
        for r in runs:
            m = r.metrics
            low = high = None
            acc, n = r.value("test_accuracy"), r.test_size()
            if acc is not None and n:
                low, high = stats.wilson_interval(round(acc * n), n)
            rows.append({"group": label, "overrides": " ".join(m.get("overrides", [])), "status": m.get("status"),
                         **{k: r.config.get(k) for k in SEED_KEYS},
                         "train_accuracy": m.get("train_accuracy"), "test_accuracy": m.get("test_accuracy"),
                         "test_accuracy_ci_low": low, "test_accuracy_ci_high": high,
                         "final_cost": m.get("final_cost"), "iterations": m.get("iterations_run"),
                         "diverged_at": m.get("diverged_at"), "wall_time_s": m.get("wall_time_s"),
                         "error": m.get("error"), "run_dir": str(r.path)})
    return rows


def summary_text(c: Comparison, *, title: str, plots: bool, quick: bool) -> tuple[str, str]:
    """``summary.md`` and the console text of a comparison."""
    table = markdown_table(c.summaries, c.metrics)
    warn = warnings_for(c.runs, c.groups, c.keys, c.dropped, c.platforms)
    best = which_is_best(c.summaries, c.diffs, c.primary, baseline=c.baseline, quick=quick)
    diff_lines = differences(c.runs, c.groups, c.keys)
    primary = c.primary
    grouped_by = ", ".join(f"`{SHORT_NAMES.get(k, k)}`" for k in c.keys) or "nothing (one group)"
    text = [f"# {title}" + (" (quick run: decides nothing)" if quick else ""), ""]
    if quick:
        text += ["**A reduced (quick) run**: too few seeds and iterations to decide anything; no ranking.", ""]
    text += [f"> **Warning:** {w}." for w in warn] + ([""] if warn else [])
    text += ["## Which is best?", "", *best, ""]
    text += ["## All groups", "",
             f"{plural(len(c.runs), 'run')} in {plural(len(c.groups), 'group')}, grouped by {grouped_by}; "
             f"the seeds (`seed`, `data.*_seed`) "
             f"are pooled. n = distinct seeds among the completed runs. Each metric: mean [95 % confidence interval of "
             f"the mean] over the completed runs (Student's t below {stats.BOOTSTRAP_MIN_N} seeds, BCa bootstrap from "
             f"there; `--ci-method` to choose); accuracies in percent; `dead` is the final fraction of dead hidden units. "
             f"`at chance`: train accuracy at most 1 point above the majority-class rate; `symmetric`: every hidden "
             f"layer of more than one unit ended with a single distinct unit; `failed` includes interrupted runs. "
             f"Medians and interquartile means are in `summary.csv`.", "", table, ""]
    note = test_set_note(c.runs, c.summaries) if "test_accuracy" in c.metrics else []
    if note:
        text += note + [""]
    primary_diffs = [d for d in c.diffs if d.metric == primary]
    if primary_diffs and not quick:
        text += [f"## Comparisons of {primary.replace('_', ' ')}", "",
                 "Paired by seed where both groups ran the same seeds (the interval is then that of the per-seed "
                 "differences, the test the paired t-test), unpaired otherwise (Welch); p and intervals Bonferroni-"
                 "adjusted over the compared pairs (the intervals simultaneous, each inverting its test, so that p < "
                 "0.05 exactly when the interval excludes 0). P(a better): the probability "
                 "that a run of a beats a run of b, ties counted half. Every metric's comparisons are in "
                 "`comparisons.csv`.", "", comparison_table(primary_diffs), ""]
    if diff_lines:
        text += ["## What differs", "", *diff_lines, ""]
    if c.skipped:
        text += ["## Skipped", "", *[f"- `{p}`: {reason}" for p, reason in c.skipped], ""]
    text += ["## Files", "", "- `summary.csv`: one row per group and metric (n, mean, interval, std, median, IQM)",
             "- `comparisons.csv`: one row per pair of groups and metric", "- `runs.csv`: one row per run"]
    if plots:
        text += ["- `cost_curves.png`: mean cost per group, band = min–max over seeds",
                 "- `accuracy.png`: accuracy per group, one point per seed, the mean with its interval, chance drawn",
                 f"- `differences.png`: each group's difference from {c.reference} in {primary.replace('_', ' ')}",
                 "- `decision_boundaries.png`: decision boundaries, groups × first seeds"]
    console = [f"Warning: {w}." for w in warn] + ([""] if warn else []) + [table, "", "Which is best?", *best]
    if diff_lines:
        console += ["", *diff_lines]
    return "\n".join(text) + "\n", "\n".join(console).rstrip()
