"""Sweeps end to end: the summary, a failing job, compare.py, launchers."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, run_cli

pytestmark = pytest.mark.slow
SHORT = ["train.num_iterations=300", "train.print_every=100"]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """init=zeros,random,he x seed=1,2,3 with the default launcher."""
    root = tmp_path_factory.mktemp("sweep")
    proc = run_cli(["-m", "init=zeros,random,he", "seed=1,2,3", *SHORT, f"hydra.sweep.dir={root / 'basic'}"], cwd=root)
    return root / "basic", proc


def test_sweep_writes_the_summary_files(sweep):
    sweep_dir, proc = sweep
    for name in ("summary.csv", "summary.md", "comparisons.csv", "runs.csv", "cost_curves.png", "accuracy.png",
                 "differences.png", "decision_boundaries.png"):
        assert (sweep_dir / name).is_file(), name
        assert str(sweep_dir / name) in proc.stdout  # the console says where the files are
    assert "| init=zeros | 3 |" in proc.stdout  # the table is printed
    md = (sweep_dir / "summary.md").read_text()
    best = next(line for line in md.splitlines() if line.startswith("**Best by test accuracy: init="))
    assert "Which is best?" in proc.stdout and best in proc.stdout  # the console gives the same answer


def test_summary_numbers_equal_the_runs_metrics(sweep):
    sweep_dir, _ = sweep
    rows = _rows(sweep_dir / "runs.csv")
    assert len(rows) == 9
    by_group = {}
    for row in rows:
        metrics = json.loads((sweep_dir / row["run_dir"] / "metrics.json").read_text())
        assert float(row["train_accuracy"]) == metrics["train_accuracy"]
        assert float(row["final_cost"]) == metrics["final_cost"]
        assert row["status"] == metrics["status"] == "completed"
        by_group.setdefault(metrics["init"], []).append(metrics)
    md = (sweep_dir / "summary.md").read_text()
    for init, runs in by_group.items():
        acc = np.array([m["test_accuracy"] for m in runs]) * 100
        cost = np.array([m["final_cost"] for m in runs])
        line = next(l for l in md.splitlines() if l.startswith(f"| init={init} |"))
        half = 4.302652729911275 * acc.std(ddof=1) / np.sqrt(3)  # Student's t(0.975, 2)
        low, high = (max(acc.mean() - half, 0), min(acc.mean() + half, 100)) if half else (acc.mean(), acc.mean())
        assert f"{acc.mean():.1f} [{low:.1f}, {high:.1f}]%" in line
        assert f"{cost.mean():.4f} [" in line
    zeros_line = next(l for l in md.splitlines() if l.startswith("| init=zeros |"))
    assert zeros_line.split("|")[5].strip() == "3" and zeros_line.split("|")[6].strip() == "3"  # at chance, symmetric


def test_a_failing_job_does_not_take_the_others_with_it(tmp_path):
    sweep_dir = tmp_path / "sweep"
    proc = run_cli(["-m", "init=he", "train.learning_rate=0.01,-1,1e300", *SHORT, f"hydra.sweep.dir={sweep_dir}"],
                   cwd=tmp_path, check=False)
    assert proc.returncode == 1  # a job failed: the command says so, after summarizing
    rows = {float(row["overrides"].split()[1].split("=")[1]): row for row in _rows(sweep_dir / "runs.csv")}
    assert rows[0.01]["status"] == "completed"
    assert rows[-1]["status"] == "failed" and "train.learning_rate" in rows[-1]["error"]
    assert rows[1e300]["status"] == "diverged"
    assert (sweep_dir / "cost_curves.png").is_file() and (sweep_dir / "summary.md").is_file()


def _compare(*args, cwd):
    return subprocess.run([sys.executable, str(REPO / "scripts" / "compare.py"), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_compare_on_a_mix_of_folders(sweep, tmp_path):
    sweep_dir, _ = sweep
    single = tmp_path / "single"
    run_cli(["init=he", "seed=9", *SHORT, f"hydra.run.dir={single}"], cwd=tmp_path)
    out = tmp_path / "cmp"
    proc = _compare(sweep_dir, single, "--out", out, "--group-by", "init", "--metric", "test_accuracy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "| init=he | 4 |" in proc.stdout
    assert len(_rows(out / "runs.csv")) == 10
    assert (out / "decision_boundaries.png").is_file()


def test_compare_default_output_folder(sweep, tmp_path):
    proc = _compare(sweep[0], "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "comparison" / "summary.md").is_file()


def test_compare_on_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = _compare(tmp_path / "empty", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no run folder" in proc.stderr
    assert not (tmp_path / "comparison").exists()


def test_compare_skips_a_truncated_metrics_file(sweep, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sweep[0], copy)
    broken = sorted(copy.glob("0_*"))[0]
    text = (broken / "metrics.json").read_text()
    (broken / "metrics.json").write_text(text[: len(text) // 2])
    proc = _compare(copy, "--no-plots", "--out", tmp_path / "cmp", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [l for l in proc.stderr.splitlines() if "skipping" in l]
    assert len(warnings) == 1 and broken.name in warnings[0]
    assert len(_rows(tmp_path / "cmp" / "runs.csv")) == 8


def test_joblib_launcher_gives_bit_identical_results(sweep, tmp_path):
    basic_dir, _ = sweep
    """nninit's joblib launcher (each job composed once, in the sweep's process: hydra_plugins.nninit_sweeps) runs
    the same jobs as Hydra's basic launcher: the same folders, configs, numbers and summary; its progress is
    counted in memory, each job once."""
    joblib_dir = tmp_path / "joblib"
    proc = run_cli(["-m", "hydra/launcher=joblib", "init=zeros,random,he", "seed=1,2,3", *SHORT,
                    f"hydra.sweep.dir={joblib_dir}"], cwd=tmp_path)
    jobs = sorted(p.name for p in basic_dir.iterdir() if p.is_dir())
    assert jobs == sorted(p.name for p in joblib_dir.iterdir() if p.is_dir()) and len(jobs) == 9
    for job in jobs:
        for name in ("params_final.npz", "params_init.npz"):
            with np.load(basic_dir / job / name) as a, np.load(joblib_dir / job / name) as b:
                assert all(np.array_equal(a[k], b[k]) for k in a.files), (job, name)
        for name in ("history.csv", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            assert (basic_dir / job / name).read_text() == (joblib_dir / job / name).read_text(), (job, name)
    assert (basic_dir / "summary.csv").read_text() == (joblib_dir / "summary.csv").read_text()
    done = re.findall(r"job (\d+)/9 done", proc.stdout + proc.stderr)
    assert sorted(map(int, done)) == list(range(1, 10)), done
    assert not (joblib_dir / ".nninit_progress").exists()  # counted in memory, not in a file


def test_slurm_launcher_config_composes(tmp_path, monkeypatch):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from nninit.app.hydra import setup

    monkeypatch.chdir(tmp_path)  # resolving hydra.sweep.dir creates the folder
    setup()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", return_hydra_config=True,
                            overrides=["hydra/launcher=slurm", "hydra.launcher.partition=cpu"])
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.partition == "cpu" and launcher.cpus_per_task == 1 and launcher.timeout_min == 60
    assert str(launcher.submitit_folder).startswith("outputs/")
