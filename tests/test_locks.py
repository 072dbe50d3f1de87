"""One writer per folder, and sweep checks that read the jobs Hydra launches: real processes."""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, run_cli

pytestmark = pytest.mark.slow
ENV = {**os.environ, "MPLBACKEND": "Agg", "HYDRA_FULL_ERROR": "0"}
FOREVER = "train.num_iterations=100000000"


def _start(args, cwd):
    return subprocess.Popen([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(proc, text):
    for line in proc.stdout:
        if text in line:
            return
    raise AssertionError(f"the command ended (exit {proc.wait()}) before printing {text!r}")


def _stop(proc):
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)


def _snapshot(folder: Path) -> dict:
    """Every file under ``folder``: its bytes and modification time."""
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _refusal(proc, folder) -> str:
    """The one line a refused command prints (exit code 2), naming the folder."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nninit: error: ") and str(folder) in lines[0], proc.stderr
    return lines[0]


def test_two_runs_into_one_folder_leave_one_intact_run_and_one_refusal(tmp_path):
    run_dir = tmp_path / "run"
    procs = {init: subprocess.Popen([sys.executable, str(REPO / "run.py"), f"init={init}", "train.num_iterations=2000",
                                     "train.print_every=100", f"hydra.run.dir={run_dir}"], cwd=tmp_path, env=ENV,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for init in ("he", "zeros")}
    done = {init: (p, *p.communicate(timeout=300)) for init, p in procs.items()}
    assert sorted(p.returncode for p, _, _ in done.values()) == [0, 2]
    (winner,) = [init for init, (p, _, _) in done.items() if p.returncode == 0]
    (loser,) = [init for init in done if init != winner]
    p, out, err = done[loser]
    _refusal(subprocess.CompletedProcess(p.args, p.returncode, out, err), run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["init"] == winner
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())
    assert f"init={winner}" in overrides and metrics["overrides"] == overrides
    with np.load(run_dir / "params_init.npz") as params:
        assert (np.count_nonzero(params["W1"]) == 0) == (winner == "zeros")
    log = (run_dir / "run.log").read_text()
    assert log.count("Cost after iteration 0:") == 1 and log.count("Cost after iteration 1900:") == 1
    assert not (run_dir / ".nninit.lock").exists()  # a finished run leaves no lock behind


def test_a_command_into_a_running_folder_is_refused_naming_the_owner(tmp_path):
    run_dir = tmp_path / "run"
    owner = _start(["init=he", FOREVER, "train.print_every=1000", f"hydra.run.dir={run_dir}"], tmp_path)
    try:
        _wait_for(owner, "Cost after iteration 1000")
        kept = {name: _snapshot(run_dir)[Path(name)] for name in (".hydra/overrides.yaml", ".hydra/config.yaml")}
        log_before = (run_dir / "run.log").read_text()
        second = run_cli(["init=zeros", "train.num_iterations=10", f"hydra.run.dir={run_dir}"], cwd=tmp_path,
                         check=False)
        line = _refusal(second, run_dir)
        assert f"pid {owner.pid}:" in line and "init=he" in line and FOREVER in line  # the owner's command
        assert {name: _snapshot(run_dir)[Path(name)] for name in kept} == kept
        assert "init=zeros" not in (run_dir / "run.log").read_text()
        assert (run_dir / "run.log").read_text().startswith(log_before)
    finally:
        _stop(owner)
    assert json.loads((run_dir / "metrics.json").read_text())["init"] == "he"


def test_a_lock_left_by_a_killed_process_does_not_block_the_next_run(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; "
                               "from nninit.record.folder_lock import lock_folder; "
                               "lock_folder(sys.argv[1]); print('locked', flush=True); time.sleep(300)", str(run_dir)],
                              cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    _wait_for(holder, "locked")
    args = ["init=he", "train.num_iterations=10", f"hydra.run.dir={run_dir}"]
    assert f"pid {holder.pid}:" in _refusal(run_cli(args, cwd=tmp_path, check=False), run_dir)
    holder.kill()  # SIGKILL: no clean-up; the lock file stays, the kernel releases its lock
    holder.wait()
    assert (run_dir / ".nninit.lock").exists()
    run_cli(args, cwd=tmp_path)
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"


def test_a_second_sweep_or_a_resume_into_a_running_sweep_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "init=he", f"{FOREVER},10", "train.print_every=1000", f"hydra.sweep.dir={sweep}"]
    owner = _start(args, tmp_path)
    try:
        _wait_for(owner, "Cost after iteration 1000")
        kept = lambda: {p: v for p, v in _snapshot(sweep).items() if p.parent.name in ("", ".hydra")}  # noqa: E731
        before, entries = kept(), sorted(sweep.iterdir())
        for other in (["-m", "init=zeros", "seed=1,2", "train.num_iterations=10", f"hydra.sweep.dir={sweep}"],
                      [*args, "resume=true"]):
            line = _refusal(run_cli(other, cwd=tmp_path, check=False), sweep)
            assert f"pid {owner.pid}:" in line and FOREVER in line
        assert kept() == before and sorted(sweep.iterdir()) == entries  # multirun.yaml, the job's .hydra/
    finally:
        _stop(owner)


def test_resume_of_a_finished_run_or_sweep_changes_nothing(tmp_path):
    run_dir, sweep = tmp_path / "run", tmp_path / "sweep"
    single = ["init=he", "train.num_iterations=20", f"hydra.run.dir={run_dir}"]
    multi = ["-m", "init=zeros,he", "train.num_iterations=20", f"hydra.sweep.dir={sweep}"]
    run_cli(single, cwd=tmp_path)
    run_cli(multi, cwd=tmp_path)
    assert not (run_dir / ".nninit.lock").exists() and not (sweep / ".nninit.lock").exists()  # both released
    before = {run_dir: _snapshot(run_dir), sweep: _snapshot(sweep)}
    for args, folder in ((single, run_dir), (multi, sweep)):
        proc = run_cli([*args, "resume=true"], cwd=tmp_path)
        assert "left as it is" in proc.stdout + proc.stderr
        assert _snapshot(folder) == before[folder]


def test_a_sweep_defined_in_a_config_is_checked_like_one_on_the_command_line(tmp_path):
    extra = tmp_path / "extra"
    (extra / "sw").mkdir(parents=True)
    (extra / "sw" / "seeds.yaml").write_text("# @package _global_\nhydra:\n  sweeper:\n    params:\n      seed: 1,2\n")
    proc = run_cli(["-m", "-cd", str(extra), "+sw=seeds", "hydra.sweep.subdir=same", "train.num_iterations=10",
                    f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path, check=False)
    line = _refusal(proc, "same")
    assert "#0 (seed=1 +sw=seeds train.num_iterations=10) and #1 (seed=2" in line
    (extra / "sw" / "bad.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      seed: 1,2\n      train.learning_rate: -1\n")
    proc = run_cli(["-m", "-cd", str(extra), "+sw=bad", "train.num_iterations=10",
                    f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path, check=False)
    assert "train.learning_rate" in _refusal(proc, "")  # a bad value every job shares: refused once
    assert not (tmp_path / "sweep").exists()


def test_launched_jobs_are_the_jobs_hydra_runs(tmp_path):
    """Pins the one function that reads Hydra's internals: its list equals what a real sweep ran."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from nninit.app.hydra.sweep import launched_jobs

    extra = tmp_path / "extra"
    (extra / "sw").mkdir(parents=True)
    (extra / "sw" / "grid.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      seed: 1,2\n      train.learning_rate: 0.5,1\n")
    overrides = [f"hydra.searchpath=[file://{extra}]", "+sw=grid", "init=zeros,he", "train.num_iterations=5",
                 f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        config = GlobalHydra.instance().config_loader().load_configuration(
            "config", overrides, run_mode=RunMode.MULTIRUN)
        jobs = launched_jobs(config)
    assert len(jobs) == 8
    run_cli(["-m", *overrides], cwd=tmp_path)
    ran = [yaml.safe_load((d / ".hydra" / "overrides.yaml").read_text())
           for d in sorted((tmp_path / "sweep").glob("[0-9]*_*"), key=lambda d: int(d.name.split("_")[0]))]
    assert ran == jobs


def test_a_resumed_sweep_keeps_finished_jobs_as_they_are_and_counts_only_the_others(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "init=zeros,he", "seed=1,2", "train.num_iterations=20", f"hydra.sweep.dir={sweep}"]
    run_cli(args, cwd=tmp_path)
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    for job in jobs[:2]:
        (job / "metrics.json").unlink()
    kept = {job: _snapshot(job) for job in jobs[2:]}
    proc = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert {job: _snapshot(job) for job in jobs[2:]} == kept  # neither .hydra/ nor run.log rewritten
    progress = re.findall(r"job (\d+/\d+) done", proc.stdout + proc.stderr)
    assert progress == ["1/2", "2/2"]  # the two jobs run; the two kept are not counted


def test_a_sweeper_whose_jobs_are_not_known_in_advance_needs_numbered_folders(tmp_path):
    proc = run_cli(["-m", "hydra.sweeper._target_=hydra_plugins.some_sweeper.SomeSweeper", "seed=1,2",
                    "hydra.sweep.subdir=same", f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path, check=False)
    line = _refusal(proc, "hydra.sweep.subdir=same")
    assert "SomeSweeper chooses its jobs as it goes" in line and "${hydra.job.num}_" in line
    assert not (tmp_path / "sweep").exists()


def test_a_check_that_fails_stops_the_command_instead_of_running_it_unchecked(tmp_path):
    (tmp_path / "file").write_text("not a folder\n")
    for args in (["train.num_iterations=10", f"hydra.run.dir={tmp_path / 'file' / 'run'}"],
                 ["-m", "seed=1,2", "train.num_iterations=10", f"hydra.sweep.dir={tmp_path / 'file' / 'sweep'}"]):
        line = _refusal(run_cli(args, cwd=tmp_path, check=False), tmp_path / "file")
        assert "NotADirectoryError" in line
    assert (tmp_path / "file").read_text() == "not a folder\n"
