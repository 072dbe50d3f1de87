"""The named experiments run with one command and write their reports."""

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def _experiment(name, tmp_path, *args):
    out = tmp_path / name
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / f"{name}.py"), "--out", str(out), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, (out / "report.md").read_text()


def test_seed_table_matches_the_notebook(tmp_path):
    out, report = _experiment("seed_table", tmp_path)
    assert "**All numbers match.**" in report
    assert report.count("| yes |") == 9
    assert (out / "sweep" / "summary.md").is_file()


def test_init_scale_quick(tmp_path):
    out, report = _experiment("init_scale", tmp_path, "--quick")
    for scale in ("| 0.01 |", "| 1 |", "| 100 |"):
        assert scale in report
    assert "Vanishing signal" in report and "Saturation" in report
    assert (out / "init_scale.png").is_file()


def test_depth_signal_quick(tmp_path):
    out, report = _experiment("depth_signal", tmp_path, "--quick")
    claims = [line for line in report.splitlines() if line.startswith("- **")]
    assert len(claims) == 4
    assert "He on ReLU keeps the second moment" in report and "After LSUV" in report
    assert (out / "depth_signal.png").is_file()
    # the report can be redrawn from the finished runs
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "depth_signal.py"), "--out", str(out),
                           "--report-only", "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "The papers' claims, measured" in proc.stdout


def test_all_inits_quick(tmp_path):
    out, report = _experiment("all_inits", tmp_path, "--quick")
    assert "## circles: ranked by mean test accuracy" in report and "## moons" in report
    assert (out / "summary.md").is_file() and (out / "decision_boundaries.png").is_file()


def test_benchmark_quick(tmp_path):
    """The quick benchmark writes its files, and the harness and naive loops agree (timings are not tested)."""
    import json

    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--quick", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "benchmark.json").read_text())
    assert (out / "benchmark.png").is_file()
    assert results["seed_run"]["max_relative_difference"] <= 1e-12
    assert {"width", "depth", "examples"} <= set(results["scaling"])
    assert all(row["flops_per_iteration"] > 0 and row["s_per_iteration"] > 0 for rows in results["scaling"].values()
               for row in rows)
    assert "| seed run, 15000 iterations" in proc.stdout
