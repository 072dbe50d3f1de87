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
experiment ``nninit``; ``tracker.experiment`` names another for both. MLflow stores an infinite
metric as the largest float; NaN is kept.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from nninit import runfolder

log = logging.getLogger(__name__)

FINAL_METRICS = ("final_cost", "train_accuracy", "test_accuracy", "iterations_run", "diverged_at", "wall_time_s",
                 "total_time_s")
"""Numbers of ``metrics.json`` logged as metrics once, at the last step."""
MLFLOW_STATUS = {"completed": "FINISHED", "diverged": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
"""nninit's run status -> MLflow's run status (a diverged run is a result, as in summaries)."""
TRACKERS = ("none", "mlflow")
"""Options of the ``tracker`` config group (``conf/tracker/<name>.yaml``)."""
DEFAULT_EXPERIMENT = "nninit"
_BATCH = 500  # metrics per MLflow log_batch call (its limit is 1000 entities)
_TAG_LENGTH = 5000  # a tag (an error message, the overrides) is cut there: MLflow refuses values over 8000


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


def track(cfg, hydra_cfg) -> None:
    """Log the job's run folder to the tracker chosen by ``cfg.tracker``; never raises.

    Called by :func:`nninit.hydra_app.task` once :func:`nninit.experiment.run` has returned or
    raised, so the folder is final. ``tracker=none`` (the default) does nothing.

    Parameters
    ----------
    cfg : DictConfig
        The job's config (its ``tracker`` node is read).
    hydra_cfg : HydraConfig
        ``runtime.output_dir`` is the run folder; in a multirun ``sweep.dir`` names the experiment.
    """
    try:
        tracker = _plain(cfg.get("tracker"))
        if tracker.get("name", "none") == "none":
            return
        from hydra.types import RunMode

        sweep_dir = str(hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
        with _quiet():
            log_run(hydra_cfg.runtime.output_dir, tracker, sweep_dir=sweep_dir)
    except Exception as error:  # noqa: BLE001 - the run is over and recorded: a tracker problem must not change it
        log.warning("tracker: the run was not logged (%s: %s); its folder is complete and unchanged",
                    type(error).__name__, _short(error))


@contextmanager
def _quiet():
    """MLflow's and its HTTP client's own log lines (a retry, a database migration) and warnings
    held back while a run is logged: a problem is said once, by :func:`track`."""
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


def log_run(run_dir: str | Path, tracker: dict, *, sweep_dir: str | None = None) -> str | None:
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

    Returns
    -------
    str or None
        The MLflow run id; None for ``tracker=none``.

    Raises
    ------
    ValueError
        For an unknown tracker name or a bad option (the message names the key and the value).
    ImportError
        When ``tracker=mlflow`` and MLflow is not installed.
    Exception
        Whatever MLflow raises (a bad URI, a server error).
    """
    name = tracker.get("name", "none")
    if name == "none":
        return None
    if name != "mlflow":
        raise ValueError(f"tracker={name!r} is not accepted: must be one of {', '.join(TRACKERS)}")
    return _log_mlflow(Path(run_dir), tracker, sweep_dir)


def _check_options(tracker: dict) -> None:
    for key in ("tracking_uri", "experiment"):
        value = tracker.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ValueError(f"tracker.{key}={value!r} is not accepted: must be null or a non-empty text")
    for key, low in (("max_retries", 0), ("timeout", 1)):
        value = tracker.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
            raise ValueError(f"tracker.{key}={value!r} is not accepted: must be null or an integer >= {low}")


@contextmanager
def store_lock(uri: str, timeout: float = 300.0):
    """Hold an exclusive lock while an sqlite store is used, so that the jobs of a parallel sweep
    (joblib) never create or write its database at the same time (MLflow creates its tables on
    first use; two processes doing so at once break it). Other stores need no lock; neither
    does a system without ``fcntl``.

    Raises
    ------
    TimeoutError
        When another process holds the lock for more than ``timeout`` seconds.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None
    if fcntl is None or not uri.startswith("sqlite:"):
        yield
        return
    digest = hashlib.sha1(f"{os.getcwd()}|{uri}".encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"nninit-mlflow-{digest}.lock", "a") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the MLflow store {uri} was locked by another job for {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def history_points(path: Path) -> dict[str, list[tuple[int, float]]]:
    """Every column of a ``history.csv`` but ``iteration`` as ``[(iteration, value), ...]``.

    Cells are read as written: an empty cell (a value not recorded at that row) is left out;
    ``nan`` and ``inf`` are kept.

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When a row has no iteration or a cell is not a number.
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    points: dict[str, list[tuple[int, float]]] = {}
    for line, row in enumerate(rows, 2):
        try:
            step = int(float(row["iteration"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: line {line} has no iteration") from None
        for key, text in row.items():
            if key in (None, "iteration") or text in (None, ""):
                continue
            points.setdefault(key, []).append((step, float(text)))
    return points


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _log_mlflow(run_dir: Path, tracker: dict, sweep_dir: str | None) -> str:
    _check_options(tracker)
    for key, variable in (("max_retries", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"), ("timeout", "MLFLOW_HTTP_REQUEST_TIMEOUT")):
        if tracker.get(key) is not None:
            os.environ[variable] = str(tracker[key])
    try:
        from mlflow.tracking import MlflowClient, get_tracking_uri
    except ImportError as error:
        raise ImportError(f"tracker=mlflow needs MLflow ({error}); install it with pip install -e \".[mlflow]\"") \
            from None
    metrics = runfolder.read_json(run_dir / runfolder.METRICS)
    uri = tracker.get("tracking_uri") or get_tracking_uri()
    with store_lock(str(uri)):
        return _log_to(MlflowClient(tracking_uri=uri), run_dir, metrics, tracker, sweep_dir)


def _log_to(client, run_dir: Path, metrics: dict, tracker: dict, sweep_dir: str | None) -> str:
    """Log the run to ``client`` (an ``MlflowClient``); the MLflow run id."""
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    from nninit.runs import flatten

    experiment = tracker.get("experiment") or (str(sweep_dir) if sweep_dir else DEFAULT_EXPERIMENT)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        try:
            experiment_id = client.create_experiment(experiment)
        except MlflowException:  # created a moment ago by another job of the sweep
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise
            experiment_id = found.experiment_id
    else:
        experiment_id = found.experiment_id

    status = str(metrics.get("status"))
    env = metrics.get("environment") or {}
    tags = {"status": status, "seed": metrics.get("seed", (metrics.get("config") or {}).get("seed")),
            "name": metrics.get("name"), "tags": ", ".join(str(t) for t in metrics.get("tags") or []),
            "init": metrics.get("init"), "overrides": " ".join(map(str, metrics.get("overrides") or [])),
            "git_commit": env.get("git_commit"), "mlflow.source.git.commit": env.get("git_commit"),
            "run_dir": str(run_dir.resolve()), "sweep_dir": str(Path(sweep_dir).resolve()) if sweep_dir else None,
            "error": metrics.get("error")}
    run = client.create_run(experiment_id, run_name=run_dir.name,
                            tags={k: str(v)[:_TAG_LENGTH] for k, v in tags.items() if v not in (None, "")})
    run_id = run.info.run_id
    try:
        params = [Param(k, json.dumps(v) if v is None or isinstance(v, bool) else str(v))
                  for k, v in flatten(metrics.get("config") or {}).items()]
        for start in range(0, len(params), 100):
            client.log_batch(run_id, params=params[start:start + 100])
        now = int(time.time() * 1000)
        try:
            history = history_points(run_dir / runfolder.HISTORY)
        except FileNotFoundError:
            history = {}
        points = [Metric(key, value, now, step) for key, series in history.items() for step, value in series]
        last = int(metrics.get("iterations_run") or 0)
        for key in FINAL_METRICS:
            value = _number(metrics.get(key))
            if value is not None:
                points.append(Metric(f"final_{key}" if key in history else key, value, now, last))
        for start in range(0, len(points), _BATCH):
            client.log_batch(run_id, metrics=points[start:start + _BATCH])
        client.log_artifacts(run_id, str(run_dir))
    except BaseException:
        try:  # say in MLflow that this record is incomplete; the error that matters is the first one
            client.set_terminated(run_id, "FAILED")
        except Exception:  # noqa: BLE001, S110
            pass
        raise
    client.set_terminated(run_id, MLFLOW_STATUS.get(status, "FAILED"))
    log.info("tracker: logged to MLflow (experiment %r, run %s)", experiment, run_id)
    return run_id
