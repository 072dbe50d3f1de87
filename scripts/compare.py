"""Compare finished runs: the grouped table and plots for any mix of run and sweep folders.

    python scripts/compare.py outputs/2026-11-30 outputs/2026-12-01/10-00-00_sweep --out comparison
    python scripts/compare.py outputs/ --group-by init model.activation --metric test_accuracy
    python scripts/compare.py outputs/2026-12-01/10-00-00_sweep --baseline init=he
    python scripts/compare.py outputs/ --where tags=baseline --where status=completed --group-by name

Runs are found recursively (``--where KEY=VALUE`` keeps those that meet every such condition) and
grouped by every config key that varies between them except the seeds (or by ``--group-by``;
``name`` is the runs' label); runs repeated with the same config and seeds count once. Each group
gets the mean of each metric with its 95 % interval, each pair of groups (or each group against
``--baseline``) a paired-by-seed difference with its interval and p-value (both Bonferroni-adjusted) and a
verdict. A folder of runs is read through its run index (``.nninit_index.sqlite`` beside the runs,
:mod:`nninit.record.runs.index`; ``--no-index`` reads every folder). With many groups the pairwise outputs are
bounded (``summary.md`` and the figures page or cap them; ``comparisons.csv`` keeps every pair). Exit codes: 0
done, 2 no run found or bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from nninit.app.cli import exit_with
from nninit.app.report import write_summary


class _Once(argparse.Action):
    """An option that may be given once: a second value is refused rather than silently replacing the first."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest) is not None:
            parser.error(f"{option_string} given twice ({getattr(namespace, self.dest)}, {values}): give one group")
        setattr(namespace, self.dest, values)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="run folders or folders holding runs")
    parser.add_argument("--out", default="comparison", help="output folder (default: ./comparison)")
    parser.add_argument("--group-by", nargs="+", metavar="KEY",
                        help="config keys to group by, e.g. init model.activation, or name (the runs' label) "
                             "(default: all varying keys but seeds); a seed (seed, data.train_seed) groups by that "
                             "seed within each config: the other varying keys are added")
    parser.add_argument("--where", action="append", metavar="KEY=VALUE",
                        help="compare only the runs that meet this condition (repeatable: all must hold); KEY is a "
                             "config key (init, init.name, train.learning_rate, ...), status, name, or tags (the "
                             "run has the tag), e.g. --where tags=baseline --where status=completed")
    parser.add_argument("--metric", action="append", metavar="NAME",
                        help="a column of the table (repeatable; the first is the primary metric, which 'Which is "
                             "best?' and the figures are about): a metrics.json key such as test_accuracy or "
                             "wall_time_s, or a history.csv column at the last row such as a_std_3 "
                             "(default: test_accuracy first, then train_accuracy, final_cost, and dead when recorded)")
    parser.add_argument("--baseline", metavar="KEY=VALUE", action=_Once,
                        help="compare every group to this one (e.g. init=he) instead of all pairs (given once)")
    parser.add_argument("--ci-method", default="auto", choices=["auto", "t", "bca", "percentile"],
                        help="interval of a mean: Student's t, or scipy's bootstrap (BCa or percentile); "
                             "auto: t below 30 seeds, BCa from 30, t again from 1,000 (default)")
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    parser.add_argument("--no-index", action="store_true",
                        help="read every run folder, not the run index kept beside them (.nninit_index.sqlite, "
                             "brought up to date from the folders on each use; same results)")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow --out to be a folder holding runs (e.g. rewrite a sweep's own summary)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    out = Path(args.out)
    if not args.overwrite and out.is_dir() and next(out.rglob("metrics.json"), None) is not None:
        print(f"compare.py: error: --out {args.out} holds runs (a run or sweep folder): its own summary files would be "
              f"replaced; choose another folder, or add --overwrite to rewrite them", file=sys.stderr)
        return 2
    try:
        table, written = write_summary(args.paths, args.out, group_by=args.group_by,
                                       metrics=tuple(dict.fromkeys(args.metric)) if args.metric else None,
                                       primary=args.metric[0] if args.metric else "test_accuracy",
                                       baseline=args.baseline, method=args.ci_method, where=args.where,
                                       title="Comparison of " + ", ".join(args.paths), plots=not args.no_plots,
                                       index=not args.no_index)
    except (LookupError, ValueError) as error:
        print(f"compare.py: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a missing path, an --out that cannot be written
        where = f": {error.filename}" if error.filename else ""
        print(f"compare.py: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2
    print(table)
    print("\nWritten: " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    exit_with(main)
