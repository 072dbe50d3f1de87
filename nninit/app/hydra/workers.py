"""Jobs in local worker processes (Hydra's joblib launcher): one BLAS thread per worker, and a stop
(Ctrl-C, SIGTERM) that lets every worker record its run before the launcher ends it. Imports no Hydra."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

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
    _quiet_loky_race_once_stopped()


def _quiet_loky_race_once_stopped() -> None:
    """Keep loky's race on a stopped sweep out of the user's terminal (installed once per process).

    A stopped joblib sweep ends its workers through ``shutdown(kill_workers=True)`` (joblib's abort). loky's
    manager thread (joblib 1.6.0) then drops every pending job and goes on to queue the ones still waiting to be
    sent, which it has just dropped: ``KeyError`` in ``add_call_item_to_queue``, printed as "Exception in thread
    ExecutorManagerThread" with its traceback (reproduced with loky alone in ``tests/test_interrupt.py``). The
    workers are already ended and every job folder recorded, so after a stop this exception, and only this one,
    is logged at debug level; any other thread's exception, and this one without a stop, goes to the hook that
    was there (Python's prints it)."""
    if getattr(threading.excepthook, "quiets_loky_race", False):
        return
    from nninit.record.signals import interrupt_received

    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if interrupt_received() and is_loky_abort_race(args):
            log.debug("loky's manager thread ended on a stopped sweep: %r", args.exc_value)
            return
        previous(args)

    hook.quiets_loky_race = True
    threading.excepthook = hook


def is_loky_abort_race(args: threading.ExceptHookArgs) -> bool:
    """Whether a thread's exception is loky's race on an aborted executor (:func:`_quiet_loky_race_once_stopped`):
    a ``KeyError`` raised in ``add_call_item_to_queue`` of the thread loky names ``ExecutorManagerThread``."""
    if args.exc_type is not KeyError or args.thread is None or args.thread.name != "ExecutorManagerThread":
        return False
    tb = args.exc_traceback
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name == "add_call_item_to_queue"


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
