"""What a comparison says in plain words, with every number's interval: ``summary.md`` and the console
text (the tables and the CSV rows are :mod:`nninit.analysis.tables`).

Used by the sweep callback at the end of a multirun, by ``scripts/compare.py`` and by the
named experiments. The numbers come from :func:`nninit.analysis.compare.summarize`.
"""

from __future__ import annotations

from pathlib import Path

from nninit.analysis import stats
from nninit.analysis.compare import Comparison, GroupSummary, higher_is_better
from nninit.analysis.tables import (
    COMPARISON_COLUMNS,
    MAX_BOUNDARY_GROUPS,
    MAX_GROUPS_DRAWN,
    RUN_COLUMNS,
    SUMMARY_COLUMNS,
    comparison_table,
    drawn_groups,
    fmt_difference,
    fmt_estimate,
    fmt_p_is,
    group_rows,
    markdown_table,
    plural,
    run_rows,
    shown_pairs,
    write_csv,
)
from nninit.record.runs import SEED_KEYS, SHORT_NAMES, Run, shown_value, value_key, varying_keys

__all__ = [  # the tables' names too, for the writers that import them from here (nninit.app.report)
    "COMPARISON_COLUMNS", "FIGURE_FILES", "RUN_COLUMNS", "SUMMARY_COLUMNS", "differences", "fmt_estimate", "group_rows",
    "markdown_table", "run_rows", "summary_text", "test_set_note", "warnings_for", "which_is_best", "write_csv",
]

FIGURE_FILES = ("cost_curves.png", "accuracy.png", "differences.png", "decision_boundaries.png")


def _against(d: stats.Difference, reference: str) -> tuple[str, bool]:
    """The other group of a comparison involving ``reference``, and whether the sign must flip
    so that the difference reads 'other − reference'."""
    return (d.group_a, False) if d.group_b == reference else (d.group_b, True)


def which_is_best(summaries: list[GroupSummary], diffs: list[stats.Difference], metric: str, *,
                  baseline: str | None = None, quick: bool = False) -> list[str]:
    """The "Which is best?" section in plain words: the best group by ``metric`` (or the
    ``baseline``), the groups indistinguishable from it with seeds needed, the worse ones."""
    name = metric.replace("_", " ")
    if quick:
        return ["This is a reduced (quick) run: it decides nothing and ranks nothing."]
    if higher_is_better(metric) is None:
        return [f"`{metric}` has no better direction; the comparisons below say which groups differ."]
    ranked = [s for s in summaries if s.estimates[metric].n >= stats.MIN_RUNS]
    if not ranked or (baseline is None and len(ranked) < 2 and len(summaries) > 1):
        lines = [f"**No ranking**: a group needs at least {stats.MIN_RUNS} seeds with a {name} to be "
                 f"compared, and " + ("none has." if not ranked else "only one has.")]
    elif len(summaries) == 1:
        return [f"One group only: nothing to compare ({name} {fmt_estimate(summaries[0].estimates[metric], metric)}, "
                f"n={summaries[0].estimates[metric].n})."]
    else:
        lines = _ranking(summaries, ranked, diffs, metric, baseline)
    few = [s for s in summaries if s.estimates[metric].n < stats.MIN_RUNS]
    return lines + _unranked(few, metric) + _how_to_read(metric)


def _ranking(summaries: list[GroupSummary], ranked: list[GroupSummary], diffs: list[stats.Difference], metric: str,
             baseline: str | None) -> list[str]:
    """The reference (the baseline, or the best of the ``ranked`` groups) and every group against it."""
    name = metric.replace("_", " ")
    if baseline is not None:
        reference = next(s for s in summaries if s.label == baseline)
        lines = [f"Each group against the baseline **{baseline}**: {name} "
                 f"{fmt_estimate(reference.estimates[metric], metric)} (n={reference.estimates[metric].n})."]
    else:
        pick = max if higher_is_better(metric) else min
        reference = pick(ranked, key=lambda s: s.estimates[metric].mean)
        lines = [f"**Best by {name}: {reference.label}**, {fmt_estimate(reference.estimates[metric], metric)} "
                 f"(mean [95 % interval], n={reference.estimates[metric].n})."]
    better, same, worse = _against_reference(diffs, metric, reference.label)
    ref = "the baseline" if baseline is not None else "it"
    if better:
        lines.append(f"- Better than {ref}: " + "; ".join(better) + ".")
    lines.append(f"- Indistinguishable from {ref}: " + ("; ".join(same) + "." if same else "none."))
    lines.append(f"- Worse than {ref}: " + ("; ".join(worse) + "." if worse else "none."))
    if baseline is None and same:
        lines.append(f"- So the best is not decided between {reference.label} and "
                     f"{len(same)} other group{'s' if len(same) > 1 else ''} at these numbers of seeds.")
    return lines


def _against_reference(diffs: list[stats.Difference], metric: str, reference: str) -> tuple[list, list, list]:
    """The groups compared with ``reference`` on ``metric``, each with its difference and p: those
    better than it, those indistinguishable (with the seeds that would separate them), those worse."""
    better, same, worse = [], [], []
    for d in diffs:
        if d.metric != metric or reference not in (d.group_a, d.group_b) or d.verdict == "too_few_runs":
            continue
        other, flip = _against(d, reference)
        text = f"{other} ({fmt_difference(d, flip=flip)}, {fmt_p_is(d.p_adjusted)}"
        if d.verdict == "indistinguishable":
            same.append(text + _seeds_to_separate(d))
        else:
            a_wins = d.verdict == "a_better"
            other_wins = a_wins if d.group_a == other else not a_wins
            (better if other_wins else worse).append(text + ")")
    return better, same, worse


def _seeds_to_separate(d: stats.Difference) -> str:
    """The end of an indistinguishable group's parenthesis: about how many seeds would separate it."""
    if d.seeds_needed:
        return f"; about {d.seeds_needed} seeds per group would separate a difference this size)"
    if d.difference == 0:
        return "; no difference observed)"
    # stats.seeds_needed searches up to its limit
    return "; more than 100,000 seeds per group would be needed to separate a difference this size)"


def _unranked(few: list[GroupSummary], metric: str) -> list[str]:
    """The groups with too few seeds to rank: those that diverged on every seed, and the others."""
    diverged = [s for s in few
                if s.counts["diverged"] and s.counts["diverged"] + s.counts["failed"] == s.counts["runs"]]
    few = [s for s in few if s not in diverged]
    lines = []
    if diverged:
        lines.append("- Diverged on every seed (no number to compare; worse than any group that trains): "
                     + ", ".join(f"{s.label} ({s.counts['diverged']} of {plural(s.counts['runs'], 'run')} diverged)"
                                 for s in diverged) + ".")
    if few:
        lines.append(f"- Too few runs to rank (fewer than {stats.MIN_RUNS} seeds): "
                     + ", ".join(f"{s.label} (n={s.estimates[metric].n})" for s in few) + ".")
    return lines


def _how_to_read(metric: str) -> list[str]:
    """The note under the section: what the differences, p-values, intervals and seeds needed are."""
    return ["", f"Differences are (other − reference) in {metric.replace('_', ' ')}"
            + (", in percentage points" if metric.endswith("accuracy") else "")
            + "; with m pairs compared, one Bonferroni adjustment gives both: p is the test's p times m and "
              "the intervals are simultaneous 95 % intervals (each the same test's at 1 − 0.05/m), so that a "
              "group is better or worse exactly when that p is below 0.05, exactly when its interval excludes 0. "
              "Seeds needed: 80 % power at the same adjusted level."]


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
            + f": one run's test accuracy moves in steps of {step:.2g} point{'' if step == 1 else 's'}, and a single "
              f"run at {100 * k / n:.1f}% has the 95 % Wilson interval [{100 * low:.1f}%, {100 * high:.1f}%]. Two "
              "single runs closer than that cannot be told apart by this test set alone; `runs.csv` gives each run's "
              "interval."]


def warnings_for(runs: list[Run], groups: dict[str, list[Run]], keys: list[str],
                 dropped: list[tuple[Path, Path]], platforms: tuple[str, ...] = (),
                 varying: list[str] | None = None) -> list[str]:
    """Lines that must be read before the numbers: groups that mix iteration counts, config keys,
    code or package versions; runs made under different BLAS (``platforms``: of every run found, repeats
    included); repeated runs counted once. ``varying``: :func:`~nninit.record.runs.varying_keys` of ``runs``, when
    known."""
    lines = []
    for label, members in groups.items():
        iterations = sorted({r.metrics.get("iterations_run") for r in members if r.completed} - {None})
        if len(iterations) > 1:
            lines.append(f"group {label} mixes runs of {', '.join(map(str, iterations))} iterations")
    varying = varying_keys(runs) if varying is None else varying
    for key in (k for k in varying if k not in keys and k not in SEED_KEYS):
        if any(len({value_key(r.config.get(key)) for r in members}) > 1 for members in groups.values()):
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
        repeat, count = ("runs repeat", "count") if len(dropped) > 1 else ("run repeats", "counts")
        lines.append(f"{len(dropped)} {repeat} the config and seeds of another and "
                     f"{count} once (the most recent kept): "
                     + "; ".join(f"`{d}` (kept `{k}`)" for d, k in dropped))
    return lines


def differences(runs: list[Run], groups: dict[str, list[Run]], keys: list[str],
                varying: list[str] | None = None) -> list[str]:
    """Lines naming what differs between groups, and the seeds pooled within them (``varying`` as in
    :func:`warnings_for`)."""
    lines = []
    for key in keys:
        values = list(dict.fromkeys(shown_value(grp[0].get(key)) for grp in groups.values()))  # as labels show them
        if len(values) > 1:  # a key asked for (--group-by) whose runs all share one value differs in nothing
            lines.append(f"- `{key}` differs between groups: {', '.join(values)}")
        else:
            lines.append(f"- `{key}` is {values[0]} in every run")
    varying = varying_keys(runs) if varying is None else varying
    for key in (k for k in varying if k in SEED_KEYS and k not in keys):
        within = max(len({value_key(r.config.get(key)) for r in members}) for members in groups.values())
        if within > 1:
            lines.append(f"- `{key}` is pooled within groups (up to {within} values in a group)")
    return lines


def summary_text(c: Comparison, *, title: str, plots: bool, quick: bool) -> tuple[str, str]:
    """``summary.md`` and the console text of a comparison."""
    table = markdown_table(c.summaries, c.metrics)
    warn = warnings_for(c.runs, c.groups, c.keys, c.dropped, c.platforms, c.varying or None)
    best = which_is_best(c.summaries, c.diffs, c.primary, baseline=c.baseline, quick=quick)
    diff_lines = differences(c.runs, c.groups, c.keys, c.varying or None)
    primary = c.primary
    grouped_by = ", ".join(f"`{SHORT_NAMES.get(k, k)}`" for k in c.keys) or "nothing (one group)"
    text = [f"# {title}" + (" (quick run: decides nothing)" if quick else ""), ""]
    if quick:
        text += ["**A reduced (quick) run**: too few seeds and iterations to decide anything; no ranking.", ""]
    text += [f"> **Warning:** {w}." for w in warn] + ([""] if warn else [])
    text += ["## Which is best?", "", *best, ""]
    text += ["## All groups", "",
             f"{plural(len(c.runs), 'run')} in {plural(len(c.groups), 'group')}, grouped by {grouped_by}; "
             f"the seeds (`seed`, `data.*_seed`, `train.shuffle_seed`) "
             f"are pooled. n = distinct seeds among the completed runs. Each metric: mean [95 % confidence interval of "
             f"the mean] over the completed runs (Student's t below {stats.BOOTSTRAP_MIN_N} seeds and from "
             f"{stats.BOOTSTRAP_MAX_N:,}, BCa bootstrap between; `--ci-method` to choose); accuracies in percent; "
             "`dead` is the final fraction of dead hidden units. "
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
                 "`comparisons.csv`.", ""]
        shown, note = shown_pairs(primary_diffs, c.reference)
        text += ([note, ""] if note else []) + [comparison_table(shown), ""]
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
        if len(c.groups) > MAX_BOUNDARY_GROUPS:
            text += [f"- the figures draw {min(len(c.groups), MAX_GROUPS_DRAWN)} of the {len(c.groups)} groups "
                     f"(`decision_boundaries.png` {MAX_BOUNDARY_GROUPS}): {c.reference} and the best by "
                     f"{primary.replace('_', ' ')} after it ({', '.join(drawn_groups(c))})"]
    console = [f"Warning: {w}." for w in warn] + ([""] if warn else []) + [table, "", "Which is best?", *best]
    if diff_lines:
        console += ["", *diff_lines]
    return "\n".join(text) + "\n", "\n".join(console).rstrip()
