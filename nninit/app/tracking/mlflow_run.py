"""One run folder written as one MLflow run: its tags, params, metrics (``history.csv`` by iteration and the
final numbers) and artifacts (:func:`log_to`). Called by :func:`nninit.app.tracking.log_run`, which
resolves the store first."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
import urllib.parse
from contextlib import suppress
from pathlib import Path

from nninit.app.tracking.store import local_path, refuse_inside
from nninit.record import runfolder
from nninit.record.folder_lock import LOCK_FILE

log = logging.getLogger("nninit.app.tracking")

FINAL_METRICS = ("final_cost", "train_accuracy", "test_accuracy", "iterations_run", "diverged_at", "wall_time_s",
                 "total_time_s")
"""Numbers of ``metrics.json`` logged as metrics once, at the last step."""
MLFLOW_STATUS = {"completed": "FINISHED", "diverged": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
"""nninit's run status -> MLflow's run status (a diverged run is a result, as in summaries)."""
DEFAULT_EXPERIMENT = "nninit"
_BATCH = 500  # metrics per MLflow log_batch call (its limit is 1000 entities)
_TAG_LENGTH = 5000  # a tag (an error message, the overrides) is cut there: MLflow refuses values over 8000


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


def _experiment_id(client, experiment: str) -> str:
    """The id of the MLflow experiment named ``experiment``, created when there is none."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(experiment)
    except MlflowException:  # created a moment ago by another job of the sweep
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise
        return found.experiment_id


def _tags(metrics: dict, run_dir: Path, sweep_dir: str | None) -> dict[str, str]:
    """The MLflow tags of a run (values cut at ``_TAG_LENGTH``; empty ones left out)."""
    env = metrics.get("environment") or {}
    seed = metrics.get("seed", (metrics.get("config") or {}).get("seed"))
    tags = {"status": str(metrics.get("status")), "seed": seed,
            "name": metrics.get("name"), "tags": ", ".join(str(t) for t in metrics.get("tags") or []),
            "init": metrics.get("init"), "overrides": " ".join(map(str, metrics.get("overrides") or [])),
            "git_commit": env.get("git_commit"), "mlflow.source.git.commit": env.get("git_commit"),
            "run_dir": str(run_dir), "sweep_dir": str(Path(sweep_dir).resolve()) if sweep_dir else None,
            "error": metrics.get("error")}
    return {k: str(v)[:_TAG_LENGTH] for k, v in tags.items() if v not in (None, "")}


def _points(run_dir: Path, metrics: dict) -> list:
    """Every ``history.csv`` value by iteration and the final numbers at the last step, as MLflow ``Metric``s."""
    from mlflow.entities import Metric

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
    return points


def _log_contents(client, run_id: str, run_dir: Path, metrics: dict) -> list:
    """Params, metrics and artifacts of the run; the infinite values left out (MLflow ``Metric``)."""
    from mlflow.entities import Param

    from nninit.record.runs import flatten

    params = [Param(k, json.dumps(v) if v is None or isinstance(v, bool) else str(v))
              for k, v in flatten(metrics.get("config") or {}).items()]
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start:start + 100])
    points = _points(run_dir, metrics)
    infinite = [point for point in points if math.isinf(point.value)]
    points = [point for point in points if not math.isinf(point.value)]
    for start in range(0, len(points), _BATCH):
        client.log_batch(run_id, metrics=points[start:start + _BATCH])
    for folder, _, files in os.walk(run_dir):  # every file but the folder's lock (nninit.record.folder_lock)
        relative = os.path.relpath(folder, run_dir)
        for name in sorted(f for f in files if f != LOCK_FILE):
            client.log_artifact(run_id, os.path.join(folder, name), None if relative == "." else relative)
    return infinite


def log_to(client, run_dir: Path, metrics: dict, tracker: dict, sweep_dir: str | None) -> str:
    """Log the run to ``client`` (an ``MlflowClient``); the MLflow run id.

    Raises
    ------
    ValueError
        When the experiment's artifact location lies inside the run folder.
    Exception
        Whatever MLflow raises; the MLflow run is then marked FAILED.
    """
    experiment = tracker.get("experiment") or (str(sweep_dir) if sweep_dir else DEFAULT_EXPERIMENT)
    experiment_id = _experiment_id(client, experiment)
    artifacts = client.get_experiment(experiment_id).artifact_location
    if urllib.parse.urlsplit(artifacts).scheme in ("", "file"):  # artifacts are never copied into their own folder
        refuse_inside(Path(local_path(artifacts)), run_dir, f"artifact location of experiment {experiment!r}",
                      "choose another experiment with tracker.experiment")
    earlier = _runs_of_folder(client, experiment_id, run_dir)
    run = client.create_run(experiment_id, run_name=run_dir.name, tags=_tags(metrics, run_dir, sweep_dir))
    run_id = run.info.run_id
    try:
        infinite = _log_contents(client, run_id, run_dir, metrics)
    except BaseException:
        with suppress(Exception):  # say in MLflow that this record is incomplete; the first error is the one
            client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, MLFLOW_STATUS.get(str(metrics.get("status")), "FAILED"))
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
