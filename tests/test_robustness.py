"""Faults of a kind, each with the input that showed it: blow-ups, memory, paths, LSUV scales, garbled files."""

import math

import numpy as np
import pytest

from nninit.initializers import initialize_parameters
from nninit.training import BLOWUP_FACTOR, blew_up, train


def test_a_cost_that_blows_up_is_a_divergence(circles):
    """learning_rate=1e6 takes the cost from 0.88 to about 150,000, finite: diverged at that row."""
    params = initialize_parameters([2, 10, 5, 1], "he", np.random.RandomState(3))
    result = train(circles.X_train, circles.Y_train, params, learning_rate=1e6, num_iterations=3000)
    assert result.status == "diverged" and result.diverged_at == 1000
    assert [row["iteration"] for row in result.history] == [0, 1000]
    assert math.isfinite(result.history[-1]["cost"]) and result.history[-1]["cost"] > 1e5


def test_the_blow_up_rule():
    ln2 = math.log(2.0)
    assert BLOWUP_FACTOR == 10.0
    assert not blew_up(10 * ln2 - 1e-9, 0.1) and blew_up(10 * ln2 + 1e-9, 0.1)  # a tiny start counts as ln 2
    assert not blew_up(17_000.0, 1773.6) and blew_up(17_737.0, 1773.6)  # the notebook's random x10 start
    assert not blew_up(float("nan"), 0.7)  # NaN is caught by the finiteness check, not here


# ------------------------------------------------------------ commands (subprocesses: slow)

READ_ONLY = ["--help", "--hydra-help", "--info", "--info all", "--cfg job", "--cfg hydra", "--cfg all",
             "--cfg job --resolve", "--cfg hydra --resolve", "--cfg all --resolve",
             "--shell-completion install=bash", "init=xavier --cfg hydra --resolve"]


@pytest.mark.slow
@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands_write_nothing(command, tmp_path):
    from conftest import run_cli

    proc = run_cli(command.split(), cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_jobs_that_would_share_a_folder_are_refused_before_any_runs(tmp_path):
    from conftest import run_cli

    proc = run_cli(["-m", "init=he", "init.gain=1,2", "hydra.sweep.subdir=${init.name}", "train.num_iterations=10"],
                   cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert ("jobs #0 (init=he init.gain=1 train.num_iterations=10) and #1 (init=he init.gain=2 "
            "train.num_iterations=10) would write into the same folder he") in proc.stderr
    assert list(tmp_path.iterdir()) == []
    ok = run_cli(["-m", "init=he", "init.gain=1,2", "hydra.sweep.subdir=gain_${init.gain}", "train.num_iterations=10",
                  f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert ok.returncode == 0
    assert sorted(p.name for p in (tmp_path / "sweep").glob("gain_*")) == ["gain_1", "gain_2"]


@pytest.mark.slow
def test_resume_skips_finished_jobs_and_reruns_the_others(tmp_path):
    import json

    from conftest import run_cli

    sweep = tmp_path / "sweep"
    args = ["-m", "init=zeros,he", "seed=1,2", "train.num_iterations=200", "train.print_every=100",
            f"hydra.sweep.dir={sweep}"]
    run_cli(args, cwd=tmp_path)
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs) == 4
    (jobs[0] / "metrics.json").unlink()  # a job killed before it wrote anything
    metrics = json.loads((jobs[1] / "metrics.json").read_text())
    (jobs[1] / "metrics.json").write_text(json.dumps({**metrics, "status": "interrupted"}))
    kept = {job: (job / "params_final.npz").stat().st_mtime_ns for job in jobs[2:]}

    refused = run_cli(args, cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "resume=true" in refused.stderr

    resumed = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert resumed.stdout.count("already holds a completed run of this config; skipped") + \
        resumed.stderr.count("already holds a completed run of this config; skipped") == 2
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"
        assert "resume" not in json.loads((job / "metrics.json").read_text())["config"]
    assert all((job / "params_final.npz").stat().st_mtime_ns == mtime for job, mtime in kept.items())
    assert "| init=zeros | 2 |" in resumed.stdout and "| init=he | 2 |" in resumed.stdout


def test_resolving_a_folder_name_creates_nothing_and_claiming_is_exclusive(tmp_path):
    from nninit.hydra_app import claim_dir, unique_dir

    base = str(tmp_path / "outputs" / "run")
    assert unique_dir(base) == base and not (tmp_path / "outputs").exists()
    assert claim_dir(base) and not claim_dir(base)  # a second claim of the same name fails
    assert unique_dir(base) == base + "_1" and not (tmp_path / "outputs" / "run_1").exists()
