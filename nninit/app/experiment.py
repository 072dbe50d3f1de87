"""One experiment, end to end: :func:`run` reads validate -> data -> init -> train -> save -> draw,
one short step each, and :func:`recorded` handles its failures and interrupts, all of them.

:func:`run` takes the configuration as plain containers (no Hydra objects) and can be called
from a notebook or a test as well as from ``run.py``.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nninit.app.config import validate
from nninit.app.control_keys import recorded_overrides
from nninit.app.long_runs import say_if_long
from nninit.data import stored_labels
from nninit.data.cache import cached_dataset
from nninit.figures.boundary_grid import FRAME_RESOLUTION, BoundaryFrames
from nninit.figures.drawing import drawing_backend
from nninit.numerics.activations import Activation
from nninit.numerics.initializers import initial_parameters
from nninit.numerics.network import accuracy
from nninit.numerics.recording import diagnostics, on_test_set
from nninit.numerics.training import TrainSettings, train
from nninit.record import runfolder
from nninit.record.progress import Progress
from nninit.record.signals import deferred, interrupt_received, stop_if_interrupted

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


MAX_FRAMES = 31
"""Frames of ``decision_boundary.gif`` at most: that many recorded iterations, evenly chosen."""


def snapshot_iterations(num_iterations: int, print_every: int) -> frozenset[int]:
    """Up to :data:`MAX_FRAMES` recorded iterations, evenly spread from 0 to the last: the animation's
    frames. Computed from the count of recorded iterations, never by listing them (a run of 10¹²
    iterations has 10⁹ recorded rows)."""
    recorded = num_iterations // print_every + 1 + (num_iterations % print_every != 0)  # 0, p, 2p, ..., and the end

    def iteration(k: int) -> int:
        return min(k * print_every, num_iterations)

    frames = min(MAX_FRAMES, recorded)
    picks = np.unique(np.round(np.linspace(0, recorded - 1, frames)).astype(np.int64))
    return frozenset(iteration(int(k)) for k in picks)


def _frames(cfg: dict, data, parameters: dict[str, np.ndarray]) -> BoundaryFrames | None:
    """The animation's frames (:class:`nninit.figures.boundary_grid.BoundaryFrames`), evaluated as the run
    trains; None, said in the log, for inputs that are not 2-d. A grid coarser than the frames' usual one
    (a network too large to evaluate it) is said in the log too."""
    if data.X_train.shape[0] != 2:
        log.info("No animation (decision_boundary.gif): the inputs are %d-d, the animation draws 2-d ones",
                 data.X_train.shape[0])
        return None
    frames = BoundaryFrames(data.X_train, parameters, cfg["model"]["activation"], cfg["model"]["negative_slope"])
    if frames.shape[0] < FRAME_RESOLUTION:
        log.info("Animation frames on a %d x %d grid, not %d x %d: the network is too large to evaluate more "
                 "points within the grid's budget", *frames.shape, FRAME_RESOLUTION, FRAME_RESOLUTION)
    return frames


_RUN_DIR: list[Path] = []
"""The folder of the run this process writes, or wrote last."""


def run_dir_of_this_process() -> Path | None:
    """The folder :func:`run` writes in this process, or wrote last; None before any run (the
    message printed on Ctrl-C names it)."""
    return _RUN_DIR[0] if _RUN_DIR else None


def run(cfg: dict, run_dir: str | Path, *, overrides: list[str] | None = None, labels: dict | None = None,
        figures: bool = True, animation: bool = False) -> dict:
    """Run one experiment and write its run folder.

    Parameters
    ----------
    cfg : dict
        Composed configuration as plain containers (keys of :class:`nninit.app.config.Config`).
    run_dir : str or Path
        The run folder (created if missing).
    overrides : list of str, optional
        The command-line overrides, recorded in ``metrics.json``.
    labels : dict, optional
        ``name`` (str or None) and ``tags`` (list of str), recorded in ``metrics.json`` beside the
        config (they label a run; they are not part of what is run).
    figures : bool, default=True
        Draw the run's figures (``nninit.figures.plots.plot_run``; they can be drawn later from the folder).
    animation : bool, default=False
        Also keep ``boundary_frames.npz`` (the predicted class over the plane at up to :data:`MAX_FRAMES`
        recorded iterations) and draw ``decision_boundary.gif`` from it.

    Returns
    -------
    dict
        The content of ``metrics.json``; ``status`` is ``completed`` or ``diverged`` (a result,
        not an error). While the run is under way ``metrics.json`` says ``running``; the final
        status is written only once every file of the run folder is there, so a run stopped in the
        middle (Ctrl-C, SIGTERM, a crash) never reads ``completed``. An interrupted run is
        recorded at once, without figures (``nninit.figures.plots.plot_run`` draws them from the folder).

    Raises
    ------
    ConfigError
        Before any work, for a value outside what is accepted (``metrics.json`` then records
        status ``failed`` and the message, nothing else is written).
    KeyboardInterrupt
        After writing the folder with status ``interrupted``.
    Exception
        Whatever failed, after writing ``metrics.json`` with status ``failed`` and the error.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _RUN_DIR[:] = [run_dir.resolve()]
    t0, metrics = time.perf_counter(), _first_record(cfg, run_dir, overrides, labels)
    with drawing_backend(figures) as drawing, recorded(run_dir, metrics, t0):
        _validate(cfg, metrics)
        data = _data(cfg, run_dir, metrics)
        parameters = _initial(cfg, data, run_dir, metrics)
        result, frames = _train(cfg, data, parameters, animation)
        _save(cfg, data, result, frames, run_dir, metrics)
        if figures:
            drawing.draw(run_dir, {**metrics, "status": result.status}, animation=animation)
        metrics["status"] = result.status  # 'completed' only now that every file is there
    log.info("Run folder: %s", run_dir.resolve())
    return metrics


@contextmanager
def recorded(run_dir: Path, metrics: dict, t0: float):
    """Where a run's failures and interrupts are handled, all of them: ``metrics.json`` says
    ``running`` from the start of the block, and gets its final status when the block is left.

    - The block ends normally: the status the block set (``completed`` or ``diverged``), unless an
      interrupt came where Python could not raise it (a finalizer while drawing): ``interrupted``.
    - An interrupt (``KeyboardInterrupt``, or another error raised while one was received, e.g. an
      ImportError inside a C extension): ``interrupted``, raised on as ``KeyboardInterrupt``.
    - Any other error: ``failed``, raised on.

    ``error`` records the exception, ``finished_at`` and ``total_time_s`` (since ``t0``) the end.
    The status is set and written inside :func:`nninit.record.signals.deferred`: a second Ctrl-C
    (or a sweep's forwarded copy) is remembered, not raised, until the folder tells the truth.
    """
    try:
        runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # 'running': the folder says a run is under way
        yield
        stop_if_interrupted()  # one that came where Python could not raise it (a finalizer while drawing)
    except BaseException as error:
        with deferred():  # a second Ctrl-C here is remembered, not raised: the status must be written
            interrupted = isinstance(error, KeyboardInterrupt) or interrupt_received()
            metrics["status"] = "interrupted" if interrupted else "failed"
            metrics["error"] = f"{type(error).__name__}: {error}"
        if interrupted and not isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt from error  # it came inside a C extension (ImportError: initialization failed)
        raise
    finally:
        with deferred():
            metrics["finished_at"] = _now()
            metrics["total_time_s"] = time.perf_counter() - t0
            runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # before the drawing backend stops: a
            # second Ctrl-C while its helper stops (up to 0.5 s) must not leave the folder saying 'running'


def _first_record(cfg: dict, run_dir: Path, overrides: list[str] | None, labels: dict | None) -> dict:
    """What ``metrics.json`` says while the run is under way (status ``running``)."""
    labels = {"name": None, "tags": [], **(labels or {})}
    kept = recorded_overrides(overrides)
    log.info("Run %s%s", f"{labels['name']}: " if labels["name"] else "",
             " ".join(o for o in kept if not o.startswith("hydra")) or "with the defaults (the seed notebook's run)")
    return {"status": "running", "name": labels["name"], "tags": list(labels["tags"]), "overrides": kept,
            "config": cfg, "started_at": _now(), "environment": runfolder.environment(),
            "run_dir": str(run_dir.resolve())}


def _validate(cfg: dict, metrics: dict) -> None:
    """Check the config (:func:`nninit.app.config.validate`; raises ConfigError), and record what it runs."""
    validate(cfg)
    metrics.update({
        "init": cfg["init"]["name"],
        "seed": cfg["seed"],
        "data": cfg["data"]["name"],
        "data_seeds": {k.removesuffix("_seed"): v for k, v in cfg["data"].items() if k.endswith("_seed")},
    })


def _data(cfg: dict, run_dir: Path, metrics: dict):
    """The data set (from the data layer's cache: :func:`nninit.data.cache.cached_dataset`), saved as
    ``data.npz`` (K-class labels as class indices: :func:`nninit.data.stored_labels`); records the layer
    sizes (the output: 1 sigmoid unit for two classes, K softmax units), and warns before a run expected to be long."""
    data = cached_dataset(cfg["data"])
    layers_dims = [data.X_train.shape[0], *cfg["model"]["hidden_dims"], data.Y_train.shape[0]]
    say_if_long(cfg, layers_dims)
    metrics["layers_dims"] = layers_dims
    stored = {**vars(data), "Y_train": stored_labels(data.Y_train), "Y_test": stored_labels(data.Y_test)}
    runfolder.save_arrays(run_dir / runfolder.DATA, stored)
    return data


def _initial(cfg: dict, data, run_dir: Path, metrics: dict) -> dict[str, np.ndarray]:
    """The initial parameters (:func:`initial_parameters`), saved as ``params_init.npz``."""
    layers_dims = metrics["layers_dims"]
    parameters, info = initial_parameters(cfg, layers_dims, data.X_train)
    metrics.update(info)
    runfolder.save_arrays(run_dir / runfolder.PARAMS_INIT, parameters)
    return parameters


def _train(cfg: dict, data, parameters: dict[str, np.ndarray], animation: bool):
    """:func:`nninit.numerics.training.train` with a progress line, stopping at the first check after an
    interrupt, and, with ``animation``, the frames of :func:`snapshot_iterations` evaluated as it trains
    (:class:`nninit.figures.boundary_grid.BoundaryFrames`; None without)."""
    model, tr = cfg["model"], cfg["train"]
    frames = _frames(cfg, data, parameters) if animation else None
    snapshot_at = snapshot_iterations(tr["num_iterations"], tr["print_every"]) if frames is not None else ()
    progress = Progress(tr["num_iterations"])
    try:
        result = train(
            data.X_train, data.Y_train, parameters,
            TrainSettings(**{k: v for k, v in tr.items() if k != "diagnostics"}),
            Activation(model["activation"], model["negative_slope"]),
            records=[on_test_set(data.X_test, data.Y_test), *([diagnostics] if tr["diagnostics"] else [])],
            progress=lambda i: (stop_if_interrupted(), progress(i)),
            snapshot_at=snapshot_at, on_snapshot=frames.add if frames is not None else None, keep_snapshots=False,
        )
    finally:
        progress.close()
    return result, frames


def _save(cfg: dict, data, result, frames: BoundaryFrames | None, run_dir: Path, metrics: dict) -> None:
    """The trained parameters, the animation's frames and the history, then the numbers in ``metrics.json``
    (status still ``running``: the figures come next). An interrupted training raises KeyboardInterrupt here,
    once its files are saved: it is recorded at once, without figures (a launcher may kill the process next)."""
    runfolder.save_arrays(run_dir / runfolder.PARAMS_FINAL, result.parameters)
    if frames is not None and frames.iterations:
        runfolder.save_arrays(run_dir / runfolder.BOUNDARY_FRAMES, frames.arrays(), compressed=True)
    runfolder.write_history(run_dir / runfolder.HISTORY, result.history)
    finite = all(np.isfinite(p).all() for p in result.parameters.values())
    args = (Activation(cfg["model"]["activation"], cfg["model"]["negative_slope"]),)
    metrics.update(
        iterations_run=result.iterations_run,
        diverged_at=result.diverged_at,
        final_cost=result.history[-1]["cost"] if result.history else None,
        train_accuracy=accuracy(data.X_train, data.Y_train, result.parameters, *args) if finite else None,
        test_accuracy=accuracy(data.X_test, data.Y_test, result.parameters, *args) if finite else None,
        wall_time_s=result.wall_time,
    )
    log.info("Final cost (after %d iterations): %s", metrics["iterations_run"], metrics["final_cost"])
    log.info("Train accuracy: %s", metrics["train_accuracy"])
    log.info("Test accuracy: %s", metrics["test_accuracy"])
    if result.status == "interrupted":  # raised again as it came (its message names the signal), now recorded
        raise KeyboardInterrupt(*[result.stopped_by] if result.stopped_by else [])
    runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # the numbers, before the figures
    if result.status == "diverged":
        log.warning("Status: diverged at iteration %s (recorded as a result)", metrics["diverged_at"])
