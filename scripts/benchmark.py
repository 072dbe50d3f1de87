"""Benchmark: the training loop against a naive loop, the whole run against a plain script, how the
loop's cost grows, sweeps (launchers and how busy they keep the cores), start-up, and many runs.

    python scripts/benchmark.py                 # about 20 minutes; writes benchmark.json and .png
    python scripts/benchmark.py --quick         # about 2 minutes (no rows of many runs)
    python scripts/benchmark.py --whole-run     # the whole-run row only (a few repeats of two processes)
    python scripts/benchmark.py --many-runs     # the rows of many runs only, up to 100,000 (about 12 minutes)
    python scripts/benchmark.py --many-runs --runs 1000 --groups 10 --no-sweeps   # a small version of them

The rows of many runs (issue 22) are those of ``scripts/benchmark_scale.py`` (``runs.py`` and ``compare.py`` on
1,000 to 100,000 synthetic run folders, and on 100 groups x 10 seeds: wall, CPU, peak memory) and of
``scripts/benchmark_sweeps.py`` (a 160-job sweep against the same trainings in a plain loop, the 30-job sweep's
efficiency, a run folder's size by width); the full benchmark runs them at 1,000 and 10,000 runs.

Writes into --out (default outputs/<date>/<time>_benchmark/). All ratios are measured in one
run of this script, the two sides alternated, so they compare like with like on the same machine.
Every timing is the median of at least three repeats, printed with its spread; a target missed is
marked MISSED (the exit code does not change: the machine may be busy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
"""The checkout: its ``run.py`` is what the whole-run and sweep rows time (the package is installed from it)."""

from nninit.app.hydra.naming import override  # noqa: E402
from nninit.data import load_dataset  # noqa: E402
from nninit.numerics.initializers import initialize_parameters  # noqa: E402
from nninit.numerics.naive import naive_train  # noqa: E402
from nninit.numerics.training import TrainSettings, train  # noqa: E402
from nninit.record.blas import numerical_platform  # noqa: E402
from nninit.record.runfolder import write_json  # noqa: E402


def seed_run(repeats: int, num_iterations: int = 15000) -> dict:
    """Median seconds per run of both loops on the seed experiment, and their agreement."""
    data = load_dataset("circles")
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    harness, naive = [], []
    for _ in range(repeats):  # interleaved, so that drifts in machine speed hit both alike
        t = time.perf_counter()
        naive_params, _ = naive_train(data.X_train, data.Y_train, params, 0.01, num_iterations)
        naive.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = train(data.X_train, data.Y_train, params, TrainSettings(0.01, num_iterations, 1000))
        harness.append(time.perf_counter() - t)
    worst = max(float(np.max(np.abs(result.parameters[k] - naive_params[k]) / np.abs(naive_params[k]).clip(1e-300)))
                for k in params)
    h, n = spread(harness), spread(naive)
    return {"num_iterations": num_iterations, "repeats": repeats, "harness_s": h, "naive_s": n,
            "ratio": h["median"] / n["median"], "harness_it_per_s": num_iterations / h["median"],
            "naive_it_per_s": num_iterations / n["median"], "max_relative_difference": worst}


def matmul_flops(layers_dims: list[int], m: int) -> int:
    """Floating-point operations of the matrix products of one iteration.

    Forward ``W @ A``, backward ``dZ @ A.T`` and ``W.T @ dZ`` (not needed for the first layer):
    2 n[l] n[l-1] m each. Elementwise work (activations, bias, update) is O(sum n[l] m) and left out.
    """
    products = sum(2 * layers_dims[l] * layers_dims[l - 1] * m for l in range(1, len(layers_dims)))
    first = 2 * layers_dims[1] * layers_dims[0] * m
    return 3 * products - first


def time_per_iteration(hidden_dims: list[int], m: int, budget_s: float) -> dict:
    """Seconds per iteration of the harness loop (no recording between the ends) within a time budget."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2, m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    dims = [2, *hidden_dims, 1]
    params = initialize_parameters(dims, "he", np.random.RandomState(3))
    train(X, Y, params, TrainSettings(1e-3, 2, 10**9))  # warm-up
    t = time.perf_counter()
    train(X, Y, params, TrainSettings(1e-3, 3, 10**9))
    per = (time.perf_counter() - t) / 3
    n = max(3, min(200000, int(budget_s / max(per, 1e-7))))
    repeats = []
    for _ in range(3):
        t = time.perf_counter()
        train(X, Y, params, TrainSettings(1e-3, n, 10**9))
        repeats.append((time.perf_counter() - t) / n)
    per = statistics.median(repeats)
    flops = matmul_flops(dims, m)
    shape = f"{len(hidden_dims)} x {hidden_dims[0]}" if len(set(hidden_dims)) == 1 else str(hidden_dims)
    return {"hidden_dims": shape, "m": m, "iterations": n, "s_per_iteration": per, "spread": spread(repeats),
            "flops_per_iteration": flops, "gflop_per_s": flops / per / 1e9}


def scaling(quick: bool) -> dict:
    budget = 0.2 if quick else 1.0  # seconds per repeat
    widths = (10, 100, 1000) if quick else (10, 30, 100, 300, 1000)
    depths = (2, 10, 50) if quick else (2, 5, 10, 20, 50)
    sizes = (300, 3000, 30000) if quick else (300, 1000, 3000, 10000, 30000)
    return {
        "width": [time_per_iteration([w, w], 300, budget) | {"x": w} for w in widths],
        "depth": [time_per_iteration([100] * d, 300, budget) | {"x": d} for d in depths],
        "examples": [time_per_iteration([10, 5], m, budget) | {"x": m} for m in sizes],
    }


def _run(args: list[str], cwd: Path, script: Path = REPO / "run.py") -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, str(script), *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "MPLBACKEND": "Agg"})
    return time.perf_counter() - t


PLAIN_SCRIPT = """# What the seed notebook does, as a plain script: data, the naive loop, print.
import numpy as np
from sklearn.datasets import make_circles
from nninit.numerics.naive import naive_train

X, Y = make_circles(n_samples=300, noise=0.05, random_state=1)
X, Y = X.T, Y.reshape(1, -1).astype(float)
rng = np.random.RandomState(3)
dims = [2, 10, 5, 1]
params = {}
for l in range(1, len(dims)):
    params[f"W{l}"] = rng.randn(dims[l], dims[l - 1]) * np.sqrt(2.0 / dims[l - 1])
    params[f"b{l}"] = np.zeros((dims[l], 1))
params, costs = naive_train(X, Y, params, 0.01, 15000)
for i in range(0, 15000, 1000):
    print(f"Cost after iteration {i}: {costs[i]}")
"""


def spread(values: list[float]) -> dict:
    """Median, min and max of repeated timings."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "all": values}


def whole_run(out: Path, repeats: int) -> dict:
    """``python run.py init=he`` as a process (every default figure included) against the plain
    notebook-style script as a process, alternated ``repeats`` times. One untimed run first: the
    first run of a data set draws it and keeps it in the data cache (``nninit/data/cache.py``);
    every later one reads it there, without importing scikit-learn."""
    plain = out / "plain_notebook.py"
    plain.write_text(PLAIN_SCRIPT)
    _run(["init=he", override("hydra.run.dir", str(out / "whole_run_first"))], out)
    harness, baseline = [], []
    for k in range(repeats):
        baseline.append(_run([], out, plain))
        harness.append(_run(["init=he", override("hydra.run.dir", str(out / f"whole_run_{k}"))], out))
    h, b = spread(harness), spread(baseline)
    return {"harness_s": h, "plain_s": b, "ratio": h["median"] / b["median"], "repeats": repeats}


def sweep(out: Path, quick: bool, repeats: int) -> dict:
    """Median wall time of the same sweep with Hydra's basic launcher and with the joblib launcher.

    The two are run alternately ``repeats`` times, so that drifts in machine speed hit both alike.
    """
    seeds = "1,2,3,4" if quick else ",".join(map(str, range(1, 11)))
    overrides = ["-m", "init=zeros,random,he", f"seed={seeds}"] + (["train.num_iterations=5000"] if quick else [])
    basic, joblib, efficiency = [], [], []
    cores = os.cpu_count()
    for k in range(repeats):
        basic.append(_run([*overrides, override("hydra.sweep.dir", str(out / f"sweep_basic_{k}"))], out))
        folder = out / f"sweep_joblib_{k}"
        joblib.append(_run([*overrides, "hydra/launcher=joblib", override("hydra.sweep.dir", str(folder))], out))
        training = sum(json.loads(m.read_text())["wall_time_s"] for m in folder.glob("*/metrics.json"))
        efficiency.append(training / (cores * joblib[-1]))
    b, j, e = spread(basic), spread(joblib), spread(efficiency)
    return {"jobs": 3 * len(seeds.split(",")), "overrides": " ".join(overrides[1:]), "repeats": repeats,
            "basic_s": b, "joblib_s": j, "ratio": j["median"] / b["median"], "efficiency": e, "cores": cores}


def startup(out: Path, repeats: int = 3) -> dict:
    """Wall time of ``run.py --help`` and ``run.py --cfg job`` (a fresh interpreter each)."""
    return {name: spread([_run(args, out) for _ in range(repeats)])
            for name, args in (("help_s", ["--help"]), ("cfg_job_s", ["--cfg", "job"]))}


SCALE_TARGETS = {("compare.py", "100 groups x 10 seeds"): (10.0, None), ("compare.py", "10,000 runs"): (10.0, None),
                 ("compare.py", "100,000 runs"): (60.0, 2048), ("runs.py --where --sort", "100,000 runs"): (5.0, None)}
"""Issue 22's targets by (script, tree): wall seconds at most, and peak MB at most (None: none)."""


def many_runs(out: Path, sizes: list[int], groups: int, sweeps: bool = True) -> dict:
    """The rows of many runs: ``benchmark_scale.py``'s for ``groups`` x 10 seeds and for each of ``sizes`` runs, and
    (``sweeps``) ``benchmark_sweeps.py``'s sweep and folder rows, each script run as a child process (scripts do
    not import one another) writing its rows as JSON under ``out``."""
    scale = out / "benchmark_scale.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark_scale.py"), "--runs", *map(str, sizes),
                    "--groups", str(groups), "--tmp", str(out), "--out", str(scale)], check=True)
    results = {"scale": json.loads(scale.read_text())}
    if sweeps:
        folder = out / "sweeps"
        shown = subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark_sweeps.py"), "--out", str(folder)],
                               check=True, capture_output=True, text=True).stdout
        results.update(json.loads((folder / "benchmark_sweeps.json").read_text()), sweeps_table=shown.strip())
    return results


def many_runs_table(results: dict) -> str:
    """The rows of many runs as Markdown, each against its target."""
    lines = ["| row | wall | CPU | peak memory | target |", "|---|---|---|---|---|"]
    for r in results["scale"]:
        script, _, tree = r["row"].partition(", ")
        tree = tree.removesuffix(", indexed")
        wall_max, mb_max = SCALE_TARGETS.get((script, tree), (None, None))
        target = "" if wall_max is None else f"< {wall_max:g} s" + (f", < {mb_max / 1024:g} GB" if mb_max else "")
        missed = wall_max is not None and (r["wall_s"] >= wall_max or (mb_max is not None and r["peak_mb"] >= mb_max))
        lines.append(f"| {r['row']} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | {r['peak_mb']:,} MB "
                     f"| {target}{_mark(not missed)} |")
    if "sweeps_table" in results:
        lines += ["", results["sweeps_table"]]
    return "\n".join(lines)


def machine() -> dict:
    """Where the numbers were measured: the date, the cores, Python, numpy, and the numerical platform
    (:func:`nninit.record.blas.numerical_platform`: the BLAS library, version, kernel and threads, the CPU)."""
    return {"date": dt.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, **numerical_platform(),
            "processor": platform.machine(), "platform": platform.platform()}


TARGETS = {"loop": 0.6, "whole_run": 1.1, "sweep_ratio": 0.6, "efficiency": 0.5, "startup_s": 1.0}
"""Loop and whole-run ratios at most, the joblib/basic sweep ratio at most, sweep efficiency at least,
start-up seconds at most."""


def _mark(ok: bool) -> str:
    return "" if ok else " **MISSED**"


def _s(t: dict, unit: str = "s", digits: int = 2) -> str:
    return f"{t['median']:.{digits}f} {unit} ({t['min']:.{digits}f}–{t['max']:.{digits}f})"


def table(results: dict) -> str:
    s, w, sw, st, mc = (results[k] for k in ("seed_run", "whole_run", "sweep", "startup", "machine"))
    e, quick = sw["efficiency"], " (quick)" if results.get("quick") else ""
    lines = [f"Benchmark of {mc['date'][:10]} on {mc['cores']} cores ({mc['processor']}, numpy {mc['numpy']}, "
             f"BLAS {mc['blas']}){quick}; medians with (min–max) of the repeats", "",
             "| measurement | harness | baseline | ratio (target) |", "|---|---|---|---|",
             f"| training loop, seed run of {s['num_iterations']} iterations ({s['repeats']} repeats) "
             f"| {_s(s['harness_s'], digits=3)} ({s['harness_it_per_s']:,.0f} it/s) "
             f"| naive loop {_s(s['naive_s'], digits=3)} | {s['ratio']:.2f} "
             f"(≤ {TARGETS['loop']}){_mark(s['ratio'] <= TARGETS['loop'])} |",
             f"| whole run: `python run.py init=he` against a plain notebook-style script, as processes "
             f"({w['repeats']} repeats) | {_s(w['harness_s'])} | plain script {_s(w['plain_s'])} | {w['ratio']:.2f} "
             f"(≤ {TARGETS['whole_run']}){_mark(w['ratio'] <= TARGETS['whole_run'])} |",
             f"| sweep of {sw['jobs']} jobs ({sw['overrides']}; {sw['repeats']} repeats) "
             f"| joblib {_s(sw['joblib_s'], digits=1)} | basic {_s(sw['basic_s'], digits=1)} "
             f"| {sw['ratio']:.2f} (≤ {TARGETS['sweep_ratio']} on 2 cores)"
             f"{_mark(sw['ratio'] <= TARGETS['sweep_ratio'])} |",
             f"| sweep efficiency: the jobs' training time / (cores × joblib sweep wall time) "
             f"| {_s(e, unit='', digits=2)} | | "
             f"{e['median']:.2f} (≥ {TARGETS['efficiency']}){_mark(e['median'] >= TARGETS['efficiency'])} |",
             f"| `run.py --help` | {_s(st['help_s'])} | | (< {TARGETS['startup_s']:g} s)"
             f"{_mark(st['help_s']['median'] < 1)} |",
             f"| `run.py --cfg job` | {_s(st['cfg_job_s'])} | | (< {TARGETS['startup_s']:g} s)"
             f"{_mark(st['cfg_job_s']['median'] < 1)} |", "",
             f"Harness and naive loop agree to a relative difference of {s['max_relative_difference']:.1e}.", "",
             "| grows with | hidden layers | examples | s / iteration (min–max of 3) | matmul FLOPs / iteration "
             "| GFLOP/s |",
             "|---|---|---|---|---|---|"]
    for axis, rows in results["scaling"].items():
        for r in rows:
            lines.append(f"| {axis} | {r['hidden_dims']} | {r['m']} | {r['s_per_iteration'] * 1e6:,.1f} µs "
                         f"({r['spread']['min'] * 1e6:,.1f}–{r['spread']['max'] * 1e6:,.1f}) | "
                         f"{r['flops_per_iteration']:,.0f} | {r['gflop_per_s']:.2f} |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """Top: the three ratios; bottom: time per iteration (and GFLOP/s) as the problem grows."""
    from nninit.figures.plots import new_figure, save_figure

    fig = new_figure(13.0, 7.5)
    axes = fig.subplots(2, 3)
    s, w, sw = results["seed_run"], results["whole_run"], results["sweep"]
    bars = ((axes[0, 0], ["naive loop", "harness"], [s["naive_s"], s["harness_s"]], "seconds per seed run",
             f"Training loop, {s['num_iterations']} iterations: ratio {s['ratio']:.2f}"),
            (axes[0, 1], ["plain script", "run.py init=he"], [w["plain_s"], w["harness_s"]], "seconds (process)",
             f"Whole run: ratio {w['ratio']:.2f}"),
            (axes[0, 2], ["basic", "joblib"], [sw["basic_s"], sw["joblib_s"]], "sweep wall time (s)",
             f"Sweep of {sw['jobs']} jobs: ratio {sw['ratio']:.2f}, efficiency {sw['efficiency']['median']:.2f}"))
    for ax, labels, values, ylabel, title in bars:
        medians = [v["median"] for v in values]
        ax.bar(labels, medians, color=["gray", "tab:blue"],
               yerr=[[m - v["min"] for m, v in zip(medians, values)], [v["max"] - m for m, v in zip(medians, values)]],
               capsize=4)
        ax.set(ylabel=ylabel, title=title)
    for ax, (axis, xlabel) in zip(axes[1], (("width", "width of 2 hidden layers (m = 300)"),
                                           ("depth", "hidden layers of width 100 (m = 300)"),
                                           ("examples", "examples m (hidden [10, 5])"))):
        rows = results["scaling"][axis]
        x = [r["x"] for r in rows]
        ax.plot(x, [r["s_per_iteration"] * 1e6 for r in rows], marker="o", color="tab:blue")
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="µs per iteration")
        ax.grid(True, alpha=0.3, which="both")
        twin = ax.twinx()
        twin.plot(x, [r["gflop_per_s"] for r in rows], marker="s", color="tab:orange", linestyle="--")
        twin.set_ylabel("GFLOP/s (matmuls)", color="tab:orange")
        twin.set_ylim(bottom=0)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="output folder (default outputs/<date>/<time>_benchmark)")
    parser.add_argument("--quick", action="store_true", help="a reduced version, about two minutes")
    parser.add_argument("--whole-run", action="store_true", help="only the whole run against the plain script")
    parser.add_argument("--many-runs", action="store_true",
                        help="only the rows of many runs (runs.py and compare.py on synthetic run folders, the 160-job "
                             "sweep, the 30-job sweep's efficiency, the folder size by width)")
    parser.add_argument("--runs", nargs="+", type=int, metavar="N",
                        help="the synthetic trees of the rows of many runs (default: 1000 10000 100000 with "
                             "--many-runs, 1000 10000 in the full benchmark)")
    parser.add_argument("--groups", type=int, default=100, help="the tree of GROUPS x 10 seeds (0: none; default 100)")
    parser.add_argument("--no-sweeps", action="store_true", help="the rows of many runs without the sweep and folder "
                                                                 "rows")
    args = parser.parse_args(argv)
    if args.out:
        out = Path(args.out)
    else:
        from nninit.app.hydra.naming import unique_dir

        now = dt.datetime.now()
        out = Path(unique_dir(f"outputs/{now:%Y-%m-%d}/{now:%H-%M-%S}_benchmark"))
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    results = {"machine": machine(), "quick": args.quick, "targets": TARGETS}
    if args.whole_run:
        results["whole_run"] = w = whole_run(out, repeats=3 if args.quick else 5)
        write_json(out / "benchmark.json", results)
        print(f"whole run: {_s(w['harness_s'])} against the plain script {_s(w['plain_s'])}: ratio {w['ratio']:.2f} "
              f"(≤ {TARGETS['whole_run']}){_mark(w['ratio'] <= TARGETS['whole_run'])}; load average {os.getloadavg()}")
        return 0
    if args.many_runs:
        results["many_runs"] = many_runs(out, args.runs or [1000, 10000, 100000], args.groups, not args.no_sweeps)
        write_json(out / "benchmark.json", results)
        print(many_runs_table(results["many_runs"]))
        print(f"\nWritten: {out / 'benchmark.json'}")
        return 0
    print("seed run ...", flush=True)
    results["seed_run"] = seed_run(repeats=3 if args.quick else 5)
    print("scaling ...", flush=True)
    results["scaling"] = scaling(args.quick)
    print("whole run ...", flush=True)
    results["whole_run"] = whole_run(out, repeats=3 if args.quick else 5)
    print("sweep ...", flush=True)
    results["sweep"] = sweep(out, args.quick, repeats=3)
    print("start-up ...", flush=True)
    results["startup"] = startup(out)
    if not args.quick:
        print("many runs ...", flush=True)
        results["many_runs"] = many_runs(out, args.runs or [1000, 10000], args.groups, not args.no_sweeps)
    write_json(out / "benchmark.json", results)
    plot(results, out / "benchmark.png")
    print(table(results))
    if "many_runs" in results:
        print("\n" + many_runs_table(results["many_runs"]))
    print(f"\nWritten: {out / 'benchmark.json'}, {out / 'benchmark.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
