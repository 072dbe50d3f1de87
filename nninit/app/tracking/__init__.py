"""Log a finished run folder to an experiment tracker (MLflow), after the fact.

The run folder is the source of truth: a tracker reads it once the run is over, never the other
way round. Whatever goes wrong here (MLflow not installed, a bad URI, a server that does not
answer) is logged as one warning and changes nothing of the run: its status, its files and the
command's exit code stay what they were.

With ``tracker=mlflow`` each run becomes one MLflow run:

- params: the flattened config (``init.name``, ``train.learning_rate``, ``model.hidden_dims`` as
  JSON text), as in ``metrics.json``;
- metrics: every ``history.csv`` column but ``iteration``, by iteration (step = iteration; an
  empty cell is not logged), and the final numbers of ``metrics.json`` (``final_cost``,
  ``train_accuracy``, ``test_accuracy``, ``iterations_run``, ``diverged_at``, ``wall_time_s``,
  ``total_time_s``) at step ``iterations_run`` (named ``final_<name>`` when ``history.csv`` has a
  column of that name already);
- tags: ``status``, ``git_commit`` (also as ``mlflow.source.git.commit``), ``seed``, ``name``,
  ``tags`` (comma-separated), ``init``, ``overrides``, ``run_dir`` and, in a sweep, ``sweep_dir``;
  the MLflow status is FINISHED for ``completed`` and ``diverged``, FAILED, KILLED for
  ``interrupted``;
- artifacts: every file of the run folder.

A sweep is one MLflow experiment named after the sweep folder; a single run goes to the
experiment ``nninit``; ``tracker.experiment`` names another for both. NaN is logged as NaN; an
infinite value is left out with one warning naming it (MLflow would store it as the largest float).

The store (``tracker.tracking_uri``, else ``MLFLOW_TRACKING_URI``, else MLflow's default
``sqlite:///mlflow.db`` with artifacts in ``./mlruns``) is resolved against the folder the command
was launched from, never the run folder (``hydra.job.chdir=true`` runs a job inside it); a store or
an artifact location inside the run folder is refused. A folder logged again (``resume=true`` after
an interrupted run) replaces its earlier MLflow run, so that one MLflow run stands for one folder.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

from nninit.app.tracking.mlflow_run import DEFAULT_EXPERIMENT, FINAL_METRICS, MLFLOW_STATUS, history_points, log_to
from nninit.app.tracking.store import create_sqlite_store, refuse_inside, resolve_store, store_lock, working_folder
from nninit.record import runfolder

log = logging.getLogger(__name__)

TRACKERS = ("none", "mlflow")
"""Options of the ``tracker`` config group (``conf/tracker/<name>.yaml``)."""

__all__ = ["DEFAULT_EXPERIMENT", "FINAL_METRICS", "MLFLOW_STATUS", "TRACKERS", "create_sqlite_store", "history_points",
           "log_run", "resolve_store", "store_lock", "track_run"]


def _plain(node) -> dict:
    """A config node (OmegaConf or dict) as a plain dict; {} for None."""
    if node is None:
        return {}
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(node):
            return OmegaConf.to_container(node, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf comes with hydra-core
        pass
    return dict(node)



def track_run(tracker, run_dir: str | Path, *, launch_dir: str | Path, sweep_dir: str | None = None) -> None:
    """Log a finished run folder to the tracker ``tracker`` names (:func:`log_run`); never raises: a problem is
    one warning, and the run's status, files and exit code stay what they were. ``tracker=none`` (or no
    ``tracker``) does nothing.

    Called by :func:`nninit.app.hydra.task.track` once :func:`nninit.app.experiment.run` has returned or
    raised, so the folder is final.

    Parameters
    ----------
    tracker : DictConfig, dict or None
        The ``tracker`` config node.
    run_dir : str or Path
        The run folder.
    launch_dir : str or Path
        The folder the command was launched from (the store is resolved there).
    sweep_dir : str, optional
        The sweep folder, in a sweep (it names the experiment).
    """
    try:
        tracker = _plain(tracker)
        if tracker.get("name", "none") == "none":
            return
        with _quiet():
            log_run(run_dir, tracker, sweep_dir=sweep_dir, launch_dir=launch_dir)
    except Exception as error:  # noqa: BLE001 - the run is over and recorded: a tracker problem must not change it
        log.warning("tracker: the run was not logged (%s: %s); its folder is complete and unchanged",
                    type(error).__name__, _short(error))


@contextmanager
def _quiet():
    """MLflow's and its HTTP client's own log lines (a retry, a database migration) and warnings
    held back while a run is logged: a problem is said once, by :func:`track_run`."""
    with suppress(ImportError):  # said by log_run
        import mlflow  # noqa: F401 - imported first: importing it sets its loggers' levels
    loggers = [logging.getLogger(name) for name in ("mlflow", "urllib3", "alembic", "sqlalchemy")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _short(error: Exception, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def log_run(run_dir: str | Path, tracker: dict, *, sweep_dir: str | None = None,
            launch_dir: str | Path | None = None) -> str | None:
    """Log one run folder to the tracker ``tracker`` describes.

    Parameters
    ----------
    run_dir : str or Path
        A run folder whose ``metrics.json`` is final.
    tracker : dict
        The ``tracker`` config node: ``name`` (``none`` or ``mlflow``) and, for MLflow,
        ``tracking_uri`` (None: MLflow's default, which honours ``MLFLOW_TRACKING_URI``),
        ``experiment`` (None: the sweep folder, or ``nninit``), ``max_retries`` and ``timeout``
        (HTTP; None: MLflow's own).
    sweep_dir : str, optional
        The sweep folder when the run is a job of a sweep.
    launch_dir : str or Path, optional
        The folder the command was launched from (default: the working folder): a relative store
        (``sqlite:///mlflow.db``, ``./mlruns``) and MLflow's defaults are resolved there.

    Returns
    -------
    str or None
        The MLflow run id; None for ``tracker=none``.

    Raises
    ------
    ValueError
        For an unknown tracker name or a bad option (the message names the key and the value), or
        a store or artifact location inside the run folder.
    ImportError
        When ``tracker=mlflow`` and MLflow is not installed.
    Exception
        Whatever MLflow raises (a bad URI, a server error).

    Notes
    -----
    MLflow reads its defaults in the working folder, so for the time of the call the working folder
    is ``launch_dir`` (``os.chdir``, restored after): not for use from two threads at once.
    """
    name = tracker.get("name", "none")
    if name == "none":
        return None
    if name != "mlflow":
        raise ValueError(f"tracker={name!r} is not accepted: must be one of {', '.join(TRACKERS)}")
    return _log_mlflow(Path(run_dir).resolve(), tracker, sweep_dir, Path(launch_dir or os.getcwd()).resolve())


def _check_options(tracker: dict) -> None:
    for key in ("tracking_uri", "experiment"):
        value = tracker.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ValueError(f"tracker.{key}={value!r} is not accepted: must be null or a non-empty text")
    for key, low in (("max_retries", 0), ("timeout", 1)):
        value = tracker.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
            raise ValueError(f"tracker.{key}={value!r} is not accepted: must be null or an integer >= {low}")


def _log_mlflow(run_dir: Path, tracker: dict, sweep_dir: str | None, launch_dir: Path) -> str:
    _check_options(tracker)
    for key, variable in (("max_retries", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"),
                          ("timeout", "MLFLOW_HTTP_REQUEST_TIMEOUT")):
        if tracker.get(key) is not None:
            os.environ[variable] = str(tracker[key])
    try:
        from mlflow.tracking import MlflowClient, get_tracking_uri
    except ImportError as error:
        raise ImportError(f"tracker=mlflow needs MLflow ({error}); install it with pip install -e \".[mlflow]\"") \
            from None
    metrics = runfolder.read_json(run_dir / runfolder.METRICS)
    with working_folder(launch_dir):  # MLflow resolves its defaults (the store, ./mlruns) in the working folder
        uri, store = resolve_store(str(tracker.get("tracking_uri") or get_tracking_uri()), launch_dir)
        if store is not None:
            refuse_inside(store, run_dir, "store",
                           "set tracker.tracking_uri or MLFLOW_TRACKING_URI to a store outside it")
        with store_lock(store):
            if store is not None and urllib.parse.urlsplit(uri).scheme.startswith("sqlite") and not store.exists():
                create_sqlite_store(uri, store)
            return log_to(MlflowClient(tracking_uri=uri), run_dir, metrics, tracker, sweep_dir)
