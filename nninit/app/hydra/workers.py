"""Jobs in local worker processes (Hydra's joblib launcher): one BLAS thread per worker, and a stop
(Ctrl-C, SIGTERM) that lets every worker record its run before the launcher ends it. Imports no Hydra."""

from __future__ import annotations

import os
import threading

COUNTING_LAUNCHER = "hydra_plugins.nninit_sweeps.joblib_launcher.NninitJoblibLauncher"
"""``hydra/launcher=joblib``: nninit's joblib launcher, which counts the sweep's progress as results come back."""
_LOCAL_WORKERS: list[str] = []
"""The sweep folder, when this process runs its jobs in local worker processes (joblib)."""
_LIMITED: list = []
_LAUNCHED = threading.Event()
"""Set when nninit's joblib launcher starts sending its jobs (:func:`jobs_launched`)."""


def one_blas_thread_per_worker() -> None:
    """In a worker process of a launcher (joblib runs one per core), BLAS gets one thread: the
    workers already keep the cores busy, and more threads per worker only compete (threadpoolctl,
    which scikit-learn brings)."""
    import multiprocessing

    if _LIMITED or multiprocessing.parent_process() is None:
        return
    from threadpoolctl import threadpool_limits

    _LIMITED.append(threadpool_limits(limits=1))


def stop_workers_after_they_record(sweep_dir: str, launcher: str = COUNTING_LAUNCHER) -> None:
    """A joblib sweep stopped by Ctrl-C or SIGTERM: the workers record ``interrupted`` before the
    launcher kills them (:func:`nninit.record.signals.forward_stop_signals`), and a job a worker could not
    record in time is recorded by this process once the launcher has stopped (:func:`record_stopped_jobs`).

    The stop is passed on once the launcher runs its jobs: nninit's launcher says so (:func:`jobs_launched`; its
    workers start while it composes the jobs' configs, where an interrupt would come out as another error);
    another joblib launcher once its workers exist."""
    from nninit.record.signals import child_processes, forward_stop_signals

    if launcher == COUNTING_LAUNCHER:
        launched = _LAUNCHED.is_set
    else:
        launched = lambda: any("loky" in command for command in child_processes().values())  # noqa: E731
    forward_stop_signals(lambda: not running_jobs(sweep_dir), launched)
    _LOCAL_WORKERS[:] = [sweep_dir]


def jobs_launched() -> None:
    """Called by nninit's joblib launcher once its workers are up and every job's config is composed: a stop
    signal that came before is passed on to the workers from now on (:func:`stop_workers_after_they_record`)."""
    _LAUNCHED.set()


def running_jobs(sweep_dir: str) -> list[str]:
    """The job folders of ``sweep_dir`` whose ``metrics.json`` says ``running``."""
    from nninit.record.runfolder import METRICS, read_json

    found = []
    with os.scandir(sweep_dir) as entries:
        for entry in entries:
            metrics = os.path.join(entry.path, METRICS)
            try:
                if entry.is_dir() and read_json(metrics).get("status") == "running":
                    found.append(entry.path)
            except (OSError, ValueError):
                continue
    return found


def record_stopped_jobs() -> list[str]:
    """After a joblib sweep was stopped (its workers are gone): a job folder still saying ``running``
    was ended by the launcher before its worker could record it; record it ``interrupted``, with that
    reason, so that the folder tells the truth and ``resume=true`` reruns it. Returns those folders."""
    from nninit.record.runfolder import METRICS, read_json, write_json

    if not _LOCAL_WORKERS:
        return []
    stopped = running_jobs(_LOCAL_WORKERS[0])
    for folder in stopped:
        metrics = read_json(os.path.join(folder, METRICS))
        metrics.update(status="interrupted", error="KeyboardInterrupt: the sweep stopped its worker before the "
                       "run could record where it was")
        write_json(os.path.join(folder, METRICS), metrics)
    return stopped
