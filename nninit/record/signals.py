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

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

SCHEDULER_SIGNALS = ("SIGTERM", "SIGUSR2")
_RECEIVED = threading.Event()
_NAMES: list[str] = []
"""The name of the last stop signal this process received (``SIGINT``), once one came."""


def _received(signum: int) -> None:
    """Remember that the signal ``signum`` asked this process to stop."""
    _NAMES[:] = [signal.Signals(signum).name]
    _RECEIVED.set()


def interrupt_received() -> bool:
    """True once this process was asked to stop (Ctrl-C or a scheduler's signal). An interrupt that
    lands inside a C extension's import surfaces as ``ImportError: initialization failed``, not as
    ``KeyboardInterrupt``; this tells the two apart."""
    return _RECEIVED.is_set()


def forget_interrupt() -> None:
    """Forget an interrupt this process received (:func:`interrupt_received` is False again): for a process
    that goes on after a run it stopped, as a notebook's kernel does (:mod:`nninit.app.hydra.compose`)."""
    _RECEIVED.clear()
    _NAMES.clear()


_DEFERRED = []
"""Non-empty while a run records its final state (:func:`deferred`)."""


def _interrupt(signum, frame):
    _received(signum)
    if _DEFERRED:  # a second Ctrl-C while the first is being recorded: remembered, not raised
        return
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def deferred():
    """Within this block a signal is remembered (:func:`interrupt_received`) but does not raise, so
    that a second Ctrl-C (or the copy of a Ctrl-C that a sweep forwards to its workers) cannot cut the
    writing of a run's final status short. Use it only around short, bounded work."""
    _DEFERRED.append(True)
    try:
        yield
    finally:
        _DEFERRED.pop()


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
    training loop and before a run writes its final status. The message names the signal, as the handler's does
    (``stopped by SIGTERM``), when it is known."""
    if _RECEIVED.is_set():
        raise KeyboardInterrupt(f"stopped by {_NAMES[0]}" if _NAMES else "stopped by an interrupt that came earlier")


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


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What stops a run or a sweep on this machine: Ctrl-C and ``kill`` (a scheduler's time limit)."""


@contextlib.contextmanager
def signals_held():
    """A block that Ctrl-C and SIGTERM do not cut: they are held for this thread (POSIX) and delivered
    when the block ends, so that what it creates is also recorded (a temporary file's name, a folder's
    lock). The thread's earlier mask comes back, so it nests inside :func:`block_stop_signals`."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def block_stop_signals() -> None:
    """Hold SIGINT and SIGTERM pending in the calling thread. Processes and threads started from it
    inherit the block: a launcher's worker processes then start (their imports, before any handler of
    ours exists) without the Ctrl-C traceback Python would print, and take the signal once the job
    unblocks it (:func:`unblock_stop_signals`). The same technique as joblib's resource tracker."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def unblock_stop_signals() -> None:
    """Deliver the stop signals again in the calling thread (a pending one is delivered at once)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def child_processes() -> dict[int, str]:
    """This process's child processes and their command lines (Linux's ``/proc``; empty elsewhere)."""
    found: dict[int, str] = {}
    try:
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            with open(f"/proc/{os.getpid()}/task/{task}/children") as children:
                for pid in map(int, children.read().split()):
                    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        found[pid] = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        pass
    return found


GRACE_S = 10.0
"""How long a stopped sweep waits for its jobs to record ``interrupted`` before it stops them anyway."""


def wait_until(condition: Callable[[], bool], timeout_s: float = GRACE_S, poll_s: float = 0.02) -> bool:
    """Poll ``condition`` until it is true or ``timeout_s`` seconds have passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


def forward_stop_signals(recorded: Callable[[], bool], launched: Callable[[], bool] = lambda: True,
                         grace_s: float = GRACE_S) -> threading.Thread | None:
    """In the parent of a local sweep whose jobs run in worker processes (Hydra's joblib launcher):
    pass a stop signal on to the workers, and stop this process only once they have recorded it.

    Without this, the launcher answers its own Ctrl-C by killing its workers (joblib's loky uses
    SIGKILL) at once, while they are still writing ``interrupted``: their folders would keep saying
    ``running``. Here a thread takes SIGINT and SIGTERM (the main thread blocks them, and so do the
    workers started after this call: :func:`block_stop_signals`), waits until ``launched()`` (the
    launcher is running its jobs: before, the main thread is composing the jobs' configs inside Hydra,
    where an interrupt comes out as another error), sends the signal to every child process, waits
    until ``recorded()`` is true (or ``grace_s`` seconds each), then raises the signal in the main
    thread (:func:`_thread.interrupt_main`), which stops the sweep as before.

    Returns the thread, or None outside the main thread (where Python allows no signal handling).
    """
    import _thread

    if threading.current_thread() is not threading.main_thread():
        return None

    def forward() -> None:
        block_stop_signals()  # this thread takes them with sigwait only
        while True:
            signum = signal.sigwait(STOP_SIGNALS)
            _received(signum)  # taken here, not by a handler: the process was asked to stop all the same
            wait_until(launched, 6 * grace_s)
            for pid in child_processes():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
            wait_until(recorded, grace_s)
            _thread.interrupt_main(signum)

    from multiprocessing import resource_tracker

    # started now, not while the launcher starts its workers: Python's tracker unblocks both signals
    # in the thread that starts it (its ensure_running), which would let the workers start unblocked
    resource_tracker.ensure_running()
    thread = threading.Thread(target=forward, name="nninit-stop-signals", daemon=True)
    thread.start()
    block_stop_signals()
    return thread
