"""The named experiments run with one command and write their reports."""

import subprocess
import sys

import pytest
from conftest import REPO, run_experiment

pytestmark = pytest.mark.slow


def test_seed_table_matches_the_notebook(tmp_path):
    out, report = run_experiment("seed_table", tmp_path, timeout=900)
    assert "**All numbers match.**" in report
    assert report.count("| yes |") == 9
    assert (out / "sweep" / "summary.md").is_file()


def _says_it_is_quick(report):
    lines = report.splitlines()
    assert lines[0].endswith("(quick run: decides nothing)")
    assert lines[2].startswith("**A reduced (quick) run** (") and "instead of" in lines[2]


def test_init_scale_quick(tmp_path):
    out, report = run_experiment("init_scale", tmp_path, "--quick", timeout=900)
    _says_it_is_quick(report)
    for scale in ("| 0.01 | 2 |", "| 1 | 2 |", "| 100 | 2 |"):
        assert scale in report
    assert "Vanishing signal: at scale ≤ 0.01 every run (n=2) ended at chance" in report and "Saturation" in report
    assert "This is a reduced (quick) run: it decides nothing and ranks nothing." in report
    assert "Best by" not in report and "against" not in report
    assert (out / "init_scale.png").is_file()


def test_depth_signal_quick(tmp_path):
    out, report = run_experiment("depth_signal", tmp_path, "--quick", timeout=900)
    _says_it_is_quick(report)
    claims = [line for line in report.splitlines() if line.startswith("- **")]
    assert len(claims) == 4
    assert all(line.startswith("- **not decided (quick run, n=") for line in claims), claims
    assert (out / "depth_signal.png").is_file()
    # the same runs judged as a full run: LSUV's guarantee holds run by run; the others carry n and an interval
    from test_claims import experiment

    full = experiment("depth_signal").report(out, 10, 20, quick=False)
    verdicts = {line.split("**: ")[1][:20]: line.split("**")[1]
                for line in full.splitlines() if line.startswith("- **")}
    assert verdicts["After LSUV every lay"] == "holds"
    assert verdicts["He on ReLU keeps the"] in ("holds", "not decided at n=3")
    assert all("n=" in line for line in full.splitlines() if line.startswith("- **"))
    # the report can be redrawn from the finished runs
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "depth_signal.py"), "--out", str(out),
                           "--report-only", "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "The papers' claims, measured" in proc.stdout
    assert "(quick run: decides nothing)" in proc.stdout


def test_all_inits_quick(tmp_path):
    out, report = run_experiment("all_inits", tmp_path, "--quick", timeout=900)
    _says_it_is_quick(report)
    assert report.splitlines()[0].startswith("# 3 of the 12 initializers (he, lsuv, zeros)")
    assert "every initializer" not in report and "rank |" not in report
    assert report.count("This is a reduced (quick) run: it decides nothing and ranks nothing.") == 2
    for data in ("circles", "moons"):
        assert f"## {data}" in report
        summary = (out / data / "summary.md").read_text()
        assert summary.startswith(f"# Initializers on {data} (quick run: decides nothing)")
        assert (out / data / "differences.png").is_file()


@pytest.mark.slow
def test_benchmark_rows_of_many_runs(tmp_path):
    """benchmark.py --many-runs, small: runs.py and compare.py on synthetic trees each report a successful child
    process with its wall, CPU and memory, and the table names every row (timings are not tested)."""
    import json

    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--many-runs", "--runs", "30",
                           "--groups", "2", "--no-sweeps", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((out / "benchmark.json").read_text())["many_runs"]["scale"]
    assert [r["row"] for r in rows] == ["compare.py, 2 groups x 10 seeds, indexed",
                                        "runs.py, 30 runs, building the index",
                                        "runs.py --where --sort, 30 runs, indexed", "compare.py, 30 runs, indexed"]
    assert all(r["ok"] and r["wall_s"] > 0 and r["cpu_s"] > 0 and r["peak_mb"] > 0 for r in rows), rows
    for r in rows:
        assert f"| {r['row']} |" in proc.stdout


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
    assert "| training loop, seed run of 15000 iterations (3 repeats)" in proc.stdout
    for key in ("seed_run", "whole_run"):  # every timing repeated, with its spread
        for side in [k for k, v in results[key].items() if isinstance(v, dict)]:
            t = results[key][side]
            assert len(t["all"]) >= 3 and t["min"] <= t["median"] <= t["max"]
    assert results["whole_run"]["ratio"] == pytest.approx(results["whole_run"]["harness_s"]["median"]
                                                          / results["whole_run"]["plain_s"]["median"])
    efficiency = results["sweep"]["efficiency"]["median"]
    assert 0 < efficiency <= 1.0
    # a missed target says so: the marks follow the numbers, against the targets the script recorded
    targets = results["targets"]
    assert targets["whole_run"] == 1.1 and targets["efficiency"] == 0.5  # the targets the issues set
    whole_line = next(l for l in proc.stdout.splitlines() if l.startswith("| whole run"))
    assert ("MISSED" in whole_line) == (results["whole_run"]["ratio"] > targets["whole_run"])
    eff_line = next(l for l in proc.stdout.splitlines() if l.startswith("| sweep efficiency"))
    assert ("MISSED" in eff_line) == (efficiency < targets["efficiency"])
