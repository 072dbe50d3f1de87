"""Compare finished runs: find run folders, group them by everything but the seed, summarize.

Reads only run folders (``metrics.json``, ``history.csv``, ``params_final.npz``, ``data.npz``),
so runs from different days, sweeps and machines can be mixed. Used by the sweep callback at
the end of a multirun and by ``scripts/compare.py``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nninit import runfolder

log = logging.getLogger(__name__)

SEED_KEYS = ("seed", "data.train_seed", "data.test_seed")
"""Config keys pooled over, never grouped by (unless asked for explicitly)."""
DEFAULT_METRICS = ("train_accuracy", "test_accuracy", "final_cost")
SHORT_NAMES = {"init.name": "init", "data.name": "data"}
CHANCE_MARGIN = 0.01
"""A run is 'at chance' when its train accuracy is at most the majority-class rate plus this."""


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """Nested dict -> ``{'a.b': value}``; lists become their JSON text (hashable, readable)."""
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list) else value
    return flat


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


@dataclass
class Run:
    """One finished run folder: its metrics and its flattened config."""

    path: Path
    metrics: dict
    config: dict = field(default_factory=dict)
    _history: dict | None = None

    @property
    def history(self) -> dict[str, np.ndarray]:
        """``history.csv`` as float columns (empty if missing)."""
        if self._history is None:
            try:
                self._history = runfolder.read_history(self.path / runfolder.HISTORY)
            except (OSError, ValueError):
                self._history = {}
        return self._history

    def value(self, name: str) -> float | None:
        """A number for this run: a ``metrics.json`` key, or a ``history.csv`` column at its last
        row, or ``dead`` (mean over hidden layers of the final fraction of dead units)."""
        if name in self.metrics:
            v = self.metrics[name]
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        h = self.history
        if name == "dead":
            cols = [k for k in h if re.fullmatch(r"dead_\d+", k)]
            return float(np.mean([h[k][-1] for k in cols])) if cols else None
        if name in h and len(h[name]):
            return float(h[name][-1])
        return None

    def symmetric(self) -> bool | None:
        """True when every hidden layer of more than one unit has a single distinct unit at the
        last recorded row (the symmetry was never broken); None without diagnostics or such layers."""
        dims = self.metrics.get("layers_dims") or []
        cols = [f"distinct_{l}" for l in range(1, len(dims) - 1) if dims[l] > 1 and f"distinct_{l}" in self.history]
        return all(self.history[k][-1] == 1 for k in cols) if cols else None

    def at_chance(self) -> bool | None:
        """True when the train accuracy is no better than always predicting the majority class."""
        acc = self.value("train_accuracy")
        if acc is None:
            return None
        try:
            Y = runfolder.load_arrays(self.path / runfolder.DATA)["Y_train"]
            majority = max(Y.mean(), 1 - Y.mean())
        except (OSError, KeyError, ValueError):
            majority = 0.5
        return acc <= majority + CHANCE_MARGIN


def find_runs(paths: list[str | Path]) -> tuple[list[Run], list[tuple[Path, str]]]:
    """Every run folder under ``paths`` (searched recursively).

    A run folder holds ``metrics.json`` or Hydra's ``.hydra/``. Folders whose ``metrics.json`` is
    missing or unreadable (a killed run) are returned in ``skipped`` with the reason.

    Returns
    -------
    runs : list of Run
        In natural order of their paths (job 2 before job 10).
    skipped : list of (Path, str)

    Raises
    ------
    FileNotFoundError
        When a path does not exist.
    """
    candidates: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            p = p.parent
        if (p / runfolder.METRICS).is_file() or (p / ".hydra").is_dir():
            candidates.add(p.resolve())
        candidates.update(m.parent.resolve() for m in p.rglob(runfolder.METRICS))
        candidates.update(h.parent.resolve() for h in p.rglob(".hydra") if h.is_dir())
    runs, skipped = [], []
    for path in sorted(candidates, key=_natural):
        try:
            metrics = runfolder.read_json(path / runfolder.METRICS)
            if "status" not in metrics:
                raise ValueError("no 'status' key")
        except FileNotFoundError:
            skipped.append((path, "metrics.json is missing (a killed or still running job?)"))
            continue
        except (OSError, ValueError) as error:
            skipped.append((path, f"metrics.json is unreadable ({error})"))
            continue
        runs.append(Run(path, metrics, flatten(metrics.get("config") or {})))
    return runs, skipped


def varying_keys(runs: list[Run]) -> list[str]:
    """Config keys whose value is not the same in every run (a missing key counts as None)."""
    keys = sorted({k for r in runs for k in r.config})
    varying = [k for k in keys if len({json.dumps(r.config.get(k)) for r in runs}) > 1]
    return sorted(varying, key=lambda k: (k != "init.name", k != "data.name", k))


def default_group_keys(runs: list[Run]) -> list[str]:
    """Every key that varies across the runs, except the seeds."""
    return [k for k in varying_keys(runs) if k not in SEED_KEYS]


def resolve_group_keys(names: list[str], runs: list[Run]) -> list[str]:
    """Map user names to config keys: ``init`` -> ``init.name``; unknown names raise ValueError."""
    known = {k for r in runs for k in r.config}
    keys = []
    for name in names:
        key = {v: k for k, v in SHORT_NAMES.items()}.get(name, name)
        if key not in known:
            raise ValueError(f"--group-by {name!r}: no such config key in these runs; "
                             f"known keys: {', '.join(sorted(known))}")
        keys.append(key)
    return keys


def group_label(run: Run, keys: list[str]) -> str:
    """``'init=he, model.activation=tanh'``: the run's values of ``keys`` (None shown as null)."""
    parts = [f"{SHORT_NAMES.get(k, k)}={'null' if run.config.get(k) is None else run.config.get(k)}" for k in keys]
    return ", ".join(parts) if parts else "all runs"


def label_keys(runs: list[Run], keys: list[str]) -> list[str]:
    """The grouping keys worth naming in labels.

    A key that only some init options have (``init.scale`` of ``random`` when sweeping
    ``init=he,random``) varies only by its presence, and ``init`` already tells those groups
    apart; such a key is left out of the labels when the labels stay distinct without it.
    """
    def distinct(shown: list[str]) -> bool:
        labels = {tuple(json.dumps(r.config.get(k)) for k in keys): group_label(r, shown) for r in runs}
        return len(set(labels.values())) == len(labels)

    shown = list(keys)
    for k in keys:
        present = {json.dumps(r.config.get(k)) for r in runs if r.config.get(k) is not None}
        trial = [s for s in shown if s != k]
        if len(present) <= 1 and trial and distinct(trial):
            shown = trial
    return shown


def group_runs(runs: list[Run], keys: list[str]) -> dict[str, list[Run]]:
    """Runs by group (their values of ``keys``), labelled by :func:`label_keys`, in order of
    first appearance. Every group keeps its own entry: labels are distinct by construction."""
    shown = label_keys(runs, keys)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(tuple(json.dumps(run.config.get(k)) for k in keys), []).append(run)
    labelled = {group_label(members[0], shown): members for members in groups.values()}
    assert len(labelled) == len(groups), "group labels must be distinct"
    return labelled


def mean_std(values: list[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1; NaN for one value) and count of the finite values."""
    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan, int(v.size)


@dataclass
class GroupSummary:
    label: str
    runs: list[Run]
    stats: dict[str, tuple[float, float, int]]
    counts: dict[str, int]


def summarize_groups(groups: dict[str, list[Run]], metrics: tuple[str, ...] = DEFAULT_METRICS) -> list[GroupSummary]:
    """Per group: mean ± std of each metric over its completed runs, and status counts.

    Only runs with status ``completed`` enter the means; ``diverged``, ``failed`` and
    ``interrupted`` runs are counted. ``at chance`` and ``symmetric`` count completed runs.
    """
    out = []
    for label, runs in groups.items():
        done = [r for r in runs if r.metrics.get("status") == "completed"]
        stats = {m: mean_std([r.value(m) for r in done]) for m in metrics}
        counts = {
            "n": len(runs),
            "completed": len(done),
            "diverged": sum(r.metrics.get("status") == "diverged" for r in runs),
            "failed": sum(r.metrics.get("status") in ("failed", "interrupted", "running") for r in runs),
            "at chance": sum(bool(r.at_chance()) for r in done),
            "symmetric": sum(bool(r.symmetric()) for r in done),
        }
        out.append(GroupSummary(label, runs, stats, counts))
    return out


def _fmt(mean: float, std: float, metric: str) -> str:
    """Accuracies as percentages with one decimal; other numbers with four decimals, or four
    significant digits when they are tiny or huge."""
    if math.isnan(mean):
        return "n/a"
    if metric.endswith("accuracy"):
        number = "{:.1f}"
        mean, std, unit = 100 * mean, 100 * std, "%"
    else:
        number = "{:.4f}" if mean == 0 or 1e-3 <= abs(mean) < 1e5 else "{:.4g}"
        unit = ""
    if math.isnan(std):
        return number.format(mean) + unit
    return f"{number.format(mean)} ± {number.format(std)}{unit}"


def markdown_table(summaries: list[GroupSummary], metrics: tuple[str, ...] = DEFAULT_METRICS) -> str:
    """The grouped table in Markdown: counts, then mean ± std of each metric."""
    head = ["group", "n", "diverged", "failed", "at chance", "symmetric", *metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        c = s.counts
        cells = [s.label, str(c["n"]), str(c["diverged"]), str(c["failed"]), str(c["at chance"]), str(c["symmetric"])]
        cells += [_fmt(*s.stats[m][:2], m) for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differences(runs: list[Run], groups: dict[str, list[Run]], keys: list[str]) -> list[str]:
    """Lines naming what differs: config keys between groups, and environment within them."""
    lines = []
    for key in keys:
        values = [str(grp[0].config.get(key)) for grp in groups.values()]
        lines.append(f"- `{key}` differs between groups: {', '.join(dict.fromkeys(values))}")
    for key in (k for k in varying_keys(runs) if k not in keys):
        within = max(len({json.dumps(r.config.get(key)) for r in members}) for members in groups.values())
        if within > 1:
            pooled = "pooled within groups" if key in SEED_KEYS else "varies within groups, not grouped by"
            lines.append(f"- `{key}` is {pooled} (up to {within} values in a group)")
    for key in ("git_commit", "numpy", "scikit-learn", "hydra-core", "python"):
        values = {str(r.metrics["environment"].get(key)) for r in runs if r.metrics.get("environment")}
        if len(values) > 1:
            lines.append(f"- runs were made with different `{key}`: {', '.join(sorted(values))}")
    return lines


def summary_rows(groups: dict[str, list[Run]]) -> list[dict]:
    """One row per run for ``summary.csv``."""
    rows = []
    for label, runs in groups.items():
        for r in runs:
            m = r.metrics
            rows.append({
                "group": label,
                "overrides": " ".join(m.get("overrides", [])),
                "status": m.get("status"),
                "train_accuracy": m.get("train_accuracy"),
                "test_accuracy": m.get("test_accuracy"),
                "final_cost": m.get("final_cost"),
                "iterations": m.get("iterations_run"),
                "diverged_at": m.get("diverged_at"),
                "wall_time_s": m.get("wall_time_s"),
                "seed": r.config.get("seed"),
                "error": m.get("error"),
                "run_dir": str(r.path),
            })
    return rows


def write_summary(
    paths: list[str | Path],
    out_dir: str | Path,
    *,
    group_by: list[str] | None = None,
    metrics: tuple[str, ...] | None = None,
    title: str = "Comparison",
    plots: bool = True,
) -> tuple[str, list[Path]]:
    """Find the runs under ``paths`` and write ``summary.csv``, ``summary.md`` and the plots.

    The console text returned is the grouped table followed by what differs between the groups.

    Parameters
    ----------
    paths : list of path
        Run folders and/or folders holding runs (searched recursively).
    out_dir : path
        Where to write (created).
    group_by : list of str, optional
        Config keys to group by (``init`` means ``init.name``). Default: every key that varies
        across the runs except the seeds.
    metrics : tuple of str, optional
        Columns of the grouped table: ``metrics.json`` keys or ``history.csv`` columns (final
        row). Default: train and test accuracy and the final cost, plus ``dead`` when the runs
        recorded diagnostics.
    plots : bool, default=True
        Draw ``cost_curves.png``, ``accuracy.png`` and ``decision_boundaries.png``.

    Returns
    -------
    text : str
        The grouped Markdown table and the "what differs" lines (printed by the callers).
    written : list of Path

    Raises
    ------
    LookupError
        When no run folder is found.
    ValueError
        For an unknown ``group_by`` key.
    """
    out_dir = Path(out_dir)
    runs, skipped = find_runs(paths)
    for path, reason in skipped:
        log.warning("skipping %s: %s", path, reason)
    if not runs:
        raise LookupError(f"no run folder with a readable metrics.json under {', '.join(map(str, paths))}")
    keys = resolve_group_keys(group_by, runs) if group_by else default_group_keys(runs)
    groups = group_runs(runs, keys)
    if metrics is None:
        metrics = DEFAULT_METRICS + (("dead",) if any(r.value("dead") is not None for r in runs) else ())
    for name in metrics:
        if all(r.value(name) is None for r in runs):
            raise ValueError(f"--metric {name!r}: no run has this number; use a metrics.json key such as "
                             f"train_accuracy, test_accuracy, final_cost, wall_time_s, a history.csv column such as "
                             f"a_std_1, or dead")
    summaries = summarize_groups(groups, metrics)
    table = markdown_table(summaries, metrics)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    rows = summary_rows(groups)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    runfolder.atomic_write(out_dir / "summary.csv", lambda f: f.write(buf.getvalue().encode()))
    written.append(out_dir / "summary.csv")

    if plots:
        from nninit.comparison_plots import plot_accuracy, plot_cost_curves, plot_decision_boundaries

        plot_cost_curves(groups, out_dir / "cost_curves.png")
        plot_accuracy(groups, out_dir / "accuracy.png")
        plot_decision_boundaries(groups, out_dir / "decision_boundaries.png")
        written += [out_dir / "cost_curves.png", out_dir / "accuracy.png", out_dir / "decision_boundaries.png"]

    grouped_by = ", ".join(f"`{SHORT_NAMES.get(k, k)}`" for k in keys) or "nothing (one group)"
    text = [
        f"# {title}", "",
        f"{len(runs)} runs in {len(groups)} groups, grouped by {grouped_by}; the seeds "
        f"(`seed`, `data.*_seed`) are pooled. Metrics: mean ± sample standard deviation over the "
        f"completed runs of each group (percentages for accuracies; `dead` is the final fraction of "
        f"dead hidden units). `at chance`: train accuracy at most 1 point above the majority-class "
        f"rate; `symmetric`: every hidden layer of more than one unit ended with a single distinct "
        f"unit; `failed` includes interrupted runs.", "",
        table, "",
    ]
    diffs = differences(runs, groups, keys)
    if diffs:
        text += ["## What differs", "", *diffs, ""]
    if skipped:
        text += ["## Skipped", "", *[f"- `{p}`: {reason}" for p, reason in skipped], ""]
    text += ["## Files", "", "- `summary.csv`: one row per run"]
    if plots:
        text += ["- `cost_curves.png`: mean cost per group, band = min–max over seeds",
                 "- `accuracy.png`: accuracy per group, one point per seed, the mean marked",
                 "- `decision_boundaries.png`: decision boundaries, groups × first seeds"]
    md = "\n".join(text) + "\n"
    runfolder.atomic_write(out_dir / "summary.md", lambda f: f.write(md.encode()))
    written.insert(1, out_dir / "summary.md")
    return "\n".join([table, "", *diffs]).rstrip(), written
