"""Draw a run's figures on two cores: a helper process imports matplotlib while the run trains,
then draws its share of the figures while the run's own process draws the rest.

A single run is one process and one core; the figures cost about as much as the training itself,
and importing matplotlib a few tenths of a second more. The helper is forked at the start of the
run (so it shares the imports done so far), imports matplotlib on the other core during data
generation and training, and waits. When the run's files are saved, it draws the animation and
the layer statistics while the run draws the rest. Where forking is not possible (one core, no
``fork``, a daemonic worker of a launcher) everything is drawn in the run's process, as before.
A helper that fails or dies leaves its figures to the run's process.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)

ENABLED = True
"""Set False to draw every figure in the run's own process (tests that inspect the figures do)."""
HELPER_FIGURES = ("animation", "layers")
"""Figures the helper draws; the run's process draws the others (about half the time each)."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _serve(conn) -> None:
    """The helper: ignore Ctrl-C (the run handles it and stops the helper with SIGTERM, which
    interrupts it like Ctrl-C, so that a file it was writing is not left half-done), import and warm
    up matplotlib, then draw what is asked and say what was written."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        from nninit import plots

        fig = plots.new_figure(1, 1, layout=None)
        fig.text(0.5, 0.5, "warm-up")  # loads the font cache
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig).draw()
        request = conn.recv()
        if request is None:
            return
        run_dir, metrics, only, animation = request
        written = plots.plot_run(run_dir, metrics, animation=animation, only=only)
        conn.send(("ok", [str(p) for p in written]))
    except (EOFError, KeyboardInterrupt):
        return
    except Exception as error:  # reported to the run, which draws these figures itself
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


class FigureDrawer:
    """Start the helper now (``parallel=True`` and two cores or more); :meth:`draw` later."""

    def __init__(self, parallel: bool = True):
        self.process = self.conn = None
        if not (parallel and ENABLED) or _cores() < 2:
            return
        try:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self.conn, child = context.Pipe()
            self.process = context.Process(target=_serve, args=(child,), daemon=True)
            self.process.start()
            child.close()
        except (ValueError, OSError, AssertionError) as error:  # no fork here, or a daemonic launcher worker
            log.debug("figures drawn in one process (%s)", error)
            self.process = self.conn = None

    def draw(self, run_dir: Path, metrics: dict, *, animation: bool) -> list[Path]:
        """Every figure of the run (``nninit.plots.plot_run``), shared with the helper when there is one."""
        from nninit import plots

        if self.process is None:
            return plots.plot_run(run_dir, metrics, animation=animation)
        helper = set(HELPER_FIGURES)
        try:
            self.conn.send((run_dir, metrics, helper, animation))
        except (OSError, EOFError):
            self.close()
            return plots.plot_run(run_dir, metrics, animation=animation)
        written = plots.plot_run(run_dir, metrics, animation=animation, only=set(plots.FIGURES) - helper)
        try:
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            status, detail = "error", "the helper process ended"
        if status == "ok":
            written += [Path(p) for p in detail]
        else:
            log.warning("figure helper: %s; drawing its figures here", detail)
            written += plots.plot_run(run_dir, metrics, animation=animation, only=helper)
        self.close()
        return written

    def close(self) -> None:
        """Stop the helper (idempotent; also on an interrupt or an error of the run)."""
        if self.conn is not None:
            try:
                self.conn.send(None)
            except (OSError, EOFError, ValueError):
                pass
            self.conn.close()
            self.conn = None
        if self.process is not None:
            self.process.join(timeout=0.5)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=2)
            self.process = None
