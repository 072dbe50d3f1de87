"""Benchmark rows of sweeps and run folders: what a sweep costs beside the trainings it runs, and a run
folder's size by the network's width.

    python scripts/benchmark_sweeps.py              # all rows (about 5 minutes on 2 idle cores)
    python scripts/benchmark_sweeps.py --sweep      # the 160-job sweep against the plain loop only
    python scripts/benchmark_sweeps.py --folders    # the folder sizes only

Rows:

- **160-job sweep against a plain loop**: ``python run.py -m init=zeros,random,he,xavier seed=0..39
  train.num_iterations=1000 hydra/launcher=joblib`` as a process, against the same 160 trainings (the jobs'
  configs read from their folders, then their initial parameters, training loop and recorded columns) in a
  plain numpy loop in this process.
  Wall and CPU seconds of each (the sweep's CPU: its process and every worker it waited for, from
  ``getrusage(RUSAGE_CHILDREN)``); the ratio of the wall times, target at most 3 (7.8 before the sweep
  plugins). On a busy machine the CPU seconds are the firmer figures.
- **Efficiency of the 30-job default sweep** (``init=zeros,random,he seed=1..10``, joblib): the jobs' training
  time (``wall_time_s`` of their ``metrics.json``) over cores × the sweep's wall time; target at least 0.7.
- **Run folder size by width**: ``python run.py model.hidden_dims=[w,w] train.num_iterations=1000
  train.print_every=100`` (a single run: every default figure and the animation), w = 10, 100, 300, 1,000;
  target: the 1,000-wide folder keeps ``decision_boundary.gif`` and stays under 20 MB.

Writes ``benchmark_sweeps.json`` into --out (default outputs/<date>/<time>_benchmark_sweeps/) and prints a
Markdown table with the machine's load (``os.getloadavg``) beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from nninit.app.hydra.naming import override  # noqa: E402
from nninit.record.runfolder import write_json  # noqa: E402

INITS, SEEDS, ITERATIONS = ("zeros", "random", "he", "xavier"), 40, 1000
WIDTHS = (10, 100, 300, 1000)
TARGETS = {"sweep_ratio": 3.0, "efficiency": 0.7, "folder_mb_1000": 20.0}


def _process(args: list[str], cwd: Path) -> dict:
    """``run.py ARGS`` as a process: wall seconds, and CPU seconds of it and the children it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, "MPLBACKEND": "Agg"})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def plain_loop(sweep_dir: Path) -> dict:
    """The sweep's trainings in one process: each job's config (read from its ``metrics.json``, outside the
    timing), its initial parameters and its training with the columns a run records; nothing written."""
    from nninit.data.cache import cached_dataset
    from nninit.numerics.activations import Activation
    from nninit.numerics.initializers import initial_parameters
    from nninit.numerics.recording import diagnostics, on_test_set
    from nninit.numerics.training import TrainSettings, train

    configs = [json.loads(m.read_text())["config"] for m in sorted(sweep_dir.glob("*/metrics.json"))]
    wall, cpu = time.perf_counter(), time.process_time()
    for cfg in configs:
        data = cached_dataset(cfg["data"])
        dims = [data.X_train.shape[0], *cfg["model"]["hidden_dims"], 1]
        parameters, _ = initial_parameters(cfg, dims, data.X_train)
        tr = cfg["train"]
        train(data.X_train, data.Y_train, parameters,
              TrainSettings(tr["learning_rate"], tr["num_iterations"], tr["print_every"]),
              Activation(cfg["model"]["activation"], cfg["model"]["negative_slope"]),
              records=[on_test_set(data.X_test, data.Y_test), *([diagnostics] if tr["diagnostics"] else [])])
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "jobs": len(configs)}


def sweep_rows(out: Path) -> dict:
    """The 160-job joblib sweep against the plain loop, and the 30-job default sweep's efficiency."""
    sweep = _process(["-m", f"init={','.join(INITS)}", f"seed=range(0,{SEEDS})", f"train.num_iterations={ITERATIONS}",
                      "hydra/launcher=joblib", override("hydra.sweep.dir", str(out / "sweep_160"))], out)
    plain = plain_loop(out / "sweep_160")
    folder = out / "sweep_30"
    default = _process(["-m", "init=zeros,random,he", "seed=range(1,11)", "hydra/launcher=joblib",
                        override("hydra.sweep.dir", str(folder))], out)
    training = sum(json.loads(m.read_text())["wall_time_s"] for m in folder.glob("*/metrics.json"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"jobs": len(INITS) * SEEDS, "plain": plain, "sweep": sweep, "ratio": sweep["wall_s"] / plain["wall_s"],
            "cpu_ratio": sweep["cpu_s"] / plain["cpu_s"], "default_sweep": default, "cores": cores,
            "efficiency": training / (cores * default["wall_s"])}


def folder_rows(out: Path) -> list[dict]:
    """A single run's folder size by width, and whether it kept its GIF."""
    rows = []
    for width in WIDTHS:
        folder = out / f"width_{width}"
        _process([f"model.hidden_dims=[{width},{width}]", f"train.num_iterations={ITERATIONS}", "train.print_every=100",
                  override("hydra.run.dir", str(folder))], out)
        files = {p.name: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        rows.append({"width": width, "mb": sum(files.values()) / 2**20, "gif": "decision_boundary.gif" in files,
                     "largest": sorted(files.items(), key=lambda kv: -kv[1])[:3]})
    return rows


def table(results: dict) -> str:
    lines = [f"Load average {results['load']} on {os.cpu_count()} cores.", ""]
    if "sweep" in results:
        s = results["sweep"]
        sweep, plain = s["sweep"], s["plain"]
        lines += ["| row | this | plain loop | ratio (target) |", "|---|---|---|---|",
                  f"| {s['jobs']}-job sweep of {ITERATIONS}-iteration jobs (joblib), wall | {sweep['wall_s']:.1f} s "
                  f"| {plain['wall_s']:.1f} s | {s['ratio']:.2f} (≤ {TARGETS['sweep_ratio']}) |",
                  f"| the same, CPU | {sweep['cpu_s']:.1f} s | {plain['cpu_s']:.1f} s | {s['cpu_ratio']:.2f} |",
                  f"| 30-job default sweep (joblib): training / ({s['cores']} cores × wall "
                  f"{s['default_sweep']['wall_s']:.1f} s) | {s['efficiency']:.2f} | | ≥ {TARGETS['efficiency']} |", ""]
    if "folders" in results:
        lines += ["| width (`hidden_dims=[w,w]`) | folder | GIF kept |", "|---|---|---|"]
        lines += [f"| {r['width']:,} | {r['mb']:.2f} MB | {'yes' if r['gif'] else 'no'} |" for r in results["folders"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="only the sweep rows")
    parser.add_argument("--folders", action="store_true", help="only the folder sizes")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or REPO / "outputs" / dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S_benchmark_sweeps")
    out.mkdir(parents=True, exist_ok=True)
    both = not (args.sweep or args.folders)
    results: dict = {}
    if args.sweep or both:
        results["sweep"] = sweep_rows(out)
    if args.folders or both:
        results["folders"] = folder_rows(out)
    results["load"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    write_json(out / "benchmark_sweeps.json", results)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
