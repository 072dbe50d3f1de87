"""Fault injection: Ctrl-C at random moments of a run (and of a sweep) leaves a folder that tells the truth.

Every file that exists is complete and readable; ``completed`` only when every file of the run folder
is there; otherwise ``interrupted`` (or no ``metrics.json`` at all when the run had not started).
The process exits 0 (it finished first) or 130, never with a traceback.
"""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

JOB_FILES = ("metrics.json", "history.csv", "params_init.npz", "params_final.npz", "data.npz", ".hydra/config.yaml")
"""What a sweep's job writes (no figures of its own by default)."""
RUN_FILES = (*JOB_FILES, "params_history.npz", "cost.png", "decision_boundary.png", "decision_boundary.gif",
             "signal_propagation.png", "layer_stats.png")
"""What a single run writes."""


def _readable(path):
    """Every file in a run folder can be read back whole."""
    from matplotlib.image import imread

    from nninit import runfolder

    for f in path.rglob("*"):
        if f.is_dir():
            continue
        assert not f.name.endswith(".tmp"), f"temporary file left: {f}"
        if f.suffix == ".json":
            json.loads(f.read_text())
        elif f.suffix == ".npz":
            with np.load(f, allow_pickle=False) as arrays:
                [arrays[k] for k in arrays.files]
        elif f.suffix == ".csv":
            runfolder.read_history(f)
        elif f.suffix == ".png":
            assert imread(f).ndim == 3
        elif f.suffix == ".gif":
            from PIL import Image

            with Image.open(f) as gif:
                gif.seek(gif.n_frames - 1)


def check_folder(path, returncode, stderr):
    assert "Traceback" not in stderr, stderr[-2000:]
    if returncode == -signal.SIGINT:  # the signal came while the interpreter itself was starting
        assert not path.exists()
        return "not started"
    assert returncode in (0, 130), (returncode, stderr[-2000:])
    if not (path / "metrics.json").exists():
        # the run had not started: nothing but Hydra's snapshot and log may be there
        assert returncode == 130
        leftover = {f.name for f in path.iterdir()} if path.exists() else set()
        assert leftover <= {".hydra", "run.log"}, leftover
        return "not started"
    _readable(path)
    metrics = json.loads((path / "metrics.json").read_text())
    if metrics["status"] == "completed":
        assert returncode == 0
        missing = [f for f in RUN_FILES if not (path / f).exists()]
        assert not missing, f"completed but missing {missing}"
    else:
        assert metrics["status"] == "interrupted" and returncode == 130, (metrics["status"], returncode)
    return metrics["status"]


def _interrupt_run(tmp_path, k, delay):
    run_dir = tmp_path / f"run_{k}"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, str(REPO / "run.py"), f"hydra.run.dir={run_dir}"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    return run_dir, proc.returncode, stderr


def test_ctrl_c_at_32_random_moments_of_a_run(tmp_path):
    """The seed run takes about 2 s as a process here, two at a time (imports, data, training,
    figures, on two processes); the moments are spread over all of it and a little after."""
    delays = np.random.default_rng(2026).uniform(0.05, 3.0, 32)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda kd: _interrupt_run(tmp_path, *kd), enumerate(delays)))
    seen = [check_folder(*r) for r in results]
    assert "interrupted" in seen  # the moments did reach the run itself


def test_ctrl_c_in_a_joblib_sweep(tmp_path):
    for k, delay in enumerate((3.0, 6.0)):
        sweep_dir = tmp_path / f"sweep_{k}"
        proc = subprocess.Popen([sys.executable, str(REPO / "run.py"), "-m", "hydra/launcher=joblib",
                                 "init=zeros,he", "seed=1,2", f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path,
                                env={**os.environ, "MPLBACKEND": "Agg"}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1, 130), stderr[-2000:]
        for job in (p for p in sweep_dir.glob("*_*") if p.is_dir()):
            metrics = job / "metrics.json"
            if metrics.exists():
                _readable(job)
                status = json.loads(metrics.read_text())["status"]
                assert status in ("completed", "interrupted"), (job, status)
                if status == "completed":
                    assert all((job / f).exists() for f in JOB_FILES), job
