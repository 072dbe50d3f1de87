"""End to end through the command line, in a temporary folder: the run-folder contract,
bad input, concurrent runs, divergence and Ctrl-C."""

import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hydra
import numpy as np
import pytest
import sklearn
from conftest import REPO, run_cli

pytestmark = pytest.mark.slow

CONTRACT = [".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml", "run.log", "metrics.json",
            "history.csv", "params_init.npz", "params_final.npz", "cost.png", "decision_boundary.png"]


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("outputs/*/*/.hydra"))


def test_main_job_reproduces_the_notebook_and_writes_the_contract(tmp_path, reference):
    proc = run_cli(["init=he"], cwd=tmp_path)
    logged = [float(c) for c in re.findall(r"Cost after iteration \d+: (\S+)", proc.stdout)]
    assert logged == pytest.approx(reference["runs"]["he"]["costs"], rel=1e-9)
    assert "Train accuracy: 0.99333" in proc.stdout and "Test accuracy: 0.96" in proc.stdout
    (run_dir,) = _run_dirs(tmp_path)
    assert f"Run folder: {run_dir.resolve()}" in proc.stdout
    for name in CONTRACT:
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["init"] == "he" and metrics["seed"] == 3
    assert metrics["iterations_run"] == 15000 and metrics["overrides"] == ["init=he"]
    assert metrics["train_accuracy"] == pytest.approx(0.99333333, abs=1e-8)
    env = metrics["environment"]  # the run's interpreter is this one: the same versions, the same checkout
    assert env["python"] == platform.python_version() and env["numpy"] == np.__version__
    assert env["scikit-learn"] == sklearn.__version__ and env["hydra-core"] == hydra.__version__
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    assert env["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)
    with np.load(run_dir / "params_init.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "W3", "b1", "b2", "b3"] and npz["W1"].shape == (10, 2)
    with np.load(run_dir / "params_final.npz", allow_pickle=False) as npz:
        assert npz["W3"].shape == (1, 5)
    header = (run_dir / "history.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["iteration", "cost"] and "a_std_1" in header
    assert "Cost after iteration 14000" in (run_dir / "run.log").read_text()
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))


def test_random_init_explains_the_notebooks_inf(tmp_path):
    proc = run_cli(["init=random", "train.num_iterations=1000"], cwd=tmp_path)
    first = float(re.search(r"Cost after iteration 0: (\S+)", proc.stdout).group(1))
    assert np.isfinite(first) and first > 100
    assert "prints inf" in proc.stdout


BAD_INPUTS = [
    ("init=foo", "init/foo"), ("init=He", "init/He"),
    ("model.hidden_dims=[0]", "model.hidden_dims"), ("model.hidden_dims=[-3]", "model.hidden_dims"),
    ("model.hidden_dims=[2.5]", "model.hidden_dims"),
    ("train.learning_rate=-1", "train.learning_rate"), ("train.learning_rate=0", "train.learning_rate"),
    ("train.learning_rate=nan", "train.learning_rate"),
    ("train.num_iterations=-5", "train.num_iterations"), ("train.num_iterations=abc", "train.num_iterations"),
    ("train.print_every=0", "train.print_every"), ("data.n_train=1", "data.n_train"),
    ("data.noise=-0.1", "data.noise"), ("seed=-1", "seed"), ("seed=2**32", "seed"),
]


def test_bad_inputs_fail_early_with_a_clear_message(tmp_path):
    def attempt(arg):
        return arg, run_cli([arg], cwd=tmp_path, check=False, timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: attempt(item[0]), BAD_INPUTS))
    for (arg, proc), (_, key) in zip(results, BAD_INPUTS):
        assert proc.returncode != 0, arg
        message = proc.stderr + proc.stdout
        assert key in message, (arg, message)
        value = arg.split("=", 1)[1].strip("[]")
        assert value in message, (arg, message)
        assert "Traceback" not in message, (arg, message)
    assert not (tmp_path / "outputs").exists(), "a refused run must not leave a folder"


def test_two_runs_started_together_get_their_own_folders(tmp_path):
    args = ["init=zeros", "train.num_iterations=5", "train.print_every=1"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: run_cli(args, cwd=tmp_path), range(2)))
    dirs = _run_dirs(tmp_path)
    assert len(dirs) == 2
    assert all((d / "metrics.json").is_file() for d in dirs)


def test_unique_dir_never_reuses_a_folder(tmp_path):
    from nninit.app.hydra.naming import claim_dir, unique_dir

    base = str(tmp_path / "run")
    names = []
    for _ in range(3):  # name, then claim, as a run does when it starts
        names.append(unique_dir(base))
        assert claim_dir(names[-1])
    assert names == [base, base + "_1", base + "_2"]


def test_diverging_run_is_a_result(tmp_path):
    proc = run_cli(["train.learning_rate=1e300", "train.num_iterations=300", "train.print_every=50",
                    f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert proc.returncode == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and metrics["diverged_at"] == 50
    assert (tmp_path / "run" / "cost.png").is_file() and (tmp_path / "run" / "history.csv").is_file()
    assert "Diverged at iteration 50" in proc.stdout


def test_zero_iterations_evaluates_the_initial_network(tmp_path):
    run_cli(["train.num_iterations=0", f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["iterations_run"] == 0
    assert metrics["final_cost"] == pytest.approx(0.8830537463419761, rel=1e-9)


def _long_run_stopped_by(sig, tmp_path, after_iteration):
    """Start a very long run, send ``sig`` once it logged ``after_iteration``; return (exit code, run folder)."""
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(REPO / "run.py"), "train.num_iterations=100000000",
                             "train.print_every=1000", f"hydra.run.dir={run_dir}"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if f"Cost after iteration {after_iteration}" in line:
            break
    time.sleep(0.2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, run_dir, out


def test_ctrl_c_leaves_an_interrupted_run(tmp_path):
    code, run_dir, out = _long_run_stopped_by(signal.SIGINT, tmp_path, 3000)
    assert code == 130, out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert "iterations_run" in metrics, (metrics.get("error"), out[-3000:])  # says why, should it fail again
    assert metrics["iterations_run"] >= 3000
    last = (run_dir / "history.csv").read_text().splitlines()[-1].split(",")
    assert int(last[0]) == metrics["iterations_run"] and float(last[1]) == metrics["final_cost"]


def test_sigterm_stops_like_ctrl_c(tmp_path):
    code, run_dir, out = _long_run_stopped_by(signal.SIGTERM, tmp_path, 1000)
    assert code == 130, out
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "interrupted"


def test_help_lists_groups_and_keys(tmp_path):
    proc = run_cli(["--help"], cwd=tmp_path)
    assert "init: he, he_uniform" in proc.stdout and re.search(r"^data: .*\bcircles\b.*\bdigits\b", proc.stdout, re.M)
    assert "learning_rate" in proc.stdout


@pytest.mark.parametrize("args", [
    ["init=xavier", "model.activation=tanh", "model.hidden_dims=[100,100,100]"],
    ["init=lsuv", "data=moons"],
])
def test_beyond_the_notebook_runs_leave_diagnostics(tmp_path, args):
    run_dir = tmp_path / "run"
    run_cli([*args, "train.num_iterations=500", "train.print_every=100", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    header = (run_dir / "history.csv").read_text().splitlines()[0].split(",")
    layers = len(metrics["layers_dims"]) - 1
    for stat in ("z_mean", "z_std", "a_std", "w_norm", "grad_norm"):
        assert f"{stat}_{layers}" in header
    assert f"dead_{layers - 1}" in header and f"distinct_{layers - 1}" in header
    assert (run_dir / "signal_propagation.png").is_file() and (run_dir / "layer_stats.png").is_file()
    if "init=lsuv" in args:
        assert len(metrics["lsuv_passes"]) == layers


STOPPERS = '''
import os, signal
from hydra.experimental.callback import Callback

class AtRunStart(Callback):  # Hydra composed the config; no folder yet (hydra.run.dir is given)
    def on_run_start(self, config, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)

class AtJobStart(Callback):  # Hydra made the folder and wrote .hydra/; the run has not started
    def on_job_start(self, config, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
'''


@pytest.mark.parametrize("moment, said", [
    ("AtRunStart", "nninit: interrupted before the run started; nothing was recorded"),
    ("AtJobStart", "nninit: interrupted before the run started; its folder {run_dir} holds no run record"),
])
def test_ctrl_c_before_the_run_speaks_of_a_folder_only_when_there_is_one(moment, said, tmp_path):
    """Ctrl-C in the first second said 'the run folder keeps what was recorded' when there was no folder."""
    (tmp_path / "stoppers.py").write_text(STOPPERS)
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(REPO / "run.py"), f"+hydra.callbacks.stop._target_=stoppers.{moment}",
                           f"hydra.run.dir={run_dir}"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path), "MPLBACKEND": "Agg"})
    assert proc.returncode == 130, proc.stderr
    assert said.format(run_dir=run_dir) in proc.stderr
    assert "keeps what was recorded" not in proc.stderr
    assert run_dir.is_dir() == (moment == "AtJobStart") and not (run_dir / "metrics.json").exists()


def test_ctrl_c_during_the_run_names_its_folder(tmp_path):
    code, run_dir, out = _long_run_stopped_by(signal.SIGINT, tmp_path, 1000)
    assert code == 130, out
    assert f"nninit: interrupted; the run folder {run_dir} keeps what was recorded (status 'interrupted')" in out


def test_a_float_for_an_integer_key_is_refused_before_any_work(tmp_path):
    """train.num_iterations=1e11 is a float: Hydra's schema refuses it, naming the key and the value."""
    proc = run_cli(["train.num_iterations=1e11"], cwd=tmp_path, check=False, timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "train.num_iterations" in proc.stderr and "100000000000.0" in proc.stderr and "Integer" in proc.stderr
    assert list(tmp_path.iterdir()) == []
