"""The signals with which a scheduler stops a job, turned into Ctrl-C.

A SLURM job run through submitit (``hydra/launcher=slurm``) runs in a submitit worker process,
not in ``run.py``, and submitit installs its own handlers there: SIGTERM (sent when the job
reaches its time limit or is cancelled) is logged and ignored, so the job is killed ``KillWait``
seconds later with nothing recorded; SIGUSR2 (the warning submitit asks SLURM to send
``signal_delay_s`` seconds before the time limit, or on preemption) checkpoints the launcher and
requeues the whole job, or raises ``UncompletedJobError`` in the middle of the training, which the
run would record as ``failed``. :func:`interrupt_on_scheduler_signals` replaces both by
``KeyboardInterrupt``, so that the run stops as on Ctrl-C and its folder says ``interrupted``, with
every file it wrote complete; ``resume=true`` reruns it.
"""

from __future__ import annotations

import signal
import sys
import threading

SCHEDULER_SIGNALS = ("SIGTERM", "SIGUSR2")
_RECEIVED = threading.Event()


def interrupt_received() -> bool:
    """True once this process was asked to stop (Ctrl-C or a scheduler's signal). An interrupt that
    lands inside a C extension's import surfaces as ``ImportError: initialization failed``, not as
    ``KeyboardInterrupt``; this tells the two apart."""
    return _RECEIVED.is_set()


def _interrupt(signum, frame):
    _RECEIVED.set()
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


_default_unraisablehook = sys.unraisablehook


def _unraisable(unraisable) -> None:
    """An interrupt that came while Python ran a finalizer or a weakref callback (matplotlib's
    objects have many) cannot propagate from there: Python would print it as "Exception ignored"
    and go on. It is remembered (:func:`interrupt_received`), and :func:`stop_if_interrupted`
    raises it again where the run checks. Once an interrupt came, the finalizers of objects it
    left half-built (e.g. pyparsing's, interrupted while matplotlib built its parser) fail as well:
    those errors are its consequence, not news, and are not printed either."""
    if _RECEIVED.is_set():
        return
    _default_unraisablehook(unraisable)


def stop_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` when an interrupt came to this process, even one that Python
    could not raise where it landed (see :func:`_unraisable`). Called where a run checks: in the
    training loop and before a run writes its final status."""
    if _RECEIVED.is_set():
        raise KeyboardInterrupt("stopped by an interrupt that came earlier")


def interrupt_on_ctrl_c() -> None:
    """Make SIGINT raise ``KeyboardInterrupt`` (even when the process was started with SIGINT
    ignored, as a background job of a non-interactive shell is) and remember that it came."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
        sys.unraisablehook = _unraisable


def interrupt_on_scheduler_signals() -> list[str]:
    """Make SIGTERM and SIGUSR2 raise ``KeyboardInterrupt`` in this process.

    Python allows signal handlers in the main thread only; elsewhere this does nothing.
    Returns the names of the signals handled.
    """
    if threading.current_thread() is not threading.main_thread():
        return []
    names = [name for name in SCHEDULER_SIGNALS if hasattr(signal, name)]
    for name in names:
        signal.signal(getattr(signal, name), _interrupt)
    sys.unraisablehook = _unraisable
    return names
