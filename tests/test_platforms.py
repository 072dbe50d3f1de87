"""Results under every BLAS kernel this machine can run, and the platform every run records (issue 23).

OpenBLAS chooses a kernel for the CPU (``SkylakeX``, ``Haswell``, ...) and ``OPENBLAS_CORETYPE``
forces an older one; the kernels sum in different orders, so the last bits of a matrix product, and
everything a chaotic run builds on them, differ. The notebook's seed runs must match the notebook
under each, within the tolerances the reference states, and each run must say which kernel it used.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest
from conftest import REFERENCE, REPO
from test_reference import assert_matches_the_notebook

from nninit.record import runfolder
from nninit.record.blas import kernel_selected_by, numerical_platform

CANDIDATES = ("Prescott", "Core2", "Nehalem", "Sandybridge", "Haswell", "SkylakeX", "Cooperlake",
              "SapphireRapids", "Zen")
"""OpenBLAS's x86-64 kernels, oldest first; which exist is asked of the library itself."""


@functools.lru_cache(maxsize=1)
def selectable_kernels() -> tuple[str, ...]:
    """The kernels that ``OPENBLAS_CORETYPE`` really selects here: the library reports the one asked
    for (an unknown or unsupported name falls back to another, which is then not counted twice)."""
    found = [k for k in CANDIDATES if (kernel_selected_by(k) or "").lower() == k.lower()]
    return tuple(found)


def test_every_run_records_its_numerical_platform():
    env = runfolder.environment()
    here = numerical_platform()
    assert {k: env[k] for k in here} == here
    if here["blas_library"] == "openblas":
        assert here["blas_kernel"] and here["blas"] == f"openblas {here['blas_version']} {here['blas_kernel']}"
        assert isinstance(here["blas_threads"], int) and here["blas_threads"] >= 1
    assert here["cpu"]


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_a_forced_kernel_is_the_one_recorded():
    kernels = selectable_kernels()
    if len(kernels) < 2:
        pytest.skip(f"this numpy's BLAS offers {len(kernels)} selectable OpenBLAS kernel(s): {kernels}")
    native = kernel_selected_by(None)
    other = next(k for k in kernels if k != native)
    assert kernel_selected_by(other) == other != native


@pytest.mark.slow
def test_the_seed_runs_match_the_notebook_under_every_blas_kernel(tmp_path):
    """The three seed runs (one sweep per kernel) against the notebook's printed numbers, and each run's
    metrics.json names the kernel it ran on."""
    kernels = selectable_kernels() or (None,)  # not OpenBLAS: the library's own (one) code path
    failures = {}
    for kernel in kernels:
        sweep = tmp_path / f"sweep_{kernel}"
        env = {**{k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}, "MPLBACKEND": "Agg"}
        if kernel:
            env["OPENBLAS_CORETYPE"] = kernel
        proc = subprocess.run([sys.executable, str(REPO / "run.py"), "-m", "init=zeros,random,he",
                               f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, (kernel, proc.stderr[-2000:])
        for folder in sweep.glob("*_init=*"):
            init = folder.name.split("init=")[1]
            metrics = json.loads((folder / "metrics.json").read_text())
            if kernel:
                assert metrics["environment"]["blas_kernel"] == kernel
            try:
                assert_matches_the_notebook(init, runfolder.read_history(folder / "history.csv"), metrics,
                                            REFERENCE["runs"][init])
            except AssertionError as error:
                failures[(kernel, init)] = str(error)
    assert not failures, failures
