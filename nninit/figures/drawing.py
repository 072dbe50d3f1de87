"""How a run's figures get drawn: one interface, two backends, chosen by :func:`drawing_backend`.

A backend is a context manager (leaving it stops whatever it started) with one method,
``draw(run_dir, metrics, *, animation)``: every figure of the run folder
(:func:`nninit.figures.plots.plot_run`), returning the paths written.

:class:`InProcess` draws in the run's own process, after training. The forked backend
(:class:`nninit.figures.helper_process.ForkedDrawing`) draws in a helper process forked when the
run starts, on the core the run leaves idle: the figures are the same bytes, ready sooner. Nothing
here imports matplotlib until a figure is drawn in this process.
"""

from __future__ import annotations

from pathlib import Path

from nninit.figures import helper_process


class InProcess:
    """Every figure drawn in the run's own process, after training."""

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def draw(self, run_dir: Path, metrics: dict, *, animation: bool) -> list[Path]:
        """:func:`nninit.figures.plots.plot_run` of the run folder."""
        from nninit.figures import plots

        return plots.plot_run(run_dir, metrics, animation=animation)

    def close(self) -> None:
        """Nothing to stop."""


def drawing_backend(figures: bool = True) -> InProcess | helper_process.ForkedDrawing:
    """The backend for a run: the forked one when the run draws figures and a helper process can be
    forked (:func:`nninit.figures.helper_process.available`: enabled, two cores or more, ``fork``),
    else :class:`InProcess`. Enter it before the run starts (a forked helper warms up meanwhile)."""
    if figures and helper_process.available():
        forked = helper_process.ForkedDrawing()
        if forked.process is not None:
            return forked
    return InProcess()
