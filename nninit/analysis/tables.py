"""The numbers of a comparison as tables: Markdown cells and tables, and the rows of ``summary.csv``,
``comparisons.csv`` and ``runs.csv``.

The numbers come from :func:`nninit.analysis.compare.summarize`; :mod:`nninit.analysis.summary` puts
these tables into ``summary.md`` beside the text.

What grows with the square of the groups is bounded where people read it: ``summary.md``'s table of pairs shows
at most :data:`MAX_PAIRS_SHOWN` (:func:`shown_pairs`), the figures at most :data:`MAX_GROUPS_DRAWN` groups
(:func:`drawn_groups`; :data:`MAX_BOUNDARY_GROUPS` for the decision boundaries); ``comparisons.csv``,
``summary.csv`` and ``runs.csv`` keep every pair, group and run.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from nninit.analysis import stats
from nninit.analysis.compare import Comparison, GroupSummary, higher_is_better
from nninit.record import runfolder
from nninit.record.runs import SEED_KEYS, Run

COMPARISON_COLUMNS = ("metric", "group_a", "group_b", "paired", "n_a", "n_b", "difference", "ci_low", "ci_high",
                      "p_value", "p_adjusted", "prob_improvement", "verdict")
"""The columns of ``comparisons.csv``; ``difference`` is mean of a − mean of b."""

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


MAX_PAIRS_SHOWN = 45
"""``summary.md``'s table of pairs shows at most this many (all the pairs of 10 groups)."""
MAX_GROUPS_DRAWN = 20
"""The figures draw at most this many groups (20 distinguishable curves, 20 columns of accuracies)."""
MAX_BOUNDARY_GROUPS = 10
"""``decision_boundaries.png`` draws at most this many groups (rows of 5 panels: 50 panels, 23 inches tall)."""


def shown_pairs(diffs: list[stats.Difference], reference: str) -> tuple[list[stats.Difference], str | None]:
    """The pairs ``summary.md`` lists: all of them up to :data:`MAX_PAIRS_SHOWN`; past that, those with
    ``reference`` (the baseline or the best group) first, then the smallest adjusted p-values, cut at
    :data:`MAX_PAIRS_SHOWN`, in their order, with a note saying so (None when all are shown)."""
    if len(diffs) <= MAX_PAIRS_SHOWN:
        return diffs, None
    def rank(i: int) -> tuple:
        d = diffs[i]
        p = d.p_adjusted if not math.isnan(d.p_adjusted) else math.inf
        return reference not in (d.group_a, d.group_b), p, i
    keep = sorted(sorted(range(len(diffs)), key=rank)[:MAX_PAIRS_SHOWN])
    note = (f"{MAX_PAIRS_SHOWN} of the {len(diffs):,} pairs are shown: those with {reference} first, then the "
            f"smallest adjusted p; every pair is in `comparisons.csv`.")
    return [diffs[i] for i in keep], note


def drawn_groups(c: Comparison, limit: int | None = None) -> list[str]:
    """The groups the figures draw: every group up to ``limit`` (default :data:`MAX_GROUPS_DRAWN`); past that, the
    reference (the baseline or the best) and the groups with the best means of the primary metric after it
    (unranked groups last), in the comparison's order."""
    limit = MAX_GROUPS_DRAWN if limit is None else limit
    labels = [s.label for s in c.summaries]
    if len(labels) <= limit:
        return labels
    down = higher_is_better(c.primary) is False
    def rank(s: GroupSummary) -> tuple:
        e = s.estimates[c.primary]
        return s.label != c.reference, not e.n, (e.mean if down else -e.mean) if e.n else 0.0
    keep = {s.label for s in sorted(c.summaries, key=rank)[:limit]}
    return [label for label in labels if label in keep]


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write ``rows`` (dicts; keys outside ``columns`` ignored, NaN as an empty cell) as CSV to ``path``, atomically."""
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
