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

import csv
import json
import logging
import math
import os
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

from nninit.record import runfolder
from nninit.record.folder_lock import LOCK_FILE

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

    Called by :func:`nninit.app.hydra_app.task` once :func:`nninit.app.experiment.run` has returned or
    raised, so the folder is final. ``tracker=none`` (the default) does nothing.

    Parameters
    ----------
    cfg : DictConfig
        The job's config (its ``tracker`` node is read).
    hydra_cfg : HydraConfig
        ``runtime.output_dir`` is the run folder, ``runtime.cwd`` the folder the command was launched
        from (the store is resolved there); in a multirun ``sweep.dir`` names the experiment.
    """
    try:
        tracker = _plain(cfg.get("tracker"))
        if tracker.get("name", "none") == "none":
            return
        from hydra.types import RunMode

        launch_dir = Path(hydra_cfg.runtime.cwd)
        sweep_dir = str(launch_dir / hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
        with _quiet():
            log_run(hydra_cfg.runtime.output_dir, tracker, sweep_dir=sweep_dir, launch_dir=launch_dir)
    except Exception as error:  # noqa: BLE001 - the run is over and recorded: a tracker problem must not change it
        log.warning("tracker: the run was not logged (%s: %s); its folder is complete and unchanged",
                    type(error).__name__, _short(error))


@contextmanager
def _quiet():
    """MLflow's and its HTTP client's own log lines (a retry, a database migration) and warnings
    held back while a run is logged: a problem is said once, by :func:`track`."""
    try:
        import mlflow  # noqa: F401 - imported first: importing it sets its loggers' levels
    except ImportError:  # said by log_run
        pass
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


def resolve_store(uri: str, launch_dir: Path) -> tuple[str, Path | None]:
    """A tracking URI with its relative local path made absolute against ``launch_dir``.

    Parameters
    ----------
    uri : str
        An MLflow tracking URI: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, a path or a
        ``file:`` URI (a file store), or a server (``http://...``, ``databricks``, ...).
    launch_dir : Path
        The absolute folder a relative path is read against.

    Returns
    -------
    (str, Path or None)
        The URI to give MLflow, and the path of the local store (the database file, or the folder
        of a file store); None for a server or an in-memory database.
    """
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme.split("+")[0] == "sqlite":
        from sqlalchemy.engine import make_url  # the installed SQLAlchemy decodes and encodes its own paths

        url = make_url(uri)
        if url.database in (None, "", ":memory:") or url.database.startswith("file:"):
            return uri, None
        store = launch_dir / url.database  # an absolute database path stays itself
        return url.set(database=str(store)).render_as_string(hide_password=False), store
    if scheme in ("", "file") and uri != "databricks":  # MLflow's one name of a server without a scheme
        store = launch_dir / _local_path(uri)
        return str(store), store
    return uri, None


def _local_path(uri: str) -> str:
    """The path of a plain path or a ``file:`` URI (percent-decoded)."""
    return urllib.request.url2pathname(urllib.parse.urlsplit(uri).path) if uri.startswith("file:") else uri


def _refuse_inside(path: Path, run_dir: Path, what: str, instead: str) -> None:
    """Raise when ``path`` is ``run_dir`` or lies inside it: the tracker never writes into a run folder."""
    if path.resolve().is_relative_to(run_dir):
        raise ValueError(f"the MLflow {what} {path} is inside the run folder {run_dir}, which the tracker never "
                         f"writes into; {instead}")


@contextmanager
def store_lock(store: Path | None, timeout: float = 300.0):
    """Hold an exclusive lock on a local store while it is used, so that jobs logging to it at the
    same time (a parallel sweep, runs started together from different folders) never create or
    migrate its database at once (MLflow creates its tables on first use; two processes doing so
    together break it).

    The lock is ``<store>.nninit-lock`` beside the store, an OS lock (``fcntl.flock``) released when
    its holder ends, even by ``kill -9``; its holder removes the file, so nothing is left behind. A
    server (``store`` None) needs no lock; neither does a system without ``fcntl``.

    Raises
    ------
    TimeoutError
        When another process holds the lock for more than ``timeout`` seconds.
    OSError
        When the lock file cannot be created beside the store.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None
    if fcntl is None or store is None:
        yield
        return
    path = store.with_name(store.name + ".nninit-lock")
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the MLflow store {store} was locked by another job for {timeout:.0f} s") \
                            from None
                    time.sleep(0.05)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # its holder removed this file after we opened it: lock the file that is there now
    try:
        yield
    finally:
        os.unlink(path)  # removed while held: a process waiting on this file sees it gone and retries
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


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


def _log_mlflow(run_dir: Path, tracker: dict, sweep_dir: str | None, launch_dir: Path) -> str:
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
    with _working_folder(launch_dir):  # MLflow resolves its defaults (the store, ./mlruns) in the working folder
        uri, store = resolve_store(str(tracker.get("tracking_uri") or get_tracking_uri()), launch_dir)
        if store is not None:
            _refuse_inside(store, run_dir, "store",
                           "set tracker.tracking_uri or MLFLOW_TRACKING_URI to a store outside it")
        with store_lock(store):
            if store is not None and urllib.parse.urlsplit(uri).scheme.startswith("sqlite") and not store.exists():
                create_sqlite_store(uri, store)
            return _log_to(MlflowClient(tracking_uri=uri), run_dir, metrics, tracker, sweep_dir)


def create_sqlite_store(uri: str, store: Path) -> None:
    """Create a new sqlite MLflow store all at once: MLflow builds its schema (tens of migrations) in a
    temporary database beside ``store``, which is then renamed into place. A Ctrl-C in the middle left
    a half-migrated database that MLflow could never open again ("table ... already exists"); now it
    leaves nothing. Call it holding :func:`store_lock`.

    Parameters
    ----------
    uri : str
        The store's ``sqlite:///`` URI (absolute, :func:`resolve_store`).
    store : Path
        Its database file, which does not exist yet.
    """
    from mlflow.tracking import MlflowClient
    from sqlalchemy.engine import make_url

    store.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{store.name}.", suffix=".creating", dir=store.parent)
    os.close(fd)
    os.unlink(tmp)  # a name only: MLflow creates the database
    try:
        MlflowClient(make_url(uri).set(database=tmp).render_as_string(hide_password=False)).search_experiments(
            max_results=1)  # builds the schema
        os.replace(tmp, store)
    finally:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


@contextmanager
def _working_folder(folder: Path):
    """``folder`` as the working folder for the time of the block (``contextlib.chdir`` of Python 3.11)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _log_to(client, run_dir: Path, metrics: dict, tracker: dict, sweep_dir: str | None) -> str:
    """Log the run to ``client`` (an ``MlflowClient``); the MLflow run id."""
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    from nninit.record.runs import flatten

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
    artifacts = client.get_experiment(experiment_id).artifact_location
    if urllib.parse.urlsplit(artifacts).scheme in ("", "file"):  # artifacts are never copied into their own folder
        _refuse_inside(Path(_local_path(artifacts)), run_dir, f"artifact location of experiment {experiment!r}",
                       "choose another experiment with tracker.experiment")
    earlier = _runs_of_folder(client, experiment_id, run_dir)

    status = str(metrics.get("status"))
    env = metrics.get("environment") or {}
    tags = {"status": status, "seed": metrics.get("seed", (metrics.get("config") or {}).get("seed")),
            "name": metrics.get("name"), "tags": ", ".join(str(t) for t in metrics.get("tags") or []),
            "init": metrics.get("init"), "overrides": " ".join(map(str, metrics.get("overrides") or [])),
            "git_commit": env.get("git_commit"), "mlflow.source.git.commit": env.get("git_commit"),
            "run_dir": str(run_dir), "sweep_dir": str(Path(sweep_dir).resolve()) if sweep_dir else None,
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
        infinite = [point for point in points if math.isinf(point.value)]
        points = [point for point in points if not math.isinf(point.value)]
        for start in range(0, len(points), _BATCH):
            client.log_batch(run_id, metrics=points[start:start + _BATCH])
        for folder, _, files in os.walk(run_dir):  # every file but the folder's lock (nninit.record.folder_lock)
            relative = os.path.relpath(folder, run_dir)
            for name in sorted(f for f in files if f != LOCK_FILE):
                client.log_artifact(run_id, os.path.join(folder, name), None if relative == "." else relative)
    except BaseException:
        try:  # say in MLflow that this record is incomplete; the error that matters is the first one
            client.set_terminated(run_id, "FAILED")
        except Exception:  # noqa: BLE001, S110
            pass
        raise
    client.set_terminated(run_id, MLFLOW_STATUS.get(status, "FAILED"))
    for old in earlier:  # the folder was logged before (an interrupted run, now resumed): this run replaces it
        client.delete_run(old)
    log.info("tracker: logged to MLflow (experiment %r, run %s%s)", experiment, run_id,
             f", replacing the earlier run {', '.join(earlier)} of this folder" if earlier else "")
    if infinite:
        log.warning("tracker: %d infinite value(s) not logged (MLflow would store them as the largest float): %s",
                    len(infinite), _describe(infinite))
    return run_id


def _runs_of_folder(client, experiment_id: str, run_dir: Path) -> list[str]:
    """The ids of the active MLflow runs of ``experiment_id`` logged from ``run_dir`` before."""
    from mlflow.entities import ViewType

    text = str(run_dir)
    quote = '"' if "'" in text else "'"  # MLflow's filter has no escape: a path with both quotes is compared here only
    runs = client.search_runs([experiment_id], filter_string=f"tags.run_dir = {quote}{text}{quote}" if quote not in text
                              else "", run_view_type=ViewType.ACTIVE_ONLY)
    return [r.info.run_id for r in runs if r.data.tags.get("run_dir") == text]


def _describe(points, limit: int = 5) -> str:
    """``z_std_1 at step 40 (inf), 50 (inf)`` for each metric of ``points`` (MLflow ``Metric``), at most
    ``limit`` steps each."""
    steps: dict[str, list[str]] = {}
    for point in points:
        steps.setdefault(point.key, []).append(f"{point.step} ({point.value})")
    return "; ".join(f"{key} at step {', '.join(s[:limit])}" + (f" and {len(s) - limit} more" if len(s) > limit else "")
                     for key, s in steps.items())
