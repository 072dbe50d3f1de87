"""Benchmark: ``scripts/runs.py`` and ``scripts/compare.py`` on many synthetic run folders (issue 22's rows).

    python scripts/benchmark_scale.py                       # 1,000 and 10,000 runs, and 100 groups x 10 seeds
    python scripts/benchmark_scale.py --runs 1000 10000 100000
    python scripts/benchmark_scale.py --runs 1000 --groups 0 --out /tmp/bench.json

How the folders are made: one real 100-iteration run (``run.py``, in a temporary folder) is the template; each
synthetic run is written directly from it (no training): its ``metrics.json`` with another init (5 inits), seed and
results (accuracies and final cost drawn around the template's), its ``history.csv`` with the cost curve scaled to
end at that final cost, and its ``data.npz`` and ``params_final.npz`` hard-linked to the template's (the same bytes;
the figures read them; a new copy every 65,000 links, ext4's limit). 10,000 runs take about a minute to write.
``--groups G`` adds a tree of G groups (``train.learning_rate`` values) × 10 seeds.

Each row runs the script in a child process and reports its wall time, its CPU time (user + system) and its
peak memory (``ru_maxrss``), from ``os.wait4`` (the child's own ``resource`` usage). ``runs.py`` is timed twice per
tree: first building the run index (``.nninit_index.sqlite``), then reading through it with ``--where
init=he --sort test_accuracy``; ``compare.py`` with its figures, after the index is built. The machine's load
(``os.getloadavg``) is printed with each row: on a shared machine CPU seconds are the firmer figures.

Targets (idle 2-core machine): compare.py 10,000 runs < 10 s; 100,000 < 60 s and < 2 GB; 100 groups × 10 seeds
< 10 s; runs.py --where --sort on 100,000 indexed runs < 5 s.

Everything is written under a temporary folder (``--tmp``, default the system's) and deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
INITS = ("he", "xavier", "zeros", "random", "lecun")


def template(work: Path) -> Path:
    """One real short run (100 iterations) to copy from."""
    subprocess.run([sys.executable, str(REPO / "run.py"), "train.num_iterations=100", "plots.animation=false",
                    f"hydra.run.dir={work / 'template'}"], cwd=work, check=True, capture_output=True)
    return work / "template"


def make_tree(tpl: Path, root: Path, n: int, *, groups: int = 0, seed: int = 0) -> None:
    """``n`` run folders under ``root`` written from ``tpl`` (module docstring); ``groups`` > 0: that many
    learning rates × ``n // groups`` seeds instead of 5 inits."""
    metrics = json.loads((tpl / "metrics.json").read_text())
    header, *rows = (tpl / "history.csv").read_text().splitlines()
    columns = header.split(",")
    history = np.array([[float(x) if x else np.nan for x in r.split(",")] for r in rows])
    cost_col = columns.index("cost")
    rng = np.random.default_rng(seed)
    per = n // groups if groups else n // len(INITS)
    sources: dict[str, Path] = {}
    for i in range(n):
        g, s = divmod(i, per)
        folder = root / f"g{g}" / f"job{s}"
        folder.mkdir(parents=True)
        m = json.loads(json.dumps(metrics))
        if groups:
            m["config"]["train"]["learning_rate"] = round(0.001 * (g + 1), 6)
        else:
            m["config"]["init"]["name"] = m["init"] = INITS[g % len(INITS)]
        m["config"]["seed"] = m["seed"] = s + 1
        acc = float(np.clip(rng.normal(0.7 + 0.05 * (g % 5), 0.05), 0, 1))
        m.update(train_accuracy=acc, test_accuracy=float(np.clip(acc + rng.normal(0, 0.02), 0, 1)),
                 final_cost=float(abs(rng.normal(0.5 - 0.05 * (g % 5), 0.05))), run_dir=str(folder))
        (folder / "metrics.json").write_text(json.dumps(m))
        h = history.copy()
        h[:, cost_col] *= m["final_cost"] / h[-1, cost_col]
        (folder / "history.csv").write_text("\n".join([header] + [",".join(repr(float(x)) for x in r) for r in h]))
        for name in ("data.npz", "params_final.npz"):
            try:
                os.link(sources.get(name, tpl / name), folder / name)
            except OSError:  # a file system's limit of links (65,000 on ext4): a new copy to link to
                shutil.copyfile(tpl / name, folder / name)
                sources[name] = folder / name


def measure(argv: list[str], cwd: Path) -> dict:
    """Wall and CPU seconds and peak memory (MB) of one child process running ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()[-500:] if status else ""
    proc.stderr.close()
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mb": round(usage.ru_maxrss / 1024), "ok": status == 0, "load": os.getloadavg()[0], "error": err}


def rows_for(tpl: Path, work: Path, n: int, groups: int = 0) -> list[dict]:
    root = work / (f"tree{n}" if not groups else f"groups{groups}")
    t0 = time.perf_counter()
    make_tree(tpl, root, n, groups=groups)
    made = time.perf_counter() - t0
    out = []
    label = f"{groups} groups x {n // groups} seeds" if groups else f"{n:,} runs"
    runs = str(REPO / "scripts" / "runs.py")
    compare = str(REPO / "scripts" / "compare.py")
    if not groups:
        out.append({"row": f"runs.py, {label}, building the index", **measure([runs, str(root)], work)})
        out.append({"row": f"runs.py --where --sort, {label}, indexed",
                    **measure([runs, str(root), "--where", "init=he", "--sort", "test_accuracy"], work)})
    else:
        measure([runs, str(root)], work)  # builds the index
    out.append({"row": f"compare.py, {label}, indexed",
                **measure([compare, str(root), "--out", str(work / f"cmp_{root.name}")], work)})
    for r in out:
        r["folders_written_s"] = round(made, 1)
        print(json.dumps(r), flush=True)
    shutil.rmtree(root)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--runs", nargs="*", type=int, default=[1000, 10000], help="tree sizes (default: 1000 10000)")
    parser.add_argument("--groups", type=int, default=100, help="groups of the 10-seed tree (0: none; default 100)")
    parser.add_argument("--tmp", default=None, help="where the trees are written (deleted at the end)")
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="nninit-bench-scale-", dir=args.tmp))
    try:
        tpl = template(work)
        results = []
        if args.groups:
            results += rows_for(tpl, work, args.groups * 10, groups=args.groups)
        for n in args.runs:
            results += rows_for(tpl, work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
