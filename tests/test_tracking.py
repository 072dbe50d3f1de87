"""tracker=mlflow: runs logged to MLflow read back with MLflow's own client equal their run folders,
and a tracker that fails never changes a run. Everything under tmp_path (an sqlite store there)."""

import csv
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, compose, run_cli
from hydra.types import RunMode

from nninit.app.experiment import run
from nninit.app.hydra.task import track
from nninit.app.tracking import log_run, resolve_store, store_lock
from nninit.record.runs import flatten

mlflow = pytest.importorskip("mlflow", reason="MLflow is in the test extra: pip install -e '.[test]'")
from mlflow.entities import ViewType  # noqa: E402  (after the skip when MLflow is missing)
from mlflow.tracking import MlflowClient  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow")  # SQLAlchemy's, inside MLflow's store

SWEEP = ["-m", "init=zeros,he", "seed=1,2", "train.num_iterations=200", "train.print_every=50", "tracker=mlflow",
         "name=trk", "tags=[baseline,t2]"]
FINAL = ("final_cost", "train_accuracy", "test_accuracy", "iterations_run", "wall_time_s", "total_time_s")


def _history(path: Path) -> dict[str, list[tuple[int, float]]]:
    """history.csv as the test reads it: every column but iteration, cell by cell (empty cells left out)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        for key, text in row.items():
            if key != "iteration" and text != "":
                out.setdefault(key, []).append((int(row["iteration"]), float(text)))
    return out


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _param(text: str):
    """An MLflow param (text) as the value it stands for."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.fixture(scope="module")
def logged_sweep(tmp_path_factory):
    """The 4-job sweep of SWEEP with tracker=mlflow, MLFLOW_TRACKING_URI an sqlite file in the test folder."""
    root = tmp_path_factory.mktemp("mlflow_sweep")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        t0 = time.perf_counter()
        proc = run_cli([*SWEEP, f"hydra.sweep.dir={root / 'sweep'}"], cwd=root, timeout=600)
        elapsed = time.perf_counter() - t0
    finally:
        mp.undo()
    return root, uri, proc, elapsed


@pytest.mark.slow
def test_a_sweep_is_one_experiment_whose_runs_equal_their_folders(logged_sweep):
    root, uri, proc, elapsed = logged_sweep
    folders = sorted(p.parent for p in (root / "sweep").glob("*/metrics.json"))
    assert len(folders) == 4
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(str(root / "sweep"))
    assert experiment is not None, [e.name for e in client.search_experiments()]
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    by_folder = {Path(r.data.tags["run_dir"]): r for r in runs}
    assert len(runs) == 4 and sorted(by_folder) == [f.resolve() for f in folders]  # one MLflow run per job
    for folder in folders:
        logged = by_folder[folder.resolve()]
        metrics = json.loads((folder / "metrics.json").read_text())
        # params: the flattened config, value for value
        expected = flatten(metrics["config"])
        assert {k: _param(v) for k, v in logged.data.params.items()} == \
            {k: json.loads(v) if isinstance(v, str) and v.startswith("[") else v for k, v in expected.items()}
        # metrics: every history.csv column, step by step
        history = _history(folder / "history.csv")
        assert {"cost", "a_std_1", "grad_norm_3"} <= set(history)
        for key, points in history.items():
            got = sorted((m.step, m.value) for m in client.get_metric_history(logged.info.run_id, key))
            assert len(got) == len(points) and all(s == t and _same(v, w) for (s, v), (t, w) in zip(got, points)), key
        assert [s for s, _ in history["cost"]] == [0, 50, 100, 150, 200]
        # final numbers of metrics.json (under final_<name> where history.csv has a column of that name)
        for key in FINAL:
            name = f"final_{key}" if key in history else key
            assert logged.data.metrics[name] == metrics[key], key
        # tags and status
        tags = logged.data.tags
        assert tags["status"] == metrics["status"] == "completed" and logged.info.status == "FINISHED"
        assert tags["seed"] == str(metrics["seed"]) and tags["name"] == "trk" and tags["tags"] == "baseline, t2"
        commit = metrics["environment"]["git_commit"]
        assert tags["git_commit"] == str(commit) or commit is None
        assert tags["sweep_dir"] == str((root / "sweep").resolve())
        # artifacts: the run folder's files
        artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
        assert artifacts == {p.name for p in folder.iterdir()}
    assert proc.stdout.count("tracker: logged to MLflow") == 4
    assert "not logged" not in proc.stdout + proc.stderr
    assert all("tracker" not in f.name for f in folders)  # the tracker does not name a job's folder
    print(f"sweep of 4 jobs with tracker=mlflow: {elapsed:.1f} s")


@pytest.mark.slow
def test_mlflow_search_runs_finds_the_sweep_by_its_tags(logged_sweep):
    root, uri, _, _ = logged_sweep
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(str(root / "sweep"))
    he = client.search_runs([experiment.experiment_id], filter_string="tags.init = 'he' and params.seed = '2'")
    assert len(he) == 1 and he[0].data.params["init.name"] == "he"
    folder = Path(he[0].data.tags["run_dir"])
    assert json.loads((folder / "metrics.json").read_text())["seed"] == 2


@pytest.mark.slow
def test_a_parallel_sweep_logs_every_job_into_mlflows_default_store(tmp_path, monkeypatch):
    """joblib jobs that create MLflow's default sqlite store (./mlflow.db) at the same time: every job is logged."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    proc = run_cli(["-m", "init=zeros,he", "seed=1,2", "train.num_iterations=100", "tracker=mlflow",
                    "hydra/launcher=joblib", f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert "not logged" not in proc.stdout + proc.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")  # where `mlflow ui` looks
    experiment = client.get_experiment_by_name(str(tmp_path / "sweep"))
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(Path(r.data.tags["run_dir"]).name for r in runs) == \
        sorted(p.parent.name for p in (tmp_path / "sweep").glob("*/metrics.json")) and len(runs) == 4
    assert all(r.info.status == "FINISHED" and len(client.get_metric_history(r.info.run_id, "cost")) == 2
               for r in runs)
    assert (tmp_path / "mlruns").is_dir()  # the artifacts, beside the database


@pytest.mark.slow
def test_an_unreachable_tracker_leaves_the_run_completed_with_one_warning(tmp_path):
    run_cli(["train.num_iterations=200", f"hydra.run.dir={tmp_path / 'plain'}"], cwd=tmp_path)
    t0 = time.perf_counter()
    proc = run_cli(["train.num_iterations=200", "tracker=mlflow", "tracker.tracking_uri=http://127.0.0.1:9",
                    f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, check=False)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "completed" and "tracker" not in metrics["config"]
    warnings = [line for line in (tmp_path / "run" / "run.log").read_text().splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "tracker: the run was not logged" in warnings[0] and "127.0.0.1:9" in warnings[0]
    # the same files as the run without a tracker, with the same numbers
    names = [sorted(p.name for p in (tmp_path / folder).iterdir()) for folder in ("run", "plain")]
    assert names[0] == names[1]
    before = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert metrics["final_cost"] == before["final_cost"] and metrics["config"] == before["config"]
    assert (tmp_path / "run" / "history.csv").read_text() == (tmp_path / "plain" / "history.csv").read_text()
    assert elapsed < 60, f"an unreachable tracker held the run for {elapsed:.0f} s"
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
def test_an_unreachable_tracker_fails_no_job_of_a_sweep(tmp_path):
    proc = run_cli(["-m", "seed=1,2", "train.num_iterations=100", "tracker=mlflow",
                    "tracker.tracking_uri=http://127.0.0.1:9", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                   cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    statuses = [json.loads(p.read_text())["status"] for p in (tmp_path / "sweep").glob("*/metrics.json")]
    assert statuses == ["completed", "completed"]
    assert proc.stdout.count("tracker: the run was not logged") == 2
    assert (tmp_path / "sweep" / "summary.md").is_file()


def _only_run(uri: str, experiment: str = "nninit"):
    """The one active MLflow run of ``experiment`` in the store ``uri``."""
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1, [(r.info.status, r.data.tags.get("run_dir")) for r in runs]
    return client, runs[0]


@pytest.mark.slow
@pytest.mark.parametrize("store", [None, "sqlite:///mlflow.db"], ids=["mlflows-default", "relative-sqlite"])
def test_with_job_chdir_the_store_is_in_the_launch_folder_never_the_run_folder(tmp_path, monkeypatch, store):
    """hydra.job.chdir=true runs the job inside its run folder: MLflow's default store and a relative
    MLFLOW_TRACKING_URI still mean the folder the command was launched from, where `mlflow ui` looks."""
    launch = tmp_path / "launch=1"  # '=' as in Hydra's folder names: a path that URIs percent-encode
    launch.mkdir()
    if store is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    proc = run_cli(["train.num_iterations=10", "hydra.job.chdir=true", "tracker=mlflow"], cwd=launch)
    assert "tracker: logged to MLflow" in proc.stdout and "not logged" not in proc.stdout + proc.stderr
    assert "mlflow" not in proc.stderr  # MLflow's own lines (creating its tables) are held back
    (run_dir,) = launch.glob("outputs/*/*")  # one run folder, and no sibling beside it (a '%3D' twin)
    assert "train.num_iterations=10" in run_dir.name
    assert sorted(p.name for p in launch.iterdir()) == ["mlflow.db", "mlruns", "outputs"]  # no lock file left
    assert not (run_dir / "mlflow.db").exists() and not (run_dir / "mlruns").exists()
    assert not [p for p in tmp_path.rglob("*") if "%" in p.name]
    client, logged = _only_run(f"sqlite:///{launch / 'mlflow.db'}")
    assert logged.data.tags["run_dir"] == str(run_dir.resolve()) and logged.info.status == "FINISHED"
    artifacts = Path(urllib.request.url2pathname(urllib.parse.urlsplit(logged.info.artifact_uri).path))
    assert artifacts.is_relative_to(launch.resolve() / "mlruns") and artifacts.is_dir()
    logged_files = {a.path for a in client.list_artifacts(logged.info.run_id)}
    assert logged_files == {p.name for p in run_dir.iterdir()} and ".nninit.lock" not in logged_files  # not the lock


@pytest.mark.slow
def test_runs_started_at_once_from_three_folders_into_one_store_are_all_logged(tmp_path):
    """Three processes, three working folders, one new sqlite store: MLflow creates its tables once (the
    lock is the store's), every run is logged, and nothing is left in the temporary folder or beside the store."""
    store, temp = tmp_path / "store", tmp_path / "tmp"
    store.mkdir()
    temp.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg", "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}",
           "TMPDIR": str(temp)}
    folders = [tmp_path / f"w{i}" for i in range(3)]
    procs = []
    for i, folder in enumerate(folders):
        folder.mkdir()
        procs.append(subprocess.Popen([sys.executable, str(REPO / "run.py"), "train.num_iterations=10", f"seed={i}",
                                       "tracker=mlflow", "hydra.run.dir=run"], cwd=folder, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    assert all("tracker: logged to MLflow" in out for out in outputs), outputs
    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([client.get_experiment_by_name("nninit").experiment_id])
    assert sorted(r.data.tags["run_dir"] for r in runs) == [str(f.resolve() / "run") for f in folders]
    assert all(r.info.status == "FINISHED" and {a.path for a in client.list_artifacts(r.info.run_id)}
               == {p.name for p in Path(r.data.tags["run_dir"]).iterdir()} for r in runs)
    assert [p.name for p in store.iterdir()] == ["mlflow.db"]  # the lock was removed by its last holder
    assert list(temp.iterdir()) == []


@pytest.mark.slow
def test_a_resumed_run_replaces_its_interrupted_mlflow_run(tmp_path, monkeypatch):
    """Ctrl-C, then resume=true into the same folder: one active MLflow run for the folder, the finished one."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    args = ["train.num_iterations=100000", "train.print_every=1000", "tracker=mlflow",
            f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.Popen([sys.executable, str(REPO / "run.py"), *args], cwd=tmp_path,
                            env={**os.environ, "MPLBACKEND": "Agg"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    for line in proc.stdout:
        if "Cost after iteration 1000" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, out
    client, killed = _only_run(uri)
    assert killed.info.status == "KILLED" and killed.data.tags["status"] == "interrupted"
    proc = run_cli([*args, "resume=true"], cwd=tmp_path)
    assert "replacing the earlier run" in proc.stdout
    client, logged = _only_run(uri)
    assert logged.info.status == "FINISHED" and logged.data.tags["status"] == "completed"
    assert logged.data.tags["run_dir"] == str((tmp_path / "run").resolve())
    assert client.get_metric_history(logged.info.run_id, "cost")[-1].step == 100000
    deleted = client.search_runs([logged.info.experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [killed.info.run_id]  # MLflow's own deletion: `mlflow gc` purges it


@pytest.mark.slow
def test_a_store_inside_the_run_folder_is_refused_and_the_run_is_unchanged(tmp_path):
    run_cli(["train.num_iterations=200", f"hydra.run.dir={tmp_path / 'plain'}"], cwd=tmp_path)
    folder = tmp_path / "run"
    proc = run_cli(["train.num_iterations=200", "tracker=mlflow", f"tracker.tracking_uri=sqlite:///{folder}/mlflow.db",
                    f"hydra.run.dir={folder}"], cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((folder / "metrics.json").read_text())["status"] == "completed"
    warnings = [line for line in (folder / "run.log").read_text().splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and f"the MLflow store {folder / 'mlflow.db'} is inside the run folder" in warnings[0]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (tmp_path / "plain").iterdir())


# ------------------------------------------------------------------ in-process, fast

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tracked") / "run"
    run(compose(["train.num_iterations=20", "train.print_every=10"]), folder, labels={"name": "x", "tags": ["a"]},
        figures=False)
    return folder


def _hydra(run_dir, mode=RunMode.RUN, sweep_dir=None):
    return SimpleNamespace(mode=mode, runtime=SimpleNamespace(output_dir=str(run_dir), cwd=str(Path.cwd())),
                           sweep=SimpleNamespace(dir=sweep_dir))


def test_tracker_is_a_config_group_left_out_of_the_run_config():
    assert "tracker" not in compose(["tracker=mlflow"])
    assert "tracker" not in compose([])


def test_tracker_none_does_nothing_even_without_mlflow(run_dir, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    with caplog.at_level(logging.INFO):
        track({"tracker": {"name": "none"}}, _hydra(run_dir))
        track({}, _hydra(run_dir))
    assert not caplog.records
    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before


def test_mlflow_missing_is_one_warning_that_says_how_to_install(run_dir, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    with caplog.at_level(logging.INFO):
        track({"tracker": {"name": "mlflow", "tracking_uri": None}}, _hydra(run_dir))  # must not raise
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and 'pip install -e ".[mlflow]"' in warnings[0].getMessage()
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before
    with pytest.raises(ImportError, match=r"\.\[mlflow\]"):
        log_run(run_dir, {"name": "mlflow"})


@pytest.mark.parametrize("tracker, message", [
    ({"name": "wandb"}, "tracker='wandb' is not accepted: must be one of none, mlflow"),
    ({"name": "mlflow", "timeout": 0}, "tracker.timeout=0 is not accepted: must be null or an integer >= 1"),
    ({"name": "mlflow", "max_retries": -1}, "tracker.max_retries=-1 is not accepted"),
    ({"name": "mlflow", "tracking_uri": ""}, "tracker.tracking_uri='' is not accepted"),
])
def test_bad_tracker_options_name_the_key_and_what_is_accepted(run_dir, tracker, message, caplog):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(".", r"\.")):
        log_run(run_dir, tracker)
    with caplog.at_level(logging.WARNING):
        track({"tracker": tracker}, _hydra(run_dir))  # a warning, never an error
    assert len(caplog.records) == 1 and message in caplog.records[0].getMessage()


@pytest.mark.slow  # in-process, but creating an MLflow sqlite store takes about 10 s
def test_a_diverged_run_keeps_nan_leaves_infinity_out_with_a_warning_and_is_finished(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)  # MLflow puts the artifacts of an sqlite store in ./mlruns
    folder = tmp_path / "run"
    run(compose(["init=random", "init.scale=1e200", "train.num_iterations=50", "train.print_every=10"]), folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and metrics["final_cost"] is None  # NaN, written as null
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with caplog.at_level(logging.WARNING, logger="nninit.app.tracking"):
        run_id = log_run(folder, {"name": "mlflow", "tracking_uri": uri, "experiment": "diverged"})
    client = MlflowClient(tracking_uri=uri)
    logged = client.get_run(run_id)
    assert logged.info.status == "FINISHED" and logged.data.tags["status"] == "diverged"
    assert client.get_experiment(logged.info.experiment_id).name == "diverged"
    history = _history(folder / "history.csv")
    assert math.isnan(history["cost"][0][1]) and any(math.isinf(v) for _, v in history["z_std_1"])
    infinite = {(key, step) for key, points in history.items() for step, value in points if math.isinf(value)}
    for key, points in history.items():  # every value as in history.csv, NaN included; no infinity (no 1.8e308)
        got = sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
        finite = [(s, v) for s, v in points if not math.isinf(v)]
        assert len(got) == len(finite) and all(s == t and _same(v, w) for (s, v), (t, w) in zip(got, finite)), key
    (warning,) = [r.getMessage() for r in caplog.records
                  if r.name == "nninit.app.tracking" and r.levelno >= logging.WARNING]
    assert f"{len(infinite)} infinite value(s) not logged" in warning
    key, step = min(infinite)
    assert f"{key} at step {step} (" in warning
    assert "final_cost" not in logged.data.metrics  # null in metrics.json: not a number to log
    assert logged.data.metrics["iterations_run"] == metrics["iterations_run"]



@pytest.mark.slow  # in-process, but creating an MLflow sqlite store takes about 10 s
def test_an_experiment_whose_artifacts_lie_in_the_run_folder_is_refused(tmp_path, caplog):
    """Artifacts are never copied from a folder into itself (the copy would contain itself, until Errno 36)."""
    folder = tmp_path / "run"
    run(compose(["train.num_iterations=20"]), folder, figures=False)
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).create_experiment("inside", artifact_location=str(folder / "mlruns"))
    with caplog.at_level(logging.WARNING, logger="nninit.app.tracking"):
        track({"tracker": {"name": "mlflow", "tracking_uri": uri, "experiment": "inside"}}, _hydra(folder))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "nninit.app.tracking"]
    assert f"artifact location of experiment 'inside' {folder / 'mlruns'} is inside the run folder" in warning
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert not (folder / "mlruns").exists()

@pytest.mark.parametrize("uri, expected, store", [
    ("sqlite:///mlflow.db", "sqlite:////launch/mlflow.db", "/launch/mlflow.db"),
    ("sqlite:///sub/m.db?timeout=5", "sqlite:////launch/sub/m.db?timeout=5", "/launch/sub/m.db"),
    ("sqlite:////abs/m.db", "sqlite:////abs/m.db", "/abs/m.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:", None),
    ("./mlruns", "/launch/mlruns", "/launch/mlruns"),
    ("file:./mlruns", "/launch/mlruns", "/launch/mlruns"),
    ("file:///abs/ml%3Druns", "/abs/ml=runs", "/abs/ml=runs"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000", None),
    ("databricks", "databricks", None),
])
def test_a_relative_store_is_read_against_the_launch_folder(uri, expected, store):
    assert resolve_store(uri, Path("/launch")) == (expected, None if store is None else Path(store))


def test_the_store_lock_is_taken_in_turn_by_processes_and_left_nowhere(tmp_path):
    """A process holding the lock of a store makes another wait until it is done; a lock file left by a
    process killed with -9 (flock released by the OS) does not block; no lock file stays behind."""
    store = tmp_path / "mlflow.db"
    (tmp_path / "mlflow.db.nninit-lock").write_text("")  # as a holder killed by -9 leaves it
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from pathlib import Path
from nninit.app.tracking import store_lock
with store_lock(Path({str(store)!r})):
    print("held", flush=True)
    sys.stdin.readline()
    time.sleep(0.5)  # a lock that did not hold would let the test's process in before this file exists
    Path({str(tmp_path / "holder_done")!r}).write_text("")
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert holder.stdout.readline() == "held\n"
    holder.stdin.write("go\n")
    holder.stdin.flush()  # the holder finishes and releases while this process waits for the lock
    with store_lock(store, timeout=60):
        assert (tmp_path / "holder_done").exists()
    assert holder.wait(timeout=60) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holder_done"]


@pytest.mark.slow  # a second or more (processes, many draws): out of the fast subset
def test_a_new_sqlite_store_is_created_all_at_once(tmp_path, monkeypatch):
    """The fresh-eyes review: a Ctrl-C while the first run built a new store's schema left a half-migrated
    database that MLflow could never open ("table logged_models already exists"). The schema is built in
    a temporary database renamed into place: interrupted, nothing is left; completed, MLflow reads it."""
    from mlflow.tracking import MlflowClient

    from nninit.app import tracking

    store = tmp_path / "store" / "mlflow.db"
    uri = f"sqlite:///{store}"

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(MlflowClient, "search_experiments", interrupted)
        with pytest.raises(KeyboardInterrupt):
            tracking.create_sqlite_store(uri, store)
    assert not store.exists() and list(store.parent.iterdir()) == []
    tracking.create_sqlite_store(uri, store)
    assert [e.name for e in MlflowClient(uri).search_experiments()] == ["Default"]
    assert sorted(p.name for p in store.parent.iterdir()) == ["mlflow.db"]
