"""A second process on the core a run or a sweep leaves idle: the forked drawing backend of a run
(:class:`ForkedDrawing`) and the prepared process of a sweep's summary (:class:`Prepared`).

A single run is one process on one core, and much of what a user waits for is not training:
importing matplotlib and drawing the figures. :class:`ForkedDrawing` forks a helper when the run
starts; the helper imports and warms up matplotlib while the run trains, and draws every figure of the run
once its files are written, while the run's own process never imports matplotlib. The helper runs
the same code on the same files as the run's process would (:func:`nninit.figures.plots.plot_run`),
so the figures are the same bytes. A helper that fails or dies leaves its figures to the run's
process, which draws them as if there were no helper.

:class:`Prepared` does the same for a sweep's summary: forked when the sweep starts, it imports
what the summary needs while Hydra checks the jobs, and writes it when the last job has ended.

Where forking is not possible or not wanted (``ENABLED`` False, one core, no ``fork``, a daemonic
worker of a launcher), everything is done in the calling process; :func:`nninit.figures.drawing.drawing_backend`
chooses.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
from pathlib import Path

from nninit.record import signals

log = logging.getLogger(__name__)

ENABLED = True
"""Set False to do everything in the calling process (tests that inspect the figures do)."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def available() -> bool:
    """True when a helper process may be forked: :data:`ENABLED` and two cores or more."""
    return ENABLED and cores() >= 2


def _stop(signum, frame):
    """SIGTERM, from the forking process: interrupt the helper like Ctrl-C (a file it was writing is
    then removed by its writer, not left half-done), once; later ones are ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signals._interrupt(signum, frame)  # remembered, so that what it interrupts in a finalizer is not printed


def _helper_life(work, conn, other_end, *args) -> None:
    """A helper process's life: Ctrl-C is ignored (the process that forked it handles it, and
    stops the helper with SIGTERM); ``work(conn, *args)``; stopped, or when the process that
    forked it has ended, it ends quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    signals.unblock_stop_signals()  # forked while the run or sweep held them (run.py)
    other_end.close()  # the forking process's end: closed here, so that its exit ends recv()
    try:
        work(conn, *args)
    except (KeyboardInterrupt, EOFError, OSError, ImportError):
        pass  # ImportError: "initialization failed", the stop landing in a C extension's import
    except Exception:
        if not signals.interrupt_received():  # the stop, landing where Python turns it into another error
            raise  # (a RuntimeError from __set_name__ while matplotlib's classes are made)
    finally:
        conn.close()


def _fork(work, *args):
    """Fork a helper that runs ``work(connection, *args)``; ``(process, connection)``, or
    ``(None, None)`` where that is not possible."""
    if not available():
        return None, None
    try:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        conn, child = context.Pipe()
        process = context.Process(target=_helper_life, args=(work, child, conn, *args), daemon=True)
        # frozen: the helper's garbage collector leaves the objects it inherits alone, so that their memory
        # is never copied (measured on a busy machine: 0.6 s less CPU a run, the whole run 16 % faster)
        frozen_before = gc.get_freeze_count()
        gc.freeze()
        try:
            process.start()
        finally:
            if not frozen_before:  # what the caller had frozen stays frozen
                gc.unfreeze()
        child.close()
        return process, conn
    except (ValueError, OSError, AssertionError) as error:  # no fork here, or a daemonic launcher worker
        log.debug("no helper process (%s)", error)
        return None, None


def _end(process, conn) -> None:
    """Ask the helper to end, then make sure it has (at most half a second, then SIGTERM)."""
    with contextlib.suppress(OSError, EOFError, ValueError):
        conn.send(None)
    conn.close()
    process.join(timeout=0.5)
    if process.is_alive():
        process.terminate()
        process.join(timeout=2)


def _serve_run(conn) -> None:
    """The run's helper: warm up matplotlib, then take ``("draw", run_dir, metrics, animation)``, answered
    with the paths written."""
    from nninit.figures import plots  # the run's process imports no matplotlib: an invalid MPLBACKEND is said here

    plots.warm_up()
    request = conn.recv()
    if request is None:
        return
    try:
        _, run_dir, metrics, animation = request
        written = plots.plot_run(run_dir, metrics, animation=animation)
        conn.send(("ok", [str(p) for p in written]))
    except Exception as error:  # reported to the run, which draws the figures itself
        conn.send(("error", f"{type(error).__name__}: {error}"))


class ForkedDrawing:
    """The forked drawing backend: a helper process, forked now, draws the run's figures
    (:mod:`nninit.figures.drawing` describes the interface). ``process`` is None when no helper
    could be forked; everything is then drawn in this process."""

    def __init__(self):
        self.process, self.conn = _fork(_serve_run)

    def __enter__(self) -> ForkedDrawing:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, request) -> bool:
        try:
            self.conn.send(request)
            return True
        except (OSError, EOFError, ValueError, AttributeError):  # AttributeError: no helper (conn is None)
            return False

    def draw(self, run_dir: Path, metrics: dict, *, animation: bool) -> list[Path]:
        """Every figure of the run (:func:`nninit.figures.plots.plot_run`), drawn by the helper; by
        this process when there is no helper or it failed (said in a warning)."""
        paths = self._ask(("draw", run_dir, metrics, animation)) if self.process is not None else None
        self.close()
        if paths is None:
            from nninit.figures import plots

            return plots.plot_run(run_dir, metrics, animation=animation)
        return [Path(p) for p in paths]

    def _ask(self, request):
        """The helper's answer to ``request``, or None when it failed or ended (said in a warning)."""
        status, detail = "error", "the helper process ended"
        if self._send(request):
            with contextlib.suppress(OSError, EOFError):
                status, detail = self.conn.recv()
        if status == "ok":
            return detail
        log.warning("helper process: %s; drawing the figures in the run's process", detail)
        return None

    def close(self) -> None:
        """Stop the helper (idempotent; also on an interrupt or an error of the run)."""
        if self.process is not None:
            _end(self.process, self.conn)
        self.process = self.conn = None


def _prepare_and_call(conn, modules: tuple[str, ...]) -> None:
    """:class:`Prepared`'s process: import ``modules`` (and warm up matplotlib), then run the one
    call sent, and send back ``("ok", result)`` or ``("error", message)``."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    from nninit.figures import plots

    plots.warm_up()
    request = conn.recv()
    if request is None:
        return
    function, args, kwargs = request
    try:
        conn.send(("ok", function(*args, **kwargs)))
    except Exception as error:  # the caller runs the call itself, and gets the error there
        conn.send(("error", f"{type(error).__name__}: {error}"))


class Prepared:
    """One call, run later in a process forked now that imports what it needs in the meantime.

    A sweep's summary imports scipy and matplotlib (about 0.8 s) after the last job; forked when
    the sweep starts, this process imports them on the core the sweep's parent leaves idle while
    Hydra checks every job's config, then waits. :meth:`call` runs the call there, or here when
    there is no such process (one core, no ``fork``) or it failed: the result is the same.
    """

    def __init__(self, modules: tuple[str, ...]):
        self.process, self.conn = _fork(_prepare_and_call, tuple(modules))

    def call(self, function, *args, **kwargs):
        """``function(*args, **kwargs)``, in the prepared process when there is one; an error
        there is raised by running the call here."""
        answer = ("error", "no helper process")
        if self.process is not None:
            try:
                self.conn.send((function, args, kwargs))
                answer = self.conn.recv()
            except (OSError, EOFError, ValueError):
                answer = ("error", "the helper process ended")
            self.close()
        if answer[0] == "ok":
            return answer[1]
        log.debug("running %s here (%s)", getattr(function, "__name__", function), answer[1])
        return function(*args, **kwargs)

    def close(self) -> None:
        """Stop the process (idempotent)."""
        if self.process is not None:
            _end(self.process, self.conn)
        self.process = self.conn = None
