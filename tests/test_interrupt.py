"""Fault injection: Ctrl-C at random moments of a run (and of a sweep) leaves a folder that tells the truth.

Every file that exists is complete and readable; ``completed`` only when every file of the run folder
is there; otherwise ``interrupted`` (or no ``metrics.json`` at all when the run had not started).
The process exits 0 (it finished first) or 130 (Ctrl-C pressed, even after the last file was written),
never with a traceback.

The promise holds from the moment ``run.py`` has installed its signal handlers (its first statement,
about 0.05-0.1 s after the interpreter starts). A signal before that meets Python's own start-up, which
prints a ``KeyboardInterrupt`` traceback (or aborts inside ``site``) before any code of ours runs; no
folder exists then. So the tests wait until the process has caught SIGTERM (which Python itself never
catches: ``SigCgt`` in ``/proc/PID/status``, set by ``signals.interrupt_on_scheduler_signals`` right after
the SIGINT handler) and count every moment from there.
"""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

JOB_FILES = ("metrics.json", "history.csv", "params_init.npz", "params_final.npz", "data.npz", ".hydra/config.yaml")
"""What a sweep's job writes (no figures of its own by default)."""
RUN_FILES = (*JOB_FILES, "boundary_frames.npz", "cost.png", "decision_boundary.png", "decision_boundary.gif",
             "signal_propagation.png", "layer_stats.png")
"""What a single run writes."""


def _readable(path):
    """Every file in a run folder can be read back whole."""
    from matplotlib.image import imread

    from nninit.record import runfolder

    for f in path.rglob("*"):
        if f.is_dir():
            continue
        assert not f.name.endswith(".tmp"), f"temporary file left: {f}"
        if f.suffix == ".json":
            json.loads(f.read_text())
        elif f.suffix == ".npz":
            with np.load(f, allow_pickle=False) as arrays:
                [arrays[k] for k in arrays.files]
        elif f.suffix == ".csv":
            runfolder.read_history(f)
        elif f.suffix == ".png":
            assert imread(f).ndim == 3
        elif f.suffix == ".gif":
            from PIL import Image

            with Image.open(f) as gif:
                gif.seek(gif.n_frames - 1)


def check_folder(path, returncode, stderr):
    assert "Traceback" not in stderr, stderr[-2000:]
    assert returncode in (0, 130), (returncode, stderr[-2000:])
    if not (path / "metrics.json").exists():
        # the run had not started: nothing but Hydra's snapshot and log may be there
        assert returncode == 130
        leftover = {f.name for f in path.iterdir()} if path.exists() else set()
        assert leftover <= {".hydra", "run.log"}, leftover
        return "not started"
    _readable(path)
    metrics = json.loads((path / "metrics.json").read_text())
    if metrics["status"] == "completed":
        # A Ctrl-C after the last file was written (while the process exits) still exits 130, as the
        # user asked to stop; the folder is whole, and the message says it is complete.
        assert returncode == 0 or "status 'completed'" in stderr, (returncode, stderr[-2000:])
        missing = [f for f in RUN_FILES if not (path / f).exists()]
        assert not missing, f"completed but missing {missing}"
    else:
        assert metrics["status"] == "interrupted" and returncode == 130, (metrics["status"], returncode)
    return metrics["status"]


def handlers_installed(pid: int) -> bool:
    """True once the process ``pid`` catches SIGTERM: nninit's handlers are in (Linux's /proc)."""
    with open(f"/proc/{pid}/status") as status:
        caught = next(int(line.split()[1], 16) for line in status if line.startswith("SigCgt:"))
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def start_and_wait_for_handlers(args, **popen_kwargs) -> subprocess.Popen:
    """Start ``args`` and return once its signal handlers are installed (or it has ended)."""
    proc = subprocess.Popen(args, **popen_kwargs)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not handlers_installed(proc.pid):
        assert time.monotonic() < deadline, "run.py never installed its signal handlers"
        time.sleep(0.002)
    return proc


def test_handlers_are_installed_before_any_slow_import(tmp_path):
    """The moment the promise starts is early: the handlers are in before Hydra, numpy or scikit-learn are
    imported (run.py's first statement), so a run in its imports is already covered. Checked by stopping a
    run at that moment: it ends as an interrupted start, exit 130, no traceback, no folder."""
    run_dir = tmp_path / "run"
    proc = start_and_wait_for_handlers([sys.executable, str(REPO / "run.py"), f"hydra.run.dir={run_dir}"],
                                       cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr, (proc.returncode, stderr[-2000:])
    assert check_folder(run_dir, proc.returncode, stderr) == "not started"


def _interrupt_run(tmp_path, k, after, delay):
    """Start a run, wait for the event ``after`` (its handlers are in; its folder says 'running'), then
    ``delay`` seconds more, and press Ctrl-C."""
    run_dir = tmp_path / f"run_{k}"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = start_and_wait_for_handlers([sys.executable, str(REPO / "run.py"), f"hydra.run.dir={run_dir}"],
                                       cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    deadline = time.monotonic() + 120
    while after == "running" and proc.poll() is None and not (run_dir / "metrics.json").exists():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    return run_dir, proc.returncode, stderr


def test_ctrl_c_at_32_random_moments_of_a_run(tmp_path):
    """The seed run takes about 1.5-2 s as a process on an idle machine, two at a time (imports, data,
    training, figures, on two processes). Half the moments are counted from the handlers' installation
    (0-3 s: the imports, and the run on an idle machine), half from the moment the run folder says
    'running' (0-2 s: data, init, training, figures, saving), so that the run itself is reached however
    busy the machine is."""
    rng = np.random.default_rng(2026)
    moments = [("handlers", d) for d in rng.uniform(0.0, 3.0, 16)] + [("running", d) for d in rng.uniform(0.0, 2.0, 16)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda k_m: _interrupt_run(tmp_path, k_m[0], *k_m[1]), enumerate(moments)))
    seen = [check_folder(*r) for r in results]
    assert "interrupted" in seen  # the moments did reach the run itself


def _job_statuses(sweep_dir):
    statuses = {}
    for metrics in sweep_dir.glob("*/metrics.json"):
        try:
            statuses[metrics.parent.name] = json.loads(metrics.read_text())
        except ValueError:  # being replaced right now (written atomically: old or new, never half)
            continue
    return statuses


@pytest.mark.parametrize("moment, how", [
    ("workers start", "Ctrl-C"),  # the terminal's Ctrl-C reaches every process of the group
    ("jobs train", "Ctrl-C"),
    ("jobs train", "SIGTERM to the sweep"),  # a scheduler or `kill` stops the sweep's process alone
])
def test_stopping_a_joblib_sweep(tmp_path, moment, how):
    """Stopped while its workers start (their imports) or while its jobs train, a joblib sweep prints no
    traceback, exits 130, and every job folder that has a metrics.json says where its run ended: none
    is left saying 'running' (the launcher kills its workers: they must record first). The moments are
    events seen in the sweep folder, not times, so that a busy machine tests the same thing."""
    sweep_dir = tmp_path / "sweep"
    proc = start_and_wait_for_handlers(
        [sys.executable, str(REPO / "run.py"), "-m", "hydra/launcher=joblib", "init=zeros,he", "seed=1,2",
         "train.num_iterations=100000", f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 120
    if moment == "workers start":
        reached = lambda: (sweep_dir / ".nninit_sweep.json").exists()  # noqa: E731  (the jobs are being sent)
    else:
        reached = lambda: any(m["status"] == "running" for m in _job_statuses(sweep_dir).values())  # noqa: E731
    while not reached():
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep never reached " + moment
        time.sleep(0.005)
    if how == "Ctrl-C":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr, (proc.returncode, stderr[-3000:])
    statuses = _job_statuses(sweep_dir)
    if moment == "jobs train":
        assert statuses, "no job had started"
    for job, metrics in statuses.items():
        assert metrics["status"] == "interrupted", (job, metrics["status"], metrics.get("error"))
        if moment == "jobs train":  # recorded by the job itself, where it stopped
            assert metrics["error"].startswith("KeyboardInterrupt: stopped by SIG"), (job, metrics["error"])
        _readable(sweep_dir / job)
    time.sleep(0.5)  # the launcher's workers are gone with the sweep: none left behind
    assert not subprocess.run(["pgrep", "-f", str(sweep_dir)], capture_output=True).stdout


COMPOSING = '''
import os, signal
from hydra.experimental.callback import Callback

class Stop(Callback):  # after nninit's checks, before Hydra's sweeper composes every job's config
    def on_multirun_start(self, config, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
'''


def test_ctrl_c_while_a_joblib_sweep_composes_its_jobs(tmp_path):
    """A Ctrl-C that lands while Hydra composes the jobs' configs (inside Hydra's own code, where it came
    out as an UnboundLocalError or an OmegaConf error, exit 1) waits until the launcher runs: the sweep
    then stops as on any Ctrl-C, exit 130, no traceback, no job left 'running'."""
    (tmp_path / "stoppers.py").write_text(COMPOSING)
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.run([sys.executable, str(REPO / "run.py"), "-m", "hydra/launcher=joblib", "init=zeros,he,xavier",
                           "seed=1,2,3,4", "+hydra.callbacks.stop._target_=stoppers.Stop",
                           f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(tmp_path), "MPLBACKEND": "Agg"})
    assert proc.returncode == 130 and "Traceback" not in proc.stderr, (proc.returncode, proc.stderr[-3000:])
    assert all(m["status"] == "interrupted" for m in _job_statuses(sweep_dir).values()), _job_statuses(sweep_dir)


def test_lokys_race_on_a_stopped_sweep_is_kept_out_of_the_terminal_and_only_it(caplog):
    """loky alone: ending an executor with jobs still waiting to be sent (joblib's abort on a Ctrl-C) kills its
    manager thread with a KeyError, which Python prints as a traceback (the joblib sweep test's rare failure). After
    a stop, nninit's hook logs that exception only; without a stop, or for another exception, Python is told."""
    import logging
    import threading

    from joblib.externals.loky import ProcessPoolExecutor

    from nninit.app.hydra import workers
    from nninit.record import signals

    def race_until(happened) -> bool:
        """The race, until ``happened()`` (it depends on when loky's manager thread wakes: most times at once)."""
        for _ in range(20):
            executor = ProcessPoolExecutor(max_workers=2)
            executor.submit(time.sleep, 0).result()  # the workers are up
            for _ in range(12):  # more than loky's call queue holds: some wait to be sent
                executor.submit(time.sleep, 0.2)
            executor.shutdown(wait=True, kill_workers=True)
            if happened():
                return True
        return False

    def quieted() -> int:
        return sum("loky's manager thread ended" in r.getMessage() for r in caplog.records)

    caplog.set_level(logging.DEBUG, logger=workers.__name__)
    told, before = [], threading.excepthook
    threading.excepthook = told.append
    try:
        assert race_until(lambda: told)  # without nninit's hook: Python's hook is told
        assert [(a.thread.name, a.exc_type) for a in told] == [("ExecutorManagerThread", KeyError)]
        assert workers.is_loky_abort_race(told[0])
        workers._quiet_loky_race_once_stopped()
        workers._quiet_loky_race_once_stopped()  # installed once: the hook does not wrap itself
        assert threading.excepthook.quiets_loky_race
        assert race_until(lambda: len(told) == 2) and quieted() == 0  # no stop: Python is told
        signals._RECEIVED.set()
        assert race_until(quieted) and len(told) == 2  # a stop: logged, and Python is not told
        other = threading.Thread(target=lambda: {}[0], name="ExecutorManagerThread")  # the same name, another place
        other.start()
        other.join()
        assert len(told) == 3 and not workers.is_loky_abort_race(told[2])
    finally:
        threading.excepthook = before
        signals.forget_interrupt()
