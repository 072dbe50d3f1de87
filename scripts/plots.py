"""Draw the figures of finished runs from their folders (no retraining).

    python scripts/plots.py outputs/2026-12-01/10-00-00_sweep        # every job of a sweep
    python scripts/plots.py outputs/2026-12-01/10-05-12_he --animation

A sweep's jobs draw no figures of their own by default (``plots.figures``; the sweep summary
draws the groups): this draws them afterwards, from the saved files, exactly as a single run
would. ``--animation`` also draws ``decision_boundary.gif`` where the run kept its animation's
frames (``boundary_frames.npz``; a single run does by default, a sweep job with
``plots.animation=true``). Exit codes: 0 done, 1 a run could not be drawn, 2 no run found.
"""

from __future__ import annotations

import argparse
import logging
import sys

from nninit.app.cli import exit_with
from nninit.record.runs import find_runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="run folders or folders holding runs")
    parser.add_argument("--animation", action="store_true", help="also draw decision_boundary.gif where possible")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        runs, skipped = find_runs(args.paths)
    except FileNotFoundError as error:
        print(f"plots.py: error: {error}", file=sys.stderr)
        return 2
    for path, reason in skipped:
        print(f"warning: skipping {path}: {reason}", file=sys.stderr)
    if not runs:
        print(f"plots.py: error: no run folder under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    from nninit.figures.plots import plot_run

    code = 0
    for run in runs:
        if run.metrics.get("status") in ("failed", "running") or not (run.path / "params_final.npz").exists():
            print(f"{run.path}: {run.metrics.get('status')}, nothing to draw")
            continue
        try:
            written = plot_run(run.path, animation=args.animation)
        except (OSError, ValueError, KeyError) as error:
            print(f"{run.path}: could not draw ({type(error).__name__}: {error})", file=sys.stderr)
            code = 1
            continue
        note = ""
        if args.animation and not (run.path / "boundary_frames.npz").exists():
            note = " (no animation: the run kept no boundary_frames.npz; rerun it with plots.animation=true)"
        print(f"{run.path}: {', '.join(p.name for p in written)}{note}")
    return code


if __name__ == "__main__":
    exit_with(main)
