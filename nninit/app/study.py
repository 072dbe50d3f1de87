"""A named experiment's command: its command line, its sweeps through ``run.py -m``, its report.

An experiment (``experiments/<name>.py``) declares its sweeps and its report and hands both to
:func:`main`; this module runs the sweeps (``--launcher``, ``--quick``, ``--report-only``), reruns
them under another OpenBLAS kernel (``--check-kernel``) and writes the report. The sweeps run the
checkout's ``run.py`` with its ``conf/``: the package is installed from the checkout
(``pip install -e .``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from nninit.analysis.claims import claims_in
from nninit.app.hydra.naming import override, unique_dir
from nninit.record.blas import kernel_selected_by, numerical_platform
from nninit.record.runfolder import atomic_write
from nninit.record.runs import Run, find_runs

REPO = Path(__file__).resolve().parents[2]
"""The checkout the package is installed from: ``run.py``, ``conf/`` and ``tests/data/`` are there."""


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """An experiment's command line (``argv``, default ``sys.argv[1:]``): ``--out``, ``--launcher``,
    ``--quick``, ``--report-only``, ``--check-kernel`` and Hydra overrides for every job.

    Raises ``SystemExit`` (argparse's exit 2) for ``--report-only`` without ``--out``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", help="experiment folder (default: outputs/<date>/<time>_<experiment>)")
    parser.add_argument("--launcher", default="basic", choices=["basic", "joblib", "slurm"],
                        help="Hydra launcher for the sweeps: basic (one job at a time), joblib (all cores), "
                             "slurm (a cluster; see conf/hydra/launcher/slurm.yaml)")
    parser.add_argument("--quick", action="store_true", help="a reduced version (fewer seeds, iterations, layers)")
    parser.add_argument("--report-only", action="store_true", help="redraw the report from the runs already in --out")
    parser.add_argument("--check-kernel", metavar="KERNEL",
                        help="rerun the sweeps with OpenBLAS's KERNEL (OPENBLAS_CORETYPE, e.g. Haswell) into "
                             "<out>/kernel_KERNEL and say which claims keep their verdict (a rounding-level "
                             "perturbation: chaotic trainings can decide differently)")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every job, e.g. hydra.launcher.n_jobs=2")
    args = parser.parse_args(argv)
    if args.report_only and not args.out:
        parser.error("--report-only needs --out, the folder of a finished experiment")
    return args


def experiment_dir(name: str, out: str | None) -> Path:
    """``--out``, or a free ``outputs/<date>/<time>_<name>``; not created here: the sweeps create
    it when they start, so a refused command leaves nothing behind."""
    if out:
        return Path(out)
    now = dt.datetime.now()
    return Path(unique_dir(f"outputs/{now:%Y-%m-%d}/{now:%H-%M-%S}_{name}"))


def run_sweep(overrides: list[str], sweep_dir: Path, args: argparse.Namespace, env: dict | None = None) -> int:
    """``python run.py -m OVERRIDES`` into ``sweep_dir`` (in the environment ``env``, default this
    one); returns its exit code (1: a job failed)."""
    command = [sys.executable, str(REPO / "run.py"), "-m", *overrides, *args.overrides,
               override("hydra.sweep.dir", str(sweep_dir))]
    if args.launcher != "basic":
        command.append(f"hydra/launcher={args.launcher}")
    print("$", " ".join(command[1:]), flush=True)
    return subprocess.run(command, env=env).returncode


def main(name: str, description: str, sweeps, report, argv: list[str] | None = None) -> int:
    """An experiment's command: run its sweeps (unless ``--report-only``), then write and print the report.

    ``sweeps(args)`` returns ``[(overrides, subfolder), ...]``; ``report(out, args)`` writes
    ``report.md`` into ``out`` and returns its text. The exit code is 1 when a job failed.
    """
    args = parse_args(description, argv)
    if args.report_only and not Path(args.out).is_dir():
        print(f"{name}: error: --out {args.out}: no such folder (--report-only reads a finished experiment)",
              file=sys.stderr)
        return 2
    if args.check_kernel:
        got = kernel_selected_by(args.check_kernel)
        if (got or "").lower() != args.check_kernel.lower():
            print(f"{name}: error: --check-kernel {args.check_kernel}: OPENBLAS_CORETYPE={args.check_kernel} runs the "
                  f"{got or 'unknown'} kernel here (OpenBLAS falls back for a name it does not know or this CPU cannot "
                  f"run); choose a kernel it selects, e.g. Haswell on an AVX2 CPU", file=sys.stderr)
            return 2
    out = experiment_dir(name, args.out)
    code = 0
    if not args.report_only:
        for overrides, subfolder in sweeps(args):
            code |= run_sweep(overrides, out / subfolder, args)
            if not (out / subfolder).is_dir():  # refused before any job ran: its one error is above
                return code or 2
    try:
        text = report(out, args)
        if args.check_kernel:
            code |= check_kernel(args.check_kernel, out, text, sweeps, report, args)
            text = (out / "report.md").read_text()
        print(text)
    except (LookupError, FileNotFoundError, ValueError) as error:
        print(f"{name}: error: no report: {error}", file=sys.stderr)
        return 2
    return code


def check_kernel(kernel: str, out: Path, text: str, sweeps, report, args: argparse.Namespace) -> int:
    """Rerun the experiment's sweeps under OpenBLAS's ``kernel`` into ``out/kernel_<kernel>`` (unless
    ``--report-only``), report them there, and add to ``out/report.md`` a table of every claim's verdict
    under both, each marked kept or **flipped**. Returns the sweeps' exit code."""
    other = out / f"kernel_{kernel}"
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel}
    code = 0
    if not args.report_only:
        for overrides, subfolder in sweeps(args):
            code |= run_sweep(overrides, other / subfolder, args, env=env)
    here, there = claims_in(text), claims_in(report(other, args))
    native = numerical_platform()["blas"]
    rows = [f"| {claim} | {verdict} | {there.get(claim, 'not measured')} | "
            f"{'kept' if there.get(claim) == verdict else '**flipped**'} |" for claim, verdict in here.items()]
    flipped = sum(row.endswith("**flipped** |") for row in rows)
    section = ["", f"## Under another BLAS kernel: {kernel}", "",
               f"The same sweeps rerun with `OPENBLAS_CORETYPE={kernel}` (folder `kernel_{kernel}`, its own "
               f"`report.md`) against this report's BLAS ({native}): the last bits of every matrix product differ. "
               f"{len(rows) - flipped} of {len(rows)} verdicts kept, {flipped} flipped.", "",
               f"| claim | here | {kernel} | |", "|---|---|---|---|", *rows, ""]
    write_text(out / "report.md", (out / "report.md").read_text().rstrip("\n") + "\n" + "\n".join(section))
    return code


def load_runs(folder: Path, *, completed: bool = False) -> list[Run]:
    """The runs under ``folder`` (only the completed ones with ``completed=True``).

    Raises ``LookupError`` when there is none, so that a report is never drawn from nothing.
    """
    runs, skipped = find_runs([folder])
    for path, reason in skipped:
        print(f"warning: skipping {path}: {reason}", file=sys.stderr)
    if completed:
        runs = [r for r in runs if r.metrics.get("status") == "completed"]
    if not runs:
        raise LookupError(f"no {'completed ' if completed else ''}run under {folder} "
                          "(see its summary.md or the log above)")
    return runs


def heading(title: str, quick: bool, reduced: str) -> list[str]:
    """A report's title and first line: a ``--quick`` report says so in both and names what was
    reduced, and that it decides nothing."""
    if not quick:
        return [f"# {title}", ""]
    return [f"# {title} (quick run: decides nothing)", "",
            f"**A reduced (quick) run** ({reduced}): it shows that the experiment runs end to end. Its numbers "
            f"decide nothing: no claim is said to hold and nothing is ranked. Run it without `--quick` for the answer.",
            ""]


def write_text(path: Path, text: str) -> None:
    """Write a report's ``text`` to ``path`` atomically (creating its folder) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(text.encode()))
    print(f"Report: {path}")
