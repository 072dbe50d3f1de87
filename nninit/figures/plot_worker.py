"""A second process for one run, on the second core: it makes the data set while the run starts,
and draws half of the figures while the run draws the other half.

A single run is one process on one core, and most of what a user waits for is not training:
importing scikit-learn (to draw the data set), importing matplotlib and drawing the figures. The
helper is forked as early as possible -- by ``run.py`` before it imports Hydra (:func:`start_early`),
else when the run starts (:class:`FigureDrawer`) -- and

1. imports scikit-learn while the run's process imports Hydra and composes the configuration;
2. draws the data set when asked (:meth:`FigureDrawer.dataset`; the run's process meanwhile
   imports matplotlib and warms it up), and sends the arrays back;
3. imports and warms up matplotlib while the run trains;
4. draws the animation and the layer statistics while the run draws the rest.

The helper runs the same code on the same inputs as the run's process would, so the data and the
figures are the same bytes. Where forking is not possible (one core, no ``fork``, a daemonic worker
of a launcher) everything is done in the run's process. A helper that fails or dies leaves its
work to the run's process, which does it as if there were no helper.

:class:`Prepared` does the same for a sweep's summary: forked when the sweep starts, it imports
what the summary needs while Hydra checks the jobs, and writes it when the last job has ended.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from nninit.record import signals

log = logging.getLogger(__name__)

ENABLED = True
"""Set False to do everything in the run's own process (tests that inspect the figures do)."""
HELPER_FIGURES = ("animation", "layers")
"""Figures the helper draws (the animation's frames while the run trains); the run's process draws the
others (about as long as the helper takes for its share, measured: giving it the signal propagation too
was slower)."""

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""One BLAS thread in the helper: it shares the cores with the run, and numpy imports faster
(about 0.07 s here) without starting a thread pool."""

STREAM_BYTES = 64 * 2**10
"""Snapshots are sent to the helper while the run trains only when all of them fit in this."""

_early: tuple | None = None  # (process, connection) forked by start_early, until a run adopts it


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _stop(signum, frame):
    """SIGTERM, from the run: interrupt the helper like Ctrl-C (a file it was writing is then
    removed by its writer, not left half-done), once; later ones are ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signals._interrupt(signum, frame)  # remembered, so that what it interrupts in a finalizer is not printed


def _helper_life(work, conn, other_end, *args) -> None:
    """A helper process's life: Ctrl-C is ignored (the process that forked it handles it, and
    stops the helper with SIGTERM); one BLAS thread; ``work(conn, *args)``; stopped, or when the
    process that forked it has ended, it ends quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    signals.unblock_stop_signals()  # forked while the run or sweep held them (run.py)
    for name in THREAD_VARIABLES:  # read when numpy is first imported (not yet, when forked early)
        os.environ[name] = "1"
    other_end.close()  # the forking process's end: closed here, so that its exit ends recv()
    try:
        work(conn, *args)
    except (KeyboardInterrupt, EOFError, OSError, ImportError):
        pass  # ImportError: "initialization failed", the stop landing in a C extension's import
    finally:
        conn.close()


def _serve_run(conn) -> None:
    """Import scikit-learn, then answer the run: ``("dataset", data_cfg)`` with the arrays,
    ``("warm_up",)`` by importing matplotlib, ``("draw", run_dir, metrics, only, animation)``
    with the paths written; ``None`` stops the helper."""
    warm, frames = False, None
    logging.getLogger("nninit.figures.plots").setLevel(logging.ERROR)  # an invalid MPLBACKEND: said once, by the run
    import sklearn.datasets  # noqa: F401  (the slow import, done while the run imports Hydra)

    while True:
        request = conn.recv()
        if request is None:
            return
        kind, *args = request
        try:
            if kind == "dataset":
                from nninit.data import make_dataset

                conn.send(("ok", make_dataset(*args)))
                continue
            from nninit.figures import plots

            if not warm:
                plots.warm_up()
                warm = True
            if kind == "warm_up":  # while the run trains
                continue
            if kind in ("animation", "frame"):  # no answer: the frames of the animation, while the run trains
                frames = _add_frame(frames, kind, args)
                continue
            run_dir, metrics, only, animation = args
            written = plots.plot_run(run_dir, metrics, animation=animation, only=only, frames=frames)
            conn.send(("ok", [str(p) for p in written]))
            return
        except Exception as error:  # reported to the run, which does this work itself
            conn.send(("error", f"{type(error).__name__}: {error}"))


def _add_frame(frames, kind: str, args):
    """The helper's animation: ``("animation", X, Y, title, activation, negative_slope)`` starts
    it, each ``("frame", i, parameters, row)`` adds a frame (the first one makes the
    :class:`nninit.figures.plots.BoundaryAnimation`). None once a frame failed: the run's figure is then
    drawn from its saved snapshots."""
    from nninit.figures import plots

    if kind == "animation":
        return args
    if frames is None:
        return None
    try:
        if not isinstance(frames, plots.BoundaryAnimation):
            X, Y, title, activation, negative_slope = frames
            frames = plots.BoundaryAnimation(X, Y, title, args[1], activation, negative_slope)
        frames.add(*args)
        return frames
    except Exception as error:
        log.debug("animation frame not drawn (%s)", error)
        return None


def _fork(work=_serve_run, *args):
    """Fork a helper that runs ``work(connection, *args)``; ``(process, connection)``, or None
    where that is not possible."""
    try:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        conn, child = context.Pipe()
        process = context.Process(target=_helper_life, args=(work, child, conn, *args), daemon=True)
        process.start()
        child.close()
        return process, conn
    except (ValueError, OSError, AssertionError) as error:  # no fork here, or a daemonic launcher worker
        log.debug("no helper process (%s)", error)
        return None


def start_early() -> None:
    """Fork the helper now, before the slow imports (``run.py`` calls this for a single run)."""
    global _early
    if ENABLED and _early is None and _cores() >= 2:
        _early = _fork()


def stop_early() -> None:
    """Stop a helper that :func:`start_early` forked and no run adopted (idempotent)."""
    global _early
    if _early is not None:
        FigureDrawer._stop(*_early)
        _early = None


class FigureDrawer:
    """The run's helper: adopt the one :func:`start_early` forked, else fork one now
    (``parallel=True`` and two cores or more); :meth:`dataset`, :meth:`warm_up`, :meth:`draw`
    later, :meth:`close` at the end."""

    def __init__(self, parallel: bool = True):
        global _early
        self.process = self.conn = None
        if _early is not None:
            (self.process, self.conn), _early = _early, None
        elif parallel and ENABLED and _cores() >= 2:
            self.process, self.conn = _fork() or (None, None)
        self.figures = parallel

    def _send(self, request) -> bool:
        try:
            self.conn.send(request)
            return True
        except (OSError, EOFError, ValueError):
            return False

    def _answer(self, sent: bool):
        """The helper's answer, or None (the helper is then stopped, with a warning)."""
        try:
            status, detail = self.conn.recv() if sent else ("error", "the helper process ended")
        except (OSError, EOFError):
            status, detail = "error", "the helper process ended"
        if status == "ok":
            return detail
        log.warning("helper process: %s; doing its work in the run's process", detail)
        self.close()
        return None

    def dataset(self, data_cfg: dict):
        """:func:`nninit.data.make_dataset` of ``data_cfg``, drawn by the helper while this process
        warms up matplotlib (when the run draws figures)."""
        import numpy as np

        from nninit.data import CACHE_MAX_VALUES, Dataset, describe, make_dataset

        size = describe(data_cfg)
        values = (size.n_train + size.n_test) * (size.n_features + 1)
        if self.process is None or values > CACHE_MAX_VALUES:  # large data: drawn here, not sent through a pipe
            return make_dataset(data_cfg)
        sent = self._send(("dataset", data_cfg))
        if self.figures:
            from nninit.figures import plots

            plots.warm_up()
        data = self._answer(sent)
        if data is None:
            return make_dataset(data_cfg)
        # copied: arrays of this process's own (writeable, allocated here), as if drawn here
        return Dataset(*(np.array(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test)))

    def frames(self, X, Y, title: str, activation: str, negative_slope: float, bytes_per_frame: int, count: int):
        """A callback for :func:`nninit.numerics.training.train`'s ``on_snapshot`` that sends each snapshot
        to the helper, which draws the animation's frames while the run trains; None when there is
        no helper, the inputs are not 2-d, or the snapshots would not fit in the pipe's buffer
        (:data:`STREAM_BYTES`: the training must never wait for the helper)."""
        if (not self.figures or self.process is None or X.shape[0] != 2
                or count * bytes_per_frame > STREAM_BYTES
                or not self._send(("animation", X, Y, title, activation, negative_slope))):
            return None

        def send(iteration, parameters, row):
            self._send(("frame", iteration, parameters, row))

        return send

    def warm_up(self) -> None:
        """Let the helper import and warm up matplotlib now (while the run trains)."""
        if self.figures and self.process is not None and not self._send(("warm_up",)):
            self.close()

    def draw(self, run_dir: Path, metrics: dict, *, animation: bool) -> list[Path]:
        """Every figure of the run (``nninit.figures.plots.plot_run``), shared with the helper when there is one."""
        from nninit.figures import plots

        if self.process is None:
            return plots.plot_run(run_dir, metrics, animation=animation)
        helper = set(HELPER_FIGURES)
        sent = self._send(("draw", run_dir, metrics, helper, animation))
        written = plots.plot_run(run_dir, metrics, animation=animation, only=set(plots.FIGURES) - helper if sent else None)
        paths = self._answer(sent)
        if paths is not None:
            written += [Path(p) for p in paths]
        elif sent:  # the helper failed: its share is drawn here
            written += plots.plot_run(run_dir, metrics, animation=animation, only=helper)
        self.close()
        return written

    @staticmethod
    def _stop(process, conn) -> None:
        try:
            conn.send(None)
        except (OSError, EOFError, ValueError):
            pass
        conn.close()
        process.join(timeout=0.5)
        if process.is_alive():
            process.terminate()
            process.join(timeout=2)

    def close(self) -> None:
        """Stop the helper (idempotent; also on an interrupt or an error of the run)."""
        if self.process is not None:
            self._stop(self.process, self.conn)
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
        self.process = self.conn = None
        if ENABLED and _cores() >= 2:
            self.process, self.conn = _fork(_prepare_and_call, tuple(modules)) or (None, None)

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
            FigureDrawer._stop(self.process, self.conn)
        self.process = self.conn = None
