"""A sweep's progress, told by its jobs: ``job k/N done (status), about T left``.

The process that starts a sweep writes how many jobs it runs and when it started (:func:`record_sweep`);
each job, in whichever process ran it, appends one line when it ends and logs the count
(:func:`log_sweep_progress`).
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


def record_sweep(sweep_dir: str, to_run: int | None) -> None:
    """Write :data:`SWEEP_STATE` (``to_run`` jobs, None when unknown, started now) and forget a previous
    sweep's progress in ``sweep_dir`` (a resumed one)."""
    write_json(os.path.join(sweep_dir, SWEEP_STATE), {"jobs": to_run, "started": time.time()})
    with suppress(FileNotFoundError):
        os.unlink(os.path.join(sweep_dir, SWEEP_PROGRESS))  # a previous sweep's (resumed now)


def log_sweep_progress(sweep_dir: str, status: str) -> None:
    """``job k/N done (status), about T left``: k counts the jobs of this sweep that ended, N the
    jobs it runs (a resumed sweep does not count the jobs it keeps). Says nothing when the folder
    cannot be read or written."""
    try:
        fd = os.open(os.path.join(sweep_dir, SWEEP_PROGRESS), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, f"{status}\n".encode())  # one short append: whole, whichever process writes it
        finally:
            os.close(fd)
        with open(os.path.join(sweep_dir, SWEEP_PROGRESS), encoding="utf-8") as f:
            done = sum(1 for _ in f)
        state = read_json(os.path.join(sweep_dir, SWEEP_STATE))
    except (OSError, ValueError):
        return
    if state.get("jobs") is None:
        log.info("job %d done (%s)", done, status)
        return
    total, elapsed = int(state["jobs"]), time.time() - float(state["started"])
    left = elapsed / done * (total - done)
    about = "" if done >= total else f", about {left:.0f} s left"
    log.info("job %d/%d done (%s)%s", min(done, total), total, status, about)
