"""Real sweeps through ``hydra/launcher=slurm`` on a real (single-node) SLURM cluster.

The cluster is the one ``sinfo`` answers for, or the one of ``.ci/slurm_cluster.sh`` (started
here when running as root and not yet running). Without one, every test is skipped with the
reason (shown by ``-ra``). ``.ci/run`` starts the cluster before the suite.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, compose

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

SCRIPT = REPO / ".ci" / "slurm_cluster.sh"
OWN_CONF = Path(os.environ.get("NNINIT_SLURM_DIR", "/tmp/nninit-slurm")) / "slurm.conf"
SHORT = ["train.num_iterations=300", "train.print_every=100"]


def _cluster_answers(env: dict) -> str | None:
    """None when the cluster of ``env`` has a node that takes jobs, else why not."""
    if shutil.which("sinfo") is None:
        return "sinfo is not installed"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=20,
                              check=False)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 20 s"
    states = proc.stdout.split()
    if proc.returncode != 0:
        return f"sinfo failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}"
    if not any(s.rstrip("*") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no node takes jobs (states: {' '.join(states) or 'none'})"
    return None


@pytest.fixture(scope="session")
def slurm_env():
    """The environment in which ``sinfo``/``sbatch``/``sacct`` reach a cluster; skips when none can be had."""
    env = {**os.environ, "MPLBACKEND": "Agg", "HYDRA_FULL_ERROR": "0"}
    if os.environ.get("SLURM_CONF") and _cluster_answers(env) is None:
        yield env
        return
    own = {**env, "SLURM_CONF": str(OWN_CONF)}
    if OWN_CONF.is_file() and _cluster_answers(own) is None:
        yield own
        return
    if "SLURM_CONF" not in os.environ and _cluster_answers(env) is None:  # a cluster of /etc/slurm
        yield env
        return
    why = _cluster_answers(own if OWN_CONF.is_file() else env)
    if os.environ.get("NNINIT_SLURM_SKIP"):  # .ci/run tried to start one and could not
        pytest.skip(f"no SLURM cluster ({why}): {os.environ['NNINIT_SLURM_SKIP']}")
    if os.geteuid() != 0:
        pytest.skip(f"no SLURM cluster answers ({why}) and not root to start one: "
                    f"run `sudo bash .ci/slurm_cluster.sh start`")
    proc = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0 or _cluster_answers(own) is not None:
        detail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[:6])
        pytest.skip(f"no SLURM cluster: .ci/slurm_cluster.sh start exited {proc.returncode}: {detail}")
    yield own
    # as we found it
    subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, text=True, timeout=120, check=False)


def _sweep(args: list[str], cwd: Path, env: dict, name: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python run.py -m hydra/launcher=slurm ARGS`` with the sweep and submitit folders under cwd."""
    slurm = ["hydra/launcher=slurm", f"hydra.sweep.dir={cwd / name}",
             f"hydra.launcher.submitit_folder={cwd / 'submitit' / name}/%j"]
    return subprocess.run([sys.executable, str(REPO / "run.py"), "-m", *slurm, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _basic_sweep(args: list[str], cwd: Path, env: dict, name: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "run.py"), "-m", *args, f"hydra.sweep.dir={cwd / name}"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def _jobs(sweep_dir: Path) -> dict[str, Path]:
    """Job folders by their name without the job number: ``init=he,seed=2,...``."""
    return {p.name.split("_", 1)[1]: p for p in sweep_dir.iterdir() if p.is_dir() and p.name[0].isdigit()}


def _check_readable(folder: Path) -> None:
    """Every file of a run folder is complete: JSON parses, arrays load, the CSV has its rows, images decode."""
    import matplotlib.image

    names = {p.name for p in folder.iterdir()}
    assert {"metrics.json", "data.npz", "params_init.npz"} <= names, names
    for path in folder.iterdir():
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                assert arrays.files and all(np.isfinite(arrays[k]).all() for k in arrays.files), path
        elif path.suffix == ".csv":
            rows = _rows(path)
            assert rows and all(None not in row.values() for row in rows), path
        elif path.suffix == ".png":
            assert matplotlib.image.imread(path).size, path


def _explain(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


# --- (a) a sweep: every job, the summary, the same numbers as the basic launcher --------------------------------


def test_a_slurm_sweep_writes_every_job_and_the_summary(slurm_env, tmp_path):
    started = time.monotonic()
    proc = _sweep(["init=zeros,he", "seed=1,2", *SHORT], tmp_path, slurm_env, "slurm")
    assert proc.returncode == 0, _explain(proc)
    sweep_dir = tmp_path / "slurm"
    jobs = _jobs(sweep_dir)
    assert sorted(jobs) == sorted(f"init={i},seed={s},train.num_iterations=300,train.print_every=100"
                                  for i in ("zeros", "he") for s in (1, 2)), sorted(jobs)
    for name, folder in jobs.items():
        metrics = _metrics(folder)
        assert metrics["status"] == "completed" and metrics["iterations_run"] == 300, (name, metrics["status"])
        _check_readable(folder)
    # the jobs ran under SLURM: submitit left one folder per array task with its sbatch script
    scripts = list((tmp_path / "submitit" / "slurm").rglob("*_submission.sh"))
    assert scripts and all("#SBATCH" in p.read_text() for p in scripts)
    assert len(list((tmp_path / "submitit" / "slurm").rglob("*_result.pkl"))) == 4
    # the summary counts the four jobs in two groups of two seeds
    runs = _rows(sweep_dir / "runs.csv")
    assert len(runs) == 4 and {r["status"] for r in runs} == {"completed"}
    groups = {r["group"] for r in _rows(sweep_dir / "summary.csv")}
    assert groups == {"init=zeros", "init=he"}, groups
    comparisons = _rows(sweep_dir / "comparisons.csv")
    assert comparisons and all({r["group_a"], r["group_b"]} == groups for r in comparisons)
    md = (sweep_dir / "summary.md").read_text()
    assert "| init=zeros | 2 |" in md and "| init=he | 2 |" in md
    assert str(sweep_dir / "summary.md") in proc.stdout
    # bit for bit what the basic launcher computes
    basic = _basic_sweep(["init=he", "seed=2", *SHORT], tmp_path, slurm_env, "basic")
    assert basic.returncode == 0, _explain(basic)
    (name, basic_job), = _jobs(tmp_path / "basic").items()
    for file in ("params_init.npz", "params_final.npz"):
        with np.load(basic_job / file) as a, np.load(jobs[name] / file) as b:
            assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files), file
    assert (basic_job / "history.csv").read_text() == (jobs[name] / "history.csv").read_text()
    print(f"slurm sweep of 4 jobs + 1 basic job: {time.monotonic() - started:.0f} s")


# --- (b) a job past its time limit, (c) resumed --------------------------------------------------------------------


def _iterations_for(seconds: float, tmp_path: Path) -> int:
    """How many iterations of the default network take about ``seconds`` on this machine now."""
    from nninit.app.experiment import run

    n = 30_000
    metrics = run(compose([f"train.num_iterations={n}"]), tmp_path / "calibration")
    return max(200_000, int(n / metrics["wall_time_s"] * seconds) // 1000 * 1000)


@pytest.fixture(scope="module")
def timed_out(slurm_env, tmp_path_factory):
    """``train.num_iterations=300,N`` with ``timeout_min=1``: N takes about 60 s, longer than SLURM lets it run.

    submitit asks SLURM for SIGUSR2 ``signal_delay_s`` (120 s) before the time limit, i.e. at once
    for a one-minute job (SLURM checks every 30 s or so); SIGTERM follows at the limit itself.
    """
    root = tmp_path_factory.mktemp("timeout")
    n = _iterations_for(60, root)
    started = time.monotonic()
    proc = _sweep(["init=he", f"train.num_iterations=300,{n}", "hydra.launcher.timeout_min=1"], root, slurm_env,
                  "sweep")
    return root / "sweep", n, proc, time.monotonic() - started


def test_b_a_job_past_its_time_limit_ends_interrupted(timed_out):
    sweep_dir, n, proc, seconds = timed_out
    assert proc.returncode != 0, _explain(proc)  # the sweep says that a job did not finish
    jobs = _jobs(sweep_dir)
    short, long = jobs["init=he,train.num_iterations=300"], jobs[f"init=he,train.num_iterations={n}"]
    assert _metrics(short)["status"] == "completed"
    metrics = _metrics(long)
    assert metrics["status"] == "interrupted", (metrics["status"], metrics.get("error"), _explain(proc))
    assert 0 < metrics["iterations_run"] < n
    _check_readable(long)
    rows = _rows(long / "history.csv")
    assert int(rows[-1]["iteration"]) <= metrics["iterations_run"]
    assert seconds < 150, f"the time limit (1 min) stopped the job only after {seconds:.0f} s"
    # the other jobs and the summary go on: the sweep summarizes what it has, counting the stopped job
    assert "UncompletedJobError" not in proc.stderr, _explain(proc)
    groups = [r for r in _rows(sweep_dir / "summary.csv") if r["metric"] == "test_accuracy"]  # one per job here
    assert sorted((r["runs"], r["completed"], r["failed"]) for r in groups) == [("1", "0", "1"), ("1", "1", "0")]


def test_c_resume_completes_the_interrupted_job_and_keeps_the_finished_one(timed_out, slurm_env):
    sweep_dir, n, _, _ = timed_out
    jobs = _jobs(sweep_dir)
    short, long = jobs["init=he,train.num_iterations=300"], jobs[f"init=he,train.num_iterations={n}"]
    assert _metrics(long)["status"] == "interrupted"
    kept = (short / "metrics.json").read_bytes()
    root = sweep_dir.parent
    proc = _sweep(["init=he", f"train.num_iterations=300,{n}", "hydra.launcher.timeout_min=10", "resume=true"],
                  root, slurm_env, "sweep")
    assert proc.returncode == 0, _explain(proc)
    assert (short / "metrics.json").read_bytes() == kept  # completed: skipped, not rerun
    metrics = _metrics(long)
    assert metrics["status"] == "completed" and metrics["iterations_run"] == n
    _check_readable(long)
    runs = _rows(sweep_dir / "runs.csv")
    assert len(runs) == 2 and {r["status"] for r in runs} == {"completed"}
    assert (sweep_dir / "summary.md").is_file()


# --- a job cancelled while it trains (SIGTERM, which submitit alone ignores) -----------------------------------------


def test_a_cancelled_job_ends_interrupted(slurm_env, tmp_path):
    name = f"nninit-cancel-{os.getpid()}"
    args = [sys.executable, str(REPO / "run.py"), "-m", "hydra/launcher=slurm", "init=he",
            "train.num_iterations=100000000",
            f"hydra.sweep.dir={tmp_path / 'sweep'}", f"hydra.launcher.submitit_folder={tmp_path / 'submitit'}/%j",
            f"hydra.launcher.name={name}"]
    sweep = subprocess.Popen(args, cwd=tmp_path, env=slurm_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        deadline = time.monotonic() + 90
        while not list((tmp_path / "sweep").glob("0_*/params_init.npz")):  # training has started
            assert time.monotonic() < deadline and sweep.poll() is None, "the job did not start"
            time.sleep(0.5)
        subprocess.run(["scancel", "--name", name], env=slurm_env, check=True, timeout=30)
        output, _ = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            subprocess.run(["scancel", "--name", name], env=slurm_env, timeout=30, check=False)
            sweep.kill()
    assert sweep.returncode != 0, output
    job, = _jobs(tmp_path / "sweep").values()
    metrics = _metrics(job)
    assert metrics["status"] == "interrupted", (metrics["status"], metrics.get("error"), output[-3000:])
    _check_readable(job)
