"""Compare groups of finished runs: per-group estimates and pairwise differences, computed once.

Reads runs through :mod:`nninit.record.runs` and computes with :mod:`nninit.analysis.stats`; :func:`summarize`
returns a :class:`Comparison`, which :mod:`nninit.analysis.summary` writes as tables, text and figures.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from nninit.analysis import stats
from nninit.record.runs import (
    LABEL_KEYS,
    PLATFORM_KEYS,
    SHORT_NAMES,
    Run,
    deduplicate,
    find_where,
    group_runs,
    is_seed_key,
    load_metrics,
    matches,
    resolve_group_keys,
    varying_keys,
)

log = logging.getLogger(__name__)

DEFAULT_METRICS = ("train_accuracy", "test_accuracy", "final_cost")
PRIMARY_METRIC = "test_accuracy"
LOWER_IS_BETTER = ("final_cost", "wall_time_s", "total_time_s", "dead", "diverged_at")


def higher_is_better(metric: str) -> bool | None:
    """The direction of a metric: accuracies up, costs, times and dead units down, others none."""
    if metric.endswith("accuracy"):
        return True
    if metric in LOWER_IS_BETTER or metric.endswith("cost"):
        return False
    return None


def bounds(metric: str) -> tuple[float, float]:
    """The range a metric's mean can take: [0, 1] for accuracies and fractions of dead units,
    [0, inf) for costs and times; its interval is clipped to it (a t interval can reach past it)."""
    if metric.endswith("accuracy") or metric == "dead" or metric.startswith("dead_"):
        return stats.FRACTION
    if higher_is_better(metric) is False:
        return stats.NON_NEGATIVE
    return stats.UNBOUNDED


def seed_values(runs: list[Run], metric: str) -> dict[tuple, float]:
    """One value per distinct seed over the completed runs (runs of a group sharing a seed, which
    happens only when a key varies within the group, are averaged)."""
    by_seed: dict[tuple, list[float]] = {}
    for r in runs:
        v = r.value(metric) if r.completed else None
        if v is not None and math.isfinite(v):
            by_seed.setdefault(r.seed, []).append(v)
    return {k: sum(v) / len(v) for k, v in by_seed.items()}


@dataclass
class GroupSummary:
    """One group: its runs, status counts and, per metric, the values by seed and their estimate."""

    label: str
    runs: list[Run]
    values: dict[str, dict[tuple, float]]
    estimates: dict[str, stats.Estimate]
    counts: dict[str, int]


def summarize_groups(groups: dict[str, list[Run]], metrics: tuple[str, ...] = DEFAULT_METRICS, *,
                     method: str = "auto") -> list[GroupSummary]:
    """Per group: the estimate of each metric over its completed runs, and status counts.

    Only runs with status ``completed`` enter the estimates; ``diverged``, ``failed`` and
    ``interrupted`` runs are counted. ``at chance`` and ``symmetric`` count completed runs.
    """
    out = []
    for label, runs in groups.items():
        done = [r for r in runs if r.completed]
        values = {m: seed_values(runs, m) for m in metrics}
        counts = {
            "runs": len(runs),
            "seeds": len({r.seed for r in done}),
            "completed": len(done),
            "diverged": sum(r.metrics.get("status") == "diverged" for r in runs),
            "failed": sum(r.metrics.get("status") in ("failed", "interrupted", "running") for r in runs),
            "at chance": sum(bool(r.at_chance()) for r in done),
            "symmetric": sum(bool(r.symmetric()) for r in done),
            "history unreadable": sum(r.history_error is not None for r in done),
        }
        estimates = {m: stats.describe(list(values[m].values()), method=method, bounds=bounds(m)) for m in metrics}
        out.append(GroupSummary(label, runs, values, estimates, counts))
    return out


def compare_summaries(summaries: list[GroupSummary], metrics: tuple[str, ...], *,
                      baseline: str | None = None) -> list[stats.Difference]:
    """Pairwise comparisons (or each group against ``baseline``) for every metric, Bonferroni-adjusted
    over the pairs of each metric (:func:`nninit.analysis.stats.compare_groups`)."""
    rows = []
    for m in metrics:
        rows += stats.compare_groups(m, {s.label: s.values[m] for s in summaries},
                                     higher_is_better=higher_is_better(m), baseline=baseline)
    return rows


@dataclass
class Comparison:
    """Everything a summary says, computed once: the runs, their groups and the statistics."""

    runs: list[Run]
    keys: list[str]
    groups: dict[str, list[Run]]
    metrics: tuple[str, ...]
    primary: str
    baseline: str | None
    summaries: list[GroupSummary]
    diffs: list[stats.Difference]
    skipped: list[tuple[Path, str]]
    dropped: list[tuple[Path, Path]]
    platforms: tuple[str, ...] = ()
    """The distinct BLAS (``environment.blas``) of every run found, repeats included."""
    varying: list[str] = field(default_factory=list)
    """The config keys that vary between the runs (:func:`~nninit.record.runs.varying_keys`), worked out once."""

    @property
    def reference(self) -> str:
        """The group the differences figure is drawn against: the baseline, or the best by the
        primary metric."""
        return self.baseline or _best_label(self.summaries, self.primary)


def summarize(
    paths: list[str | Path],
    *,
    group_by: list[str] | None = None,
    metrics: tuple[str, ...] | None = None,
    primary: str = PRIMARY_METRIC,
    baseline: str | None = None,
    method: str = "auto",
    where: list[str] | None = None,
    index: bool = False,
) -> Comparison:
    """Find the runs under ``paths``, count repeats once, group them and compute the statistics.

    Parameters are those of :func:`write_summary`. Raises as it does, before anything is written.
    """
    if method not in stats.METHODS:
        raise ValueError(f"--ci-method {method!r}: accepted are {', '.join(stats.METHODS)}")
    runs, skipped = _found(paths, where, index)
    platforms = tuple(sorted({str(r.get("blas")) for r in runs if r.get("blas") is not None}))
    # grouped by a label (name) or the platform, runs that differ in it are two measurements, not repeats
    runs, dropped = deduplicate(runs, [k for k in group_by or [] if k in PLATFORM_KEYS or k in LABEL_KEYS])
    if dropped:
        log.warning("%d repeated run(s) counted once (same config and seeds; the most recent kept): %s", len(dropped),
                    "; ".join(f"{d} (kept {k})" for d, k in dropped))
    varying = varying_keys(runs)
    keys = resolve_group_keys(group_by, runs) if group_by else [k for k in varying if not is_seed_key(k)]
    groups = group_runs(runs, keys)
    metrics = _metrics(runs, metrics, primary, paths)
    baseline = resolve_baseline(baseline, groups, keys)
    summaries = summarize_groups(groups, metrics, method=method)
    diffs = compare_summaries(summaries, metrics, baseline=baseline)
    return Comparison(runs, keys, groups, tuple(metrics), primary, baseline, summaries, diffs, skipped, dropped,
                      platforms, varying)


def _found(paths: list[str | Path], where: list[str] | None,
           index: bool = False) -> tuple[list[Run], list[tuple[Path, str]]]:
    """The runs under ``paths`` that meet every ``where`` condition, and the folders skipped (logged).

    Raises ``LookupError`` when no run is found, or none meets the conditions."""
    runs, found, skipped = find_where(paths, where, index=index)
    for path, reason in skipped:
        log.warning("skipping %s: %s", path, reason)
    if not found:
        raise LookupError(f"no run folder with a readable metrics.json under {', '.join(map(str, paths))}")
    if not runs:
        raise LookupError(f"{'the only run' if found == 1 else f'none of the {found} runs'} under "
                          f"{', '.join(map(str, paths))} {'does not have' if found == 1 else 'has'} "
                          f"{' and '.join(where)}")
    load_metrics(runs)  # every run's record is read below: parsed many at a time
    return runs, skipped


def _metrics(runs: list[Run], metrics: tuple[str, ...] | None, primary: str,
             paths: list[str | Path]) -> tuple[str, ...]:
    """The metrics to summarize: ``metrics`` (default: :data:`DEFAULT_METRICS`, and ``dead`` when runs
    record it) with ``primary`` first if missing.

    Raises ``LookupError`` when no run completed, ``ValueError`` when no run has one of the metrics."""
    if metrics is None:
        metrics = DEFAULT_METRICS + (("dead",) if any(r.value("dead") is not None for r in runs) else ())
    if primary not in metrics:
        metrics = (primary, *metrics)
    for name in metrics:
        if all(r.value(name) is None for r in runs):
            if not any(r.completed for r in runs):  # not the metric's fault
                raise LookupError(f"no run completed under {', '.join(map(str, paths))}: {_statuses(runs)}; each "
                                  f"run's metrics.json says why (its 'error')")
            raise ValueError(f"--metric {name!r}: no run has this number; use a metrics.json key such as "
                             f"train_accuracy, test_accuracy, final_cost, wall_time_s, a history.csv column such as "
                             f"a_std_1, or dead")
    return metrics


def _statuses(runs: list[Run]) -> str:
    """``'3 of 3 runs failed'``, ``'2 of 4 runs failed, 2 diverged'``: how many runs ended how."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[str(r.metrics.get("status"))] = counts.get(str(r.metrics.get("status")), 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    parts[0] = parts[0].replace(" ", f" of {len(runs)} run{'s' if len(runs) > 1 else ''} ", 1)
    return ", ".join(parts)


def _best_label(summaries: list[GroupSummary], metric: str) -> str:
    direction = higher_is_better(metric)
    scored = [s for s in summaries if s.estimates[metric].n]
    if not scored:
        return summaries[0].label
    pick = min if direction is False else max
    return pick(scored, key=lambda s: s.estimates[metric].mean).label


def resolve_baseline(baseline: str | None, groups: dict[str, list[Run]], keys: list[str]) -> str | None:
    """The group label that ``baseline`` names: a label itself, or ``KEY=VALUE`` pairs that match
    exactly one group (``init=he``; ``init`` is short for ``init.name``). A value matches as ``--where``'s do
    (:func:`~nninit.record.runs.matches`: ``init.gain=2`` names a gain of 2.0), or as its text in any case.

    Raises
    ------
    ValueError
        When it matches no group or several.
    """
    if baseline is None or baseline in groups:
        return baseline
    wanted = {}
    for part in re.split(r",\s*(?=[\w.]+=)", baseline):  # a comma inside a value ([10,5]) is the value's
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise ValueError(f"--baseline {baseline!r}: expected KEY=VALUE such as init=he, or a group label: "
                             f"{', '.join(groups)}")
        wanted[{v: k for k, v in SHORT_NAMES.items()}.get(key, key)] = value
    named = [label for label, members in groups.items()
             if all(str(members[0].get(k)).lower() == v.lower() or matches(members[0].get(k), v)
                    for k, v in wanted.items())]
    if len(named) != 1:
        found = "no group" if not named else f"{len(named)} groups ({', '.join(named)})"
        raise ValueError(f"--baseline {baseline!r} matches {found}; the groups are: {', '.join(groups)}")
    return named[0]
