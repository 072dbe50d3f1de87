"""List the runs under folders: one line per run, with its status and results.

    python scripts/runs.py                                   # every run under outputs/
    python scripts/runs.py outputs/2026-12-01 --where init=he --where status=completed
    python scripts/runs.py outputs/ --where tags=baseline --sort test_accuracy --reverse --format md
    python scripts/runs.py outputs/ --format csv > runs.csv

Runs are found recursively and read by the same reader as ``scripts/compare.py``
(:mod:`nninit.record.runs`). Each line: when it started (local time), its name, its overrides, status,
iterations run, train and test accuracy, final cost and folder; the table fits the terminal's width
(long overrides and names are cut with '…'; ``--format csv`` gives them whole). ``--where KEY=VALUE`` (repeatable:
all must hold) keeps the runs whose config key (``init``, ``init.name``, ``train.learning_rate``,
...), ``status`` or ``name`` has that value, or whose ``tags`` hold it. ``--sort KEY`` orders by a
column, a config key or a ``metrics.json`` number (missing values last; default: started).
A folder that holds no readable ``metrics.json`` is named on stderr. A folder of runs is read through its
run index (``.nninit_index.sqlite`` beside the runs, :mod:`nninit.record.runs.index`: unchanged runs are not read
again; ``--no-index`` reads every folder). Exit codes: 0 done, 2 bad
arguments or no run.
"""

from __future__ import annotations

import argparse
import sys

from nninit.app.cli import exit_with
from nninit.record.runs.listing import COLUMNS, FORMATS, folder_name, listed, render, row, working_folder

__all__ = ["COLUMNS", "FORMATS", "main", "parse_args"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["outputs"],
                        help="run folders or folders holding runs (default: outputs/)")
    parser.add_argument("--where", action="append", metavar="KEY=VALUE",
                        help="list only the runs that meet this condition (repeatable: all must hold); KEY is a "
                             "config key (init, init.name, train.learning_rate, ...), status, name, or tags (the "
                             "run has the tag)")
    parser.add_argument("--sort", metavar="KEY", default="started",
                        help=f"order by a column ({', '.join(COLUMNS)}), a config key or a metrics.json number; "
                             f"missing values last (default: started)")
    parser.add_argument("--reverse", action="store_true", help="the largest (or latest) first")
    parser.add_argument("--no-index", action="store_true",
                        help="read every run folder, not the run index kept beside them (.nninit_index.sqlite, "
                             "brought up to date from the folders on each use; same listing)")
    parser.add_argument("--format", default="table", choices=FORMATS,
                        help="table: aligned plain text; md: a Markdown table; csv: raw values (default: table)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    working_folder.cache_clear()  # resolved once per listing, not once per process (tests change the working folder)
    try:
        total, selected = listed(args.paths, args.where, args.sort, reverse=args.reverse, index=not args.no_index,
                                report=lambda path, reason: print(f"runs.py: skipping {folder_name(path)}: {reason}",
                                                                  file=sys.stderr))
    except (OSError, ValueError, LookupError) as error:
        print(f"runs.py: error: {error}", file=sys.stderr)
        return 2
    if not selected:
        which = "the only run does not have" if total == 1 else f"none of the {total} runs has"
        print(f"runs.py: error: {which} {' and '.join(args.where)}", file=sys.stderr)
        return 2
    print(render([row(r) for r in selected], args.format))
    if args.format == "table":
        found = f"{total} run{'s' if total > 1 else ''}"
        print(f"{len(selected)} of {found}" if args.where else found, file=sys.stderr)
    return 0


if __name__ == "__main__":
    exit_with(main)
