"""The listing of ``scripts/runs.py`` and ``nninit.runs``: one row per run (when it started, its name, overrides,
status, iterations, accuracies, final cost and folder), ordered by a column, a config key or a metrics number,
and rendered as an aligned table that fits the terminal, a Markdown table, or CSV."""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from nninit.record.runs.find import find_where
from nninit.record.runs.groups import has_control
from nninit.record.runs.read import Run

COLUMNS = ("started", "name", "overrides", "status", "iterations", "train_accuracy", "test_accuracy", "final_cost",
           "folder")
"""The columns of the listing, in order (also the names ``--sort`` accepts besides config keys)."""
FORMATS = ("table", "md", "csv")
TABLE_WIDTH = 160
"""The table's width when the output is not a terminal and ``COLUMNS`` is not set."""
SHRINKABLE = ("overrides", "name")
"""Columns cut to fit the table's width (an experiment's runs have hundreds of characters of overrides)."""
MIN_SHRUNK = 24
MISSING = 2
"""The rank :func:`sort_key` gives a run without a value (numbers are 0, text 1): last, also with ``reverse``."""


def listed(paths: list[str | Path], conditions: list[str] | None = None, sort: str = "started", *,
           reverse: bool = False, index: bool = True,
           report: Callable[[Path, str], None] | None = None) -> tuple[int, list[Run]]:
    """What ``scripts/runs.py`` and :func:`nninit.runs` list: the runs under ``paths`` that meet every condition, in
    order.

    Parameters
    ----------
    paths : list of str or Path
        Run folders or folders holding runs (searched recursively, :func:`~nninit.record.runs.find_runs`).
    conditions : list of str, optional
        ``KEY=VALUE`` each (:func:`~nninit.record.runs.where`); all must hold.
    sort : str, default="started"
        A column of :data:`COLUMNS`, a config key or a ``metrics.json`` number (:func:`sort_key`).
    reverse : bool, default=False
        The largest (or latest) first.
    index : bool, default=True
        Read a folder of runs through its run index (:mod:`~nninit.record.runs.index`; the same answer).
    report : callable, optional
        Called with each folder that is not a usable run and the reason, before any error is raised.

    Returns
    -------
    total : int
        How many runs were found before the conditions.
    selected : list of Run
        Those that meet the conditions (none, when none does), ordered by ``sort`` (missing values last), then by
        folder.

    Raises
    ------
    ValueError
        A malformed condition (before any folder is read), a key no run has, or an unknown sort key.
    LookupError
        No run under ``paths``.
    OSError
        A path that does not exist.
    """
    selected, total, skipped = find_where(paths, conditions, index=index)
    for path, reason in skipped if report is not None else ():
        report(path, reason)
    if not total:
        raise LookupError(f"no run folder with a readable metrics.json under {', '.join(map(str, paths))}")
    if not selected:
        return total, []
    key = sort_key(sort, selected)
    ordered = sorted(selected, key=lambda r: (key(r), str(r.path)), reverse=reverse)
    if reverse:  # the largest first, and still the runs without a value last (a stable sort keeps the rest's order)
        ordered.sort(key=lambda r: key(r)[0] == MISSING)
    return total, ordered


def folder_name(path: Path) -> str:
    """``path`` relative to the working folder when it is under it, else absolute."""
    try:
        return str(path.relative_to(working_folder()))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=1)
def working_folder() -> Path:
    """The working folder, resolved once per listing (which asks for it once per run)."""
    return Path.cwd().resolve()


COLUMN_VALUES = {
    "started": lambda run: run.recorded("started_at"),
    "name": lambda run: run.recorded("name"),
    "overrides": lambda run: " ".join(str(o) for o in run.recorded("overrides") or []),
    "status": lambda run: run.recorded("status"),
    "iterations": lambda run: run.recorded("iterations_run"),
    "train_accuracy": lambda run: run.value("train_accuracy"),
    "test_accuracy": lambda run: run.value("test_accuracy"),
    "final_cost": lambda run: run.value("final_cost"),
    "folder": lambda run: folder_name(run.path),
}
"""How each column of :data:`COLUMNS` is read from a run."""


def row(run: Run) -> dict:
    """The listing's values of one run (raw: numbers as recorded, ``started`` as ISO text).

    Parameters
    ----------
    run : Run

    Returns
    -------
    dict
        One value per name of :data:`COLUMNS`; None where the run has none.
    """
    return {key: value(run) for key, value in COLUMN_VALUES.items()}


def sort_key(key: str, runs: list[Run]):
    """A function giving each run's sort value for ``key``: a column of :data:`COLUMNS`, a config
    key (``init`` is short for ``init.name``), or a number of ``metrics.json`` (``wall_time_s``).

    Raises
    ------
    ValueError
        When ``key`` is none of these for any run; the message names the key and what is accepted.
    """
    short = {"init": "init.name", "data": "data.name"}.get(key, key)
    if key in COLUMNS:
        value = COLUMN_VALUES[key]
    elif any(short in r.config for r in runs):
        def value(run):
            return run.get(short)
    elif any(isinstance(r.recorded(key), (int, float, str)) for r in runs):
        def value(run):
            return run.recorded(key)
    else:
        config_keys = {k for r in runs for k in r.config}
        raise ValueError(f"--sort {key!r}: not a column, config key or metrics.json value of these runs; accepted: "
                         f"{', '.join(COLUMNS)}, a config key ({', '.join(sorted(config_keys))}) or a number of "
                         f"metrics.json such as wall_time_s")

    def ordered(run: Run) -> tuple:
        v = value(run)
        if v is None:
            return (MISSING, 0, "")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, float(v), "")
        return (1, 0, str(v))
    return ordered


def _local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def shown(values: dict) -> dict:
    """The values of :func:`row` as the table and Markdown show them: local start time,
    accuracies in percent, the cost to 4 significant digits, '-' for none."""
    out = {}
    for key, v in values.items():
        if key == "started":
            out[key] = _local_time(v) or "-"
        elif v is None or v == "":
            out[key] = "-"
        elif key.endswith("accuracy"):
            out[key] = f"{100 * v:.1f}%"
        elif key == "final_cost":
            out[key] = f"{v:.4g}"
        else:
            text = str(v)  # a hand-edited name may hold a line break: escaped, the row stays one line
            out[key] = json.dumps(text)[1:-1] if has_control(text) else text
    return out


def render(rows: list[dict], fmt: str) -> str:
    """The listing in ``fmt``: ``table`` (aligned plain text), ``md`` (a Markdown table) or ``csv``
    (raw values, a header line first)."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in r.items()}
                         for r in rows)
        return buf.getvalue().rstrip("\n")
    cells = [shown(r) for r in rows]
    if fmt == "md":
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(c[k].replace("|", "\\|") for k in COLUMNS) + " |" for c in cells]
        return "\n".join(lines)
    widths = fitted({k: max([len(k)] + [len(c[k]) for c in cells]) for k in COLUMNS},
                    shutil.get_terminal_size((TABLE_WIDTH, 24)).columns)
    right = {"iterations", "train_accuracy", "test_accuracy", "final_cost"}

    def cell(c: dict, k: str) -> str:
        text = c[k] if len(c[k]) <= widths[k] else c[k][:widths[k] - 1] + "…"
        return text.rjust(widths[k]) if k in right else text.ljust(widths[k])
    return "\n".join("  ".join(cell(c, k) for k in COLUMNS).rstrip() for c in [{k: k for k in COLUMNS}, *cells])


def fitted(widths: dict[str, int], limit: int) -> dict[str, int]:
    """Column widths for a table at most ``limit`` characters wide: the free-text columns
    (:data:`SHRINKABLE`, cut with '…') give up what is needed, down to :data:`MIN_SHRUNK` each; the
    other columns (the folder, the numbers) stay whole. ``--format csv`` or ``md`` gives every value in full.

    Parameters
    ----------
    widths : dict of str to int
        The width each column needs.
    limit : int
        The terminal's width (``shutil.get_terminal_size``).
    """
    out = dict(widths)
    excess = sum(out.values()) + 2 * (len(out) - 1) - limit
    for key in SHRINKABLE:
        cut = min(max(excess, 0), out[key] - max(MIN_SHRUNK, len(key)))
        if cut > 0:
            out[key] -= cut
            excess -= cut
    return out
