"""A comparison written to a folder: its tables (:mod:`nninit.analysis.summary`) and its figures
(:mod:`nninit.figures.comparison_plots`), all or nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from nninit.analysis.compare import PRIMARY_METRIC, Comparison, summarize
from nninit.analysis.summary import (
    COMPARISON_COLUMNS,
    FIGURE_FILES,
    RUN_COLUMNS,
    SUMMARY_COLUMNS,
    group_rows,
    run_rows,
    summary_text,
    write_csv,
)
from nninit.analysis.tables import MAX_BOUNDARY_GROUPS, drawn_groups
from nninit.record import runfolder
from nninit.record.signals import deferred, stop_if_interrupted


def write_summary(
    paths: list[str | Path],
    out_dir: str | Path,
    *,
    group_by: list[str] | None = None,
    metrics: tuple[str, ...] | None = None,
    primary: str = PRIMARY_METRIC,
    baseline: str | None = None,
    method: str = "auto",
    where: list[str] | None = None,
    title: str = "Comparison",
    plots: bool = True,
    quick: bool = False,
    index: bool = False,
) -> tuple[str, list[Path]]:
    """Find the runs under ``paths`` and write the summary files and plots.

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
        row). Default: train and test accuracy and the final cost, plus ``dead`` when recorded.
        ``primary`` is added when missing.
    primary : str, default='test_accuracy'
        The metric that "Which is best?", ``accuracy.png`` and ``differences.png`` are about.
    baseline : str, optional
        ``KEY=VALUE`` (e.g. ``init=he``) or a group label: compare every group to that one
        instead of all pairs.
    method : {'auto', 't', 'bca', 'percentile'}
        The interval of a mean (:func:`nninit.analysis.stats.mean_interval`).
    where : list of str, optional
        ``KEY=VALUE`` conditions (:func:`nninit.record.runs.where`): only the runs that meet all of them
        are compared, chosen before repeats are counted and groups are formed.
    title : str
    plots : bool, default=True
        Draw ``cost_curves.png``, ``accuracy.png``, ``differences.png`` and ``decision_boundaries.png`` (of at
        most :data:`~nninit.analysis.tables.MAX_GROUPS_DRAWN` groups, :func:`~nninit.analysis.tables.drawn_groups`).
    quick : bool, default=False
        A reduced run: the summary says so and ranks nothing.
    index : bool, default=False
        Read folders of runs through their run index (:mod:`nninit.record.runs.index`; the same answer, without
        reading unchanged runs again); ``scripts/compare.py`` does unless given ``--no-index``.

    Returns
    -------
    text : str
        What the console shows: the warnings, the grouped table, "Which is best?", what differs.
    written : list of Path

    Raises
    ------
    LookupError
        When no run folder is found, or none meets ``where``.
    ValueError
        For an unknown ``group_by`` key, metric, baseline, method or ``where`` key, or a
        malformed ``where`` condition.
    """
    c = summarize(paths, group_by=group_by, metrics=metrics, primary=primary, baseline=baseline, method=method,
                  where=where, index=index)
    return write_comparison(c, out_dir, title=title, plots=plots, quick=quick)


def write_comparison(c: Comparison, out_dir: str | Path, *, title: str = "Comparison", plots: bool = True,
                     quick: bool = False) -> tuple[str, list[Path]]:
    """Write the files of :func:`write_summary` for a comparison already computed.

    All or nothing: the files are made in a temporary folder inside ``out_dir`` and moved into place
    together at the end (``summary.md`` last), with interrupts held for those renames; a Ctrl-C or an
    error while the tables or figures are made leaves ``out_dir`` as it was (no tables without their
    ``summary.md``, no figures of another comparison beside new tables).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = ["summary.csv", "comparisons.csv", "runs.csv", *FIGURE_FILES, "summary.md"]  # summary.md last
    staging = Path(tempfile.mkdtemp(prefix=".summary-", dir=out_dir))
    try:
        write_csv(staging / "summary.csv", group_rows(c.summaries, c.metrics), SUMMARY_COLUMNS)
        write_csv(staging / "comparisons.csv", [vars(d) for d in c.diffs], list(COMPARISON_COLUMNS))  # flat fields
        write_csv(staging / "runs.csv", run_rows(c.groups), RUN_COLUMNS)
        if plots:
            from nninit.figures import comparison_plots as cp

            drawn = set(drawn_groups(c))  # at most MAX_GROUPS_DRAWN: figures of hundreds of groups are unreadable
            groups = {label: runs for label, runs in c.groups.items() if label in drawn}
            cp.plot_cost_curves(groups, staging / "cost_curves.png")
            cp.plot_accuracy([s for s in c.summaries if s.label in drawn], staging / "accuracy.png")
            cp.plot_differences([d for d in c.diffs if d.group_a in drawn and d.group_b in drawn], c.primary,
                                c.reference, staging / "differences.png", quick=quick)
            panels = set(drawn_groups(c, MAX_BOUNDARY_GROUPS))  # 5 panels a group, each a forward pass on a grid
            cp.plot_decision_boundaries({label: runs for label, runs in groups.items() if label in panels},
                                        staging / "decision_boundaries.png")
        md, console = summary_text(c, title=title, plots=plots, quick=quick)
        runfolder.atomic_write(staging / "summary.md", lambda f: f.write(md.encode()))
        made = [name for name in names if (staging / name).exists()]  # a figure with nothing to draw is not made
        with deferred():  # a few renames: an interrupt waits for them
            for name in FIGURE_FILES:  # figures of an earlier comparison here would not match the new tables
                if name not in made:
                    (out_dir / name).unlink(missing_ok=True)
            for name in made:
                os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stop_if_interrupted()
    return console, [out_dir / name for name in ("summary.csv", "summary.md", "comparisons.csv", "runs.csv",
                                                 *FIGURE_FILES) if name in made]
