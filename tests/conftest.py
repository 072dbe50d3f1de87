"""Shared fixtures. No test writes into the repository: everything goes under tmp_path."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# Hypothesis keeps its example database and caches in ./.hypothesis: in a temporary folder instead
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="nninit-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], ignore_errors=True)
# the data sets' cache (nninit.data.cache): in a temporary folder, for this test session and the runs it starts
if "NNINIT_CACHE" not in os.environ:
    os.environ["NNINIT_CACHE"] = tempfile.mkdtemp(prefix="nninit-cache-")
    atexit.register(shutil.rmtree, os.environ["NNINIT_CACHE"], ignore_errors=True)
REFERENCE = json.loads((Path(__file__).parent / "data" / "seed_notebook.json").read_text())


@pytest.fixture(scope="session")
def reference() -> dict:
    """The numbers the seed notebook printed (tests/data/seed_notebook.json)."""
    return REFERENCE


@pytest.fixture(scope="session")
def circles():
    """The notebook's data: make_circles, 300 train (seed 1) and 100 test (seed 2), noise 0.05."""
    from nninit.data import load_dataset

    return load_dataset("circles")


def compose(overrides: list[str] | None = None) -> dict:
    """Compose the app's config in-process (as run.py would) and return plain containers."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from nninit.app.hydra import setup
    from nninit.app.hydra.job import job_config

    setup()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    return job_config(cfg)


def run_cli(args: list[str], cwd: Path, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python run.py ARGS`` in ``cwd`` (so ``outputs/`` lands under it)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "HYDRA_FULL_ERROR": "0"}
    proc = subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"run.py {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_experiment(name: str, tmp_path: Path, *args: str, timeout: float = 600) -> tuple[Path, str]:
    """``python experiments/NAME.py --out TMP/NAME ARGS``: its output folder and ``report.md``; fails the test
    with the end of its output when it exits non-zero."""
    out = tmp_path / name
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / f"{name}.py"), "--out", str(out), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, (out / "report.md").read_text()


def assert_quick_and_undecided(report: str, n_claims: int) -> None:
    """A ``--quick`` report says so in its title and first paragraph, and its ``n_claims`` claims decide nothing."""
    lines = report.splitlines()
    assert lines[0].endswith("(quick run: decides nothing)")
    assert lines[2].startswith("**A reduced (quick) run** (") and "instead of" in lines[2]
    claims = [line for line in lines if line.startswith("- **")]
    assert len(claims) == n_claims, claims
    assert all(line.startswith("- **not decided (quick run, n=") for line in claims), claims
    assert "**holds**" not in report and "**does not hold**" not in report and "Best by" not in report


def numeric_gradient(params: dict, cost, h: float = 1e-5) -> dict:
    """Centred differences ``(cost(p + h) - cost(p - h)) / 2h`` of ``cost()`` for every entry of every array in
    ``params`` (changed in place and put back)."""
    grads = {}
    for key, value in params.items():
        grads[key] = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            plus = cost()
            value[idx] = old - h
            minus = cost()
            value[idx] = old
            grads[key][idx] = (plus - minus) / (2 * h)
    return grads
