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
