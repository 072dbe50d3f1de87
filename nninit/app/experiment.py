"""One experiment, end to end: config -> data, initializer, network -> training -> run folder.

:func:`run` takes the configuration as plain containers (no Hydra objects) and can be called
from a notebook or a test as well as from ``run.py``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nninit.app.config import validate
from nninit.app.control_keys import recorded_overrides
from nninit.figures.plot_worker import FigureDrawer
from nninit.numerics.activations import Activation
from nninit.numerics.initializers import initial_parameters
from nninit.numerics.network import accuracy
from nninit.numerics.recording import diagnostics, on_test_set
from nninit.numerics.training import TrainSettings, train
from nninit.record import runfolder
from nninit.record.progress import Progress
from nninit.record.signals import deferred, interrupt_received, stop_if_interrupted

log = logging.getLogger(__name__)

def stack_snapshots(snapshots: list) -> dict[str, np.ndarray]:
    """``params_history.npz``: ``iteration`` of shape (T,) and each parameter stacked by iteration,
    e.g. ``W1`` of shape (T, n1, n0)."""
    keys = list(snapshots[0][1])
    out = {"iteration": np.array([i for i, _ in snapshots])}
    out.update({key: np.stack([params[key] for _, params in snapshots]) for key in keys})
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


MAX_FRAMES = 31
"""Frames of ``decision_boundary.gif`` at most: that many recorded iterations, evenly chosen."""
SNAPSHOT_BUDGET_BYTES = 64 * 2**20
"""Parameter snapshots (``params_history.npz``) are kept only when they fit in this."""


def snapshot_iterations(num_iterations: int, print_every: int, n_parameters: int) -> frozenset[int]:
    """Up to :data:`MAX_FRAMES` recorded iterations, evenly spread from 0 to the last, whose
    parameters are kept for the animation; none when that many copies would exceed
    :data:`SNAPSHOT_BUDGET_BYTES`. Computed from the count of recorded iterations, never by
    listing them (a run of 10¹² iterations has 10⁹ recorded rows)."""
    recorded = num_iterations // print_every + 1 + (num_iterations % print_every != 0)  # 0, p, 2p, ..., and the end

    def iteration(k: int) -> int:
        return min(k * print_every, num_iterations)

    frames = min(MAX_FRAMES, recorded)
    if frames * n_parameters * 8 > SNAPSHOT_BUDGET_BYTES:
        return frozenset()
    picks = np.unique(np.round(np.linspace(0, recorded - 1, frames)).astype(np.int64))
    return frozenset(iteration(int(k)) for k in picks)


LONG_RUN_S = 3600.0
"""A run expected to train longer than this says so, and for how long, before it starts."""
MULTIPLY_ADDS_PER_S = 3e10
"""Matrix products: one multiply-add per weight and example is 3 of them per iteration (forward,
and the two products of backward)."""
UNIT_EXAMPLES_PER_S = 5e8
"""Element-wise work (activations, masks, gradients): per unit and example, per iteration."""
SECONDS_PER_LAYER = 4e-6
"""The fixed cost of an iteration's numpy calls, per layer."""


def expected_seconds(layers_dims: list[int], n_train: int, num_iterations: int) -> float:
    """A low estimate of the training loop's duration, from the work of one iteration.

    The rates are above those measured on an idle two-core AVX-512 machine (the notebook's run,
    ``[2, 10, 5, 1]`` on 300 examples: 37 µs per iteration measured, 24 µs estimated; a
    ``[2, 1000, 1000, 1]`` network: 88 ms measured with one BLAS thread, 30 ms estimated), so that
    a run said to be long is long; recording every ``print_every`` iterations is not counted.

    Parameters
    ----------
    layers_dims : list of int
        Units per layer, input and output included.
    n_train : int
        Training examples (full-batch gradient descent: every iteration sees all of them).
    num_iterations : int
        Updates.

    Returns
    -------
    float
        Seconds.
    """
    weights = sum(n * fan_in for fan_in, n in zip(layers_dims, layers_dims[1:]))
    units = sum(layers_dims[1:])
    per_iteration = (3 * weights * n_train / MULTIPLY_ADDS_PER_S + units * n_train / UNIT_EXAMPLES_PER_S
                     + SECONDS_PER_LAYER * (len(layers_dims) - 1))
    return per_iteration * num_iterations


def _duration(seconds: float) -> str:
    """``45 min``, ``5.2 hours``, ``2,315 days``."""
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours" if seconds < 2 * 86400 else f"{seconds / 86400:,.0f} days"


def _say_if_long(cfg: dict, layers_dims: list[int]) -> None:
    """A warning, before training, for a run expected to take more than :data:`LONG_RUN_S`."""
    n_train, num_iterations = cfg["data"]["n_train"], cfg["train"]["num_iterations"]
    seconds = expected_seconds(layers_dims, n_train, num_iterations)
    if seconds > LONG_RUN_S:
        log.warning("This run is expected to take at least %s (train.num_iterations=%s, model.hidden_dims=%s, "
                    "data.n_train=%s); Ctrl-C stops it keeping what was recorded", _duration(seconds),
                    num_iterations, cfg["model"]["hidden_dims"], n_train)


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
        Also keep ``params_history.npz`` and draw ``decision_boundary.gif``.

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
    started, t0 = _now(), time.perf_counter()
    labels = {"name": None, "tags": [], **(labels or {})}
    metrics: dict = {"status": "running", "name": labels["name"], "tags": list(labels["tags"]),
                     "overrides": recorded_overrides(overrides), "config": cfg, "started_at": started,
                     "environment": runfolder.environment(), "run_dir": str(run_dir.resolve())}
    result = None
    helper = FigureDrawer(parallel=figures)  # draws the data and half the figures on another core
    log.info("Run %s%s", f"{labels['name']}: " if labels["name"] else "",
             " ".join(o for o in metrics["overrides"] if not o.startswith("hydra")) or "with the defaults (the seed notebook's run)")
    try:
        runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # 'running': the folder says a run is under way
        validate(cfg)
        model, tr = cfg["model"], cfg["train"]
        metrics.update({
            "init": cfg["init"]["name"],
            "seed": cfg["seed"],
            "data": cfg["data"]["name"],
            "data_seeds": {"train": cfg["data"]["train_seed"], "test": cfg["data"]["test_seed"]},
        })
        data = helper.dataset(cfg["data"])
        layers_dims = [data.X_train.shape[0], *model["hidden_dims"], 1]
        _say_if_long(cfg, layers_dims)
        metrics["layers_dims"] = layers_dims
        runfolder.save_arrays(run_dir / runfolder.DATA, vars(data))
        parameters, info = initial_parameters(cfg, layers_dims, data.X_train)
        metrics.update(info)
        runfolder.save_arrays(run_dir / runfolder.PARAMS_INIT, parameters)
        n_parameters = sum(p.size for p in parameters.values())
        helper.warm_up()  # matplotlib, on the other core while this one trains
        snapshot_at = snapshot_iterations(tr["num_iterations"], tr["print_every"], n_parameters) if animation else ()
        on_snapshot = None
        if snapshot_at and figures:  # the animation's frames, drawn by the helper while this process trains
            from nninit.figures.plots import run_label

            on_snapshot = helper.frames(data.X_train, data.Y_train, run_label(metrics), model["activation"],
                                        model["negative_slope"], 8 * n_parameters, len(snapshot_at))
        progress = Progress(tr["num_iterations"])
        try:
            result = train(
                data.X_train, data.Y_train, parameters,
                TrainSettings(tr["learning_rate"], tr["num_iterations"], tr["print_every"]),
                Activation(model["activation"], model["negative_slope"]),
                records=[on_test_set(data.X_test, data.Y_test), *([diagnostics] if tr["diagnostics"] else [])],
                progress=lambda i: (stop_if_interrupted(), progress(i)),
                snapshot_at=snapshot_at, on_snapshot=on_snapshot,
            )
        finally:
            progress.close()
        runfolder.save_arrays(run_dir / runfolder.PARAMS_FINAL, result.parameters)
        if result.snapshots:
            runfolder.save_arrays(run_dir / runfolder.PARAMS_HISTORY, stack_snapshots(result.snapshots))
        runfolder.write_history(run_dir / runfolder.HISTORY, result.history)
        finite = all(np.isfinite(p).all() for p in result.parameters.values())
        args = (Activation(model["activation"], model["negative_slope"]),)
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
        if result.status == "interrupted":
            raise KeyboardInterrupt  # recorded at once, without figures: a launcher may kill the process next
        runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # the numbers, before the figures
        if result.status == "diverged":
            log.warning("Status: diverged at iteration %s (recorded as a result)", metrics["diverged_at"])
        if figures:
            helper.draw(run_dir, {**metrics, "status": result.status}, animation=animation)
        stop_if_interrupted()  # one that came where Python could not raise it (a finalizer while drawing)
        metrics["status"] = result.status  # 'completed' only now that every file is there
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
            runfolder.write_json(run_dir / runfolder.METRICS, metrics)  # before stopping the helper: a second
        helper.close()  # Ctrl-C while it stops (up to 0.5 s) must not leave the folder saying 'running'
    log.info("Run folder: %s", run_dir.resolve())
    return metrics
