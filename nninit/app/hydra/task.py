"""Hydra's task function (:func:`task`, which ``run.py`` wraps): one job, run in its output folder, then
logged to the tracker (:func:`track`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig

from nninit.app.config import ConfigError
from nninit.app.hydra.callbacks import refuse
from nninit.app.hydra.job import job_config, labels, resuming
from nninit.app.hydra.resume import finished_run
from nninit.app.hydra.workers import COUNTING_LAUNCHER, one_blas_thread_per_worker, running_jobs
from nninit.record.signals import block_stop_signals, unblock_stop_signals, wait_until
from nninit.record.sweep_progress import log_sweep_progress

log = logging.getLogger("nninit")


def track(cfg, hydra_cfg) -> None:
    """Log the job's run folder to the tracker chosen by ``cfg.tracker``
    (:func:`nninit.app.tracking.track_run`); never raises.

    Called by :func:`task` once :func:`nninit.app.experiment.run` has returned or raised, so the folder
    is final. ``tracker=none`` (the default) does nothing.

    Parameters
    ----------
    cfg : DictConfig or dict
        The job's config (its ``tracker`` node is read).
    hydra_cfg : HydraConfig
        ``runtime.output_dir`` is the run folder, ``runtime.cwd`` the folder the command was launched
        from (the store is resolved there); in a multirun ``sweep.dir`` names the experiment.
    """
    from nninit.app.tracking import track_run

    launch_dir = Path(hydra_cfg.runtime.cwd)
    sweep_dir = str(launch_dir / hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
    track_run(cfg.get("tracker"), hydra_cfg.runtime.output_dir, launch_dir=launch_dir, sweep_dir=sweep_dir)


OPTUNA_SWEEPER = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
OBJECTIVES = {"minimize": "final_cost", "maximize": "test_accuracy"}
"""What a job returns to Hydra's Optuna sweeper for each ``hydra.sweeper.direction``: the final training cost
to minimize, the final test accuracy to maximize."""


def objective(result: dict, sweeper) -> dict | float | list[float]:
    """The task's return value: ``result`` (the run's metrics), or, under Hydra's Optuna sweeper, the number
    it optimizes (:data:`OBJECTIVES`): a float for one ``direction``, a list for several. A run without that
    number (failed) gives NaN, which Optuna records as a failed trial.

    Parameters
    ----------
    result : dict
        What :func:`nninit.app.experiment.run` returned, or ``{'status': 'failed', ...}``.
    sweeper : DictConfig or dict or None
        ``hydra.sweeper`` (its ``_target_`` and ``direction``).
    """
    if not sweeper or sweeper.get("_target_") != OPTUNA_SWEEPER:
        return result
    direction = sweeper.get("direction") or "minimize"
    several = isinstance(direction, (list, tuple, ListConfig))
    # a direction is optuna's name or the plugin's Direction enum (its name is the word)
    values = [result.get(OBJECTIVES[getattr(d, "name", str(d))]) for d in (direction if several else [direction])]
    values = [float("nan") if v is None else float(v) for v in values]
    return values if several else values[0]


def task(cfg: DictConfig) -> dict | float | list[float]:
    """Hydra's task function: run one experiment in the job's output folder.

    In a sweep, a job that raises is logged and returned as ``{'status': 'failed'}`` (its
    ``metrics.json`` says so too), so that the other jobs and the sweep summary go on. Under Hydra's
    Optuna sweeper (``hydra/sweeper=optuna``) it returns the number the study optimizes instead
    (:func:`objective`).
    """
    # in whatever process runs the job (run.py, a joblib worker, a submitit job): Ctrl-C, SIGTERM and submitit's
    # SIGUSR2 stop the run as Ctrl-C does, so that it records 'interrupted'
    from nninit.record.signals import interrupt_on_ctrl_c, interrupt_on_scheduler_signals

    interrupt_on_ctrl_c()
    interrupt_on_scheduler_signals()
    try:
        return objective(_task(cfg), HydraConfig.get().get("sweeper"))
    finally:  # between jobs (Hydra composes the next one; a joblib worker waits) a stop signal waits
        block_stop_signals()  # for the next job, or the summary (SummarizeSweep) or the exit


def _kept_result(cfg: DictConfig, hydra_cfg) -> dict | None:
    """With ``resume=true``: the finished run the job's folder keeps, or a ``failed`` result for a folder
    that holds another config's run (a single run is refused instead); None when the job runs."""
    if not resuming(cfg):
        return None
    try:
        done = finished_run(hydra_cfg.runtime.output_dir, job_config(cfg))
    except ConfigError as error:
        if hydra_cfg.mode != RunMode.MULTIRUN:
            refuse(str(error))
        log.error("Job %s not run: %s", hydra_cfg.job.num, error)
        return {"status": "failed", "error": str(error)}
    if done is not None:
        log.info("resume: %s already holds a %s run of this config; skipped", hydra_cfg.runtime.output_dir,
                 done["status"])
    return done


def _drawing(cfg: DictConfig, single: bool) -> dict:
    """``figures`` and ``animation`` of :func:`nninit.app.experiment.run`: ``plots``' values, by default
    yes in a single run and no in a sweep; no animation without figures."""
    plots = cfg.get("plots") or {}
    figures = single if plots.get("figures") is None else bool(plots.get("figures"))
    animation = single if plots.get("animation") is None else bool(plots.get("animation"))
    return {"figures": figures, "animation": animation and figures}


def _stop_stops_all(hydra_cfg, single: bool) -> bool:
    """True when a job stopped by a stop signal stops the command: on this machine (a sweep once every running
    job has recorded). False for a cluster job stopped by its scheduler: the sweep goes on without it."""
    if single or "SUBMITIT_FOLDER" not in os.environ:
        if not single:  # the launcher stops every worker once one job raises: the others record first
            wait_until(lambda: not running_jobs(str(hydra_cfg.sweep.dir)))
        return True  # Ctrl-C on this machine stops the sweep
    # a cluster job stopped by its time limit or scancel: recorded 'interrupted' in its folder; returning
    # lets the sweep's other jobs and its summary go on (resume=true reruns this one)
    log.warning("Job %s interrupted by the scheduler; resume=true reruns it", hydra_cfg.job.num)
    return False


def _task(cfg: DictConfig) -> dict:
    # a joblib worker starts with them held (forward_stop_signals); one pending now stops the job
    unblock_stop_signals()
    from nninit.app.experiment import run

    hydra_cfg = HydraConfig.get()
    kept = _kept_result(cfg, hydra_cfg)
    if kept is not None:
        return {**kept, "not_run": True}  # kept, not run: not counted in the sweep's progress
    single = hydra_cfg.mode != RunMode.MULTIRUN
    if not single:
        one_blas_thread_per_worker()
    try:
        result = run(job_config(cfg), hydra_cfg.runtime.output_dir, overrides=list(hydra_cfg.overrides.task),
                     labels=labels(cfg), **_drawing(cfg, single))
    except KeyboardInterrupt:
        if _stop_stops_all(hydra_cfg, single):
            raise
        result = {"status": "interrupted"}
    except Exception as error:
        if single:
            raise
        log.error("Job %s failed: %s; the sweep goes on", hydra_cfg.job.num, error,
                  exc_info=not isinstance(error, ConfigError))
        result = {"status": "failed", "error": str(error)}
    finally:
        track(cfg, hydra_cfg)  # tracker=mlflow: log the final run folder; never raises, never changes the run
    if not single and hydra_cfg.launcher.get("_target_") != COUNTING_LAUNCHER:  # that one counts in memory
        log_sweep_progress(str(hydra_cfg.sweep.dir), result.get("status"))
    return result
