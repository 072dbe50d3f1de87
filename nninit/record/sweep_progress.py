"""A sweep's progress: ``job k/N done (status), about T left``.

The process that starts a sweep writes how many jobs it runs and when it started (:func:`record_sweep`).
A launcher that gets each job's result back in that process counts them there, in memory
(:class:`SweepProgress`: nninit's joblib launcher); with any other launcher each job, in whichever process
ran it, appends one line to a file when it ends and logs the count (:func:`log_sweep_progress`).
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import suppress

from nninit.record.runfolder import read_json, write_json

log = logging.getLogger("nninit")

SWEEP_STATE = ".nninit_sweep.json"
"""In a sweep folder: how many jobs this sweep runs and when it started (for the jobs' progress lines)."""
SWEEP_PROGRESS = ".nninit_progress"
"""In a sweep folder: one line per job of this sweep that ended (appended by whichever process ran it)."""
_RECORD = 13
"""Bytes of one :data:`SWEEP_PROGRESS` line (the status, padded, and a newline): the count is the file's size."""


def record_sweep(sweep_dir: str, to_run: int | None) -> None:
    """Write :data:`SWEEP_STATE` (``to_run`` jobs, None when unknown, started now) and forget a previous
    sweep's progress in ``sweep_dir`` (a resumed one)."""
    write_json(os.path.join(sweep_dir, SWEEP_STATE), {"jobs": to_run, "started": time.time()})
    with suppress(FileNotFoundError):
        os.unlink(os.path.join(sweep_dir, SWEEP_PROGRESS))  # a previous sweep's (resumed now)


def _log(done: int, total: int | None, started: float, status: str) -> None:
    if total is None:
        log.info("job %d done (%s)", done, status)
        return
    left = (time.time() - started) / done * (total - done)
    about = "" if done >= total else f", about {left:.0f} s left"
    log.info("job %d/%d done (%s)%s", min(done, total), total, status, about)


class SweepProgress:
    """The progress of a sweep whose jobs' results come back to the process that started it, counted in memory.

    Parameters
    ----------
    total : int or None
        The jobs this sweep runs (None: unknown).
    started : float
        When it started (``time.time()``).
    """

    def __init__(self, total: int | None, started: float):
        self.total, self.started, self.done = total, started, 0

    @classmethod
    def of(cls, sweep_dir: str) -> SweepProgress:
        """The progress of the sweep :func:`record_sweep` recorded in ``sweep_dir`` (read once; unknown
        total, started now, when it cannot be read)."""
        try:
            state = read_json(os.path.join(sweep_dir, SWEEP_STATE))
            return cls(None if state.get("jobs") is None else int(state["jobs"]), float(state["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(None, time.time())

    def job_done(self, job_return) -> None:
        """Count and log a job that ended (Hydra's ``JobReturn``); a job that resume kept, not run
        (its result says ``not_run``), is not counted."""
        try:
            result = job_return.return_value
        except Exception:  # the job raised: Hydra re-raises it here
            result = {"status": "failed"}
        if isinstance(result, dict) and result.get("not_run"):
            return
        self.done += 1
        _log(self.done, self.total, self.started, result.get("status") if isinstance(result, dict) else None)


def log_sweep_progress(sweep_dir: str, status: str) -> None:
    """``job k/N done (status), about T left``: k counts the jobs of this sweep that ended, N the
    jobs it runs (a resumed sweep does not count the jobs it keeps). Says nothing when the folder
    cannot be read or written."""
    try:
        fd = os.open(os.path.join(sweep_dir, SWEEP_PROGRESS), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, f"{status or '':<{_RECORD - 1}.{_RECORD - 1}}\n".encode())  # one short append: whole,
            done = os.fstat(fd).st_size // _RECORD  # whichever process writes it; fixed length: counted, not read
        finally:
            os.close(fd)
        state = read_json(os.path.join(sweep_dir, SWEEP_STATE))
    except (OSError, ValueError):
        return
    _log(done, None if state.get("jobs") is None else int(state["jobs"]), float(state["started"]), status)
